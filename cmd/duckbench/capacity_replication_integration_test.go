//go:build integration

package main

import (
	"math"
	"path/filepath"
	"testing"
)

// replicatedSpec is a master with one replica behind one app, and the
// README quick tour's SLO (max_replication_delay included).
const replicatedSpec = `version: duckbench/v1
name: cap-replicated
redis:
  master:
    port: auto
  replicas:
    - name: replica-1
      port: auto
apps:
  - name: app1
    port: auto
haproxy:
  port: auto
  prometheus:
    port: auto
probes:
  heartbeat_interval: 100ms
load:
  timeout: 2s
  targets:
    - path: /kv/{key}
slo: {p99: 200ms, success: 99%, max_replication_delay: 100ms}
`

// TestCapacityReplicationSLO: capacity with the spec's SLO, which has
// max_replication_delay, judges every step on the heartbeats published
// during it. On main each step was judged with no replica data and the
// search always said "no sustainable rate" (exit 1). Expected from the
// heartbeat's own schedule: a 2 s step at one heartbeat per 100 ms holds
// 2 s / 100 ms = 20 readings (± 3: the attack window runs to the last
// response, and a heartbeat at either edge falls in or out); the idle
// readings (first sample, cooldowns, the settle after each step) are
// reported apart.
func TestCapacityReplicationSLO(t *testing.T) {
	dir := itDir(t)
	specPath := writeSpec(t, dir, "cap.yaml", replicatedSpec)
	res := filepath.Join(dir, "res")
	code, stdout, stderr := itRun(t, itBinary(t), "capacity", specPath,
		"--start", "20", "--max-rate", "40", "--step-duration", "2s", "--cooldown", "1s", "--max-time", "60s",
		"--results", res, "--run-dir", filepath.Join(dir, "run"), "--exporter-listen", "127.0.0.1:0", "-q")
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	if code != 0 {
		t.Fatalf("duckbench capacity exit %d; want 0 (a rate found under max_replication_delay 100ms)", code)
	}
	r, path := onlyResult(t, res)
	c := r.Capacity
	if c == nil || c.Rate != 40 {
		t.Fatalf("%s: capacity %+v; want 40 req/s (--max-rate)", path, c)
	}
	for _, st := range c.Steps {
		if len(st.Replication) != 1 {
			t.Errorf("step at %g req/s: replication %+v; want replica-1's", st.Rate, st.Replication)
			continue
		}
		for _, tr := range st.Trials {
			t.Logf("  trial at %g: %s replication %+v", st.Rate, tr.Outcome, tr.Replication)
		}
		rp := st.Replication[0]
		t.Logf("step at %g req/s: %d heartbeats (expected 20 ± 3), delay p99 %.2fms", st.Rate, rp.HeartbeatSamples, rp.DelayP99Seconds*1e3)
		if math.Abs(float64(rp.HeartbeatSamples)-20) > 3 {
			t.Errorf("step at %g req/s: %d heartbeat readings; want 20 ± 3 (2 s / 100 ms)", st.Rate, rp.HeartbeatSamples)
		}
	}
	if len(r.Replication) != 1 || len(r.ReplicationIdle) != 1 || r.ReplicationIdle[0].HeartbeatSamples == 0 {
		t.Errorf("record: replication %+v, idle %+v; want the 40 req/s step's and the idle readings apart", r.Replication, r.ReplicationIdle)
	}
	if r.SLO == nil || !r.SLO.Pass {
		t.Errorf("record SLO %+v; want passed at the rate found", r.SLO)
	}
}
