//go:build integration

package e2e

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunSeed is issue 4's Done-when on the local runtime: a 10s run at
// 200 req/s exits 0 with quantiles, ~10 timeline entries, an even app
// share, per-server figures that add up to the total and report.html; with slo.p99 1us the same run exits 1.
//
// It runs alone (not parallel), and its p99 SLO is looser than the seed's
// 50ms: the suite shares 2 cores with other tests, and what is checked here
// is that a passing verdict exits 0, not the machine's tail latency.
func TestRunSeed(t *testing.T) {
	need(t)
	e := newEnv(t, seedSpec(specOpts{name: "e2e-run", p99: "500ms"}))
	p := start(t, nil, e.runArgs()...)
	code := p.wait(2 * time.Minute)
	assertNoOrphans(t, e.runDir, p)
	if code != 0 {
		p.dump()
		t.Fatalf("run = exit %d; want 0", code)
	}
	out := p.stdout.String()
	for _, want := range []string{"Latencies", "99.99", "Servers (client side", "SLO: PASS", "result: ", "report: "} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	r, path := loadResult(t, e.results)
	if r.Status != "completed" {
		t.Errorf("status = %q; want completed", r.Status)
	}
	q := r.Summary.Latency
	if !(q.Min > 0 && q.P50 >= q.Min && q.P90 >= q.P50 && q.P99 >= q.P90 && q.P999 >= q.P99 && q.P9999 >= q.P999 && q.Max >= q.P9999) {
		t.Errorf("quantiles not ordered or empty: %+v", q)
	}
	if r.Histogram == "" {
		t.Error("no encoded histogram")
	}
	if n := len(r.Timeline); n < 9 || n > 12 {
		t.Errorf("timeline has %d entries; want ~10", n)
	}
	for _, sec := range r.Timeline {
		if sec.AchievedRate == 0 {
			t.Errorf("timeline second %d has no load (achieved_rate 0, target_rate %v) in a healthy constant-rate run of %d seconds", sec.T, sec.TargetRate, len(r.Timeline))
		}
	}
	// The schedule is exact: 200 req/s × 10 s is 2,000 sends, late or not
	// (±10 % here hid a lost or doubled send).
	if r.Summary.Requests != 2000 {
		t.Errorf("requests = %d; want 2000 (200 req/s × 10 s)", r.Summary.Requests)
	}
	if r.Summary.SuccessRatio < 0.99 {
		t.Errorf("success ratio = %v", r.Summary.SuccessRatio)
	}
	for _, app := range []string{"app1", "app2"} {
		if s := r.AppShare[app]; math.Abs(s-0.5) > 0.05 {
			t.Errorf("app_share[%s] = %v; want ~0.5 (%v)", app, s, r.AppShare)
		}
	}
	// Per-server latency: HAProxy names app1 and app2 on every response;
	// the servers' requests add up to the total exactly.
	var perServer uint64
	for _, sv := range r.Servers {
		perServer += sv.Summary.Requests
	}
	if perServer != r.Summary.Requests || len(r.Servers) < 2 || r.Servers[0].Server != "app1" || r.Servers[1].Server != "app2" {
		t.Errorf("servers = %d buckets summing to %d requests; want app1, app2 (and any unattributed) summing to %d", len(r.Servers), perServer, r.Summary.Requests)
	}
	if r.SLO == nil || !r.SLO.Pass {
		t.Errorf("SLO verdict = %+v; want pass", r.SLO)
	}
	if fi, err := os.Stat(filepath.Join(filepath.Dir(path), "report.html")); err != nil || fi.Size() < 1000 {
		t.Errorf("report.html: %v", err)
	}
	raw := rawResult(t, path)
	for _, k := range []string{"replication", "backends", "keyspace"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("result.json has no %q: the probes did not record the run", k)
		}
	}
	for _, rs := range r.Replication {
		if rs.HeartbeatSamples == 0 || rs.HeartbeatsLost != 0 || rs.DelayP99Seconds <= 0 || rs.DelayP99Seconds > 1 {
			t.Errorf("replication %+v: want heartbeat readings, none lost, 0 < p99 ≤ 1s on a healthy stack", rs)
		}
	}

	// The same run with an impossible p99 exits 1 (shorter: the verdict is
	// what counts).
	e2 := newEnv(t, seedSpec(specOpts{name: "e2e-run-slo", p99: "1us", duration: "3s"}))
	p2 := start(t, nil, e2.runArgs()...)
	code = p2.wait(2 * time.Minute)
	assertNoOrphans(t, e2.runDir, p2)
	if code != 1 {
		p2.dump()
		t.Fatalf("run with slo.p99 1us = exit %d; want 1", code)
	}
	if !strings.Contains(p2.stdout.String(), "SLO: FAIL") {
		t.Errorf("stdout lacks the failed verdict:\n%s", p2.stdout.String())
	}
	r2, _ := loadResult(t, e2.results)
	if r2.SLO == nil || r2.SLO.Pass {
		t.Errorf("stored verdict = %+v; want fail", r2.SLO)
	}
}
