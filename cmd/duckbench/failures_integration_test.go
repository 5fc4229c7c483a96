//go:build integration

package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/results"
)

// deniedSpec: HAProxy answers 503 to every request (not one reaches an
// app), and the SLO has a latency term only.
const deniedSpec = `version: duckbench/v1
name: all-denied
redis:
  master:
    port: auto
apps:
  - name: app1
    port: auto
haproxy:
  port: auto
  prometheus:
    port: auto
  extra:
    frontend:
      - http-request deny deny_status 503
load:
  rate: 50
  duration: 2s
  timeout: 2s
  targets:
    - path: /
slo:
  p99: 1s
`

// TestRunNoSuccessFailsLatencySLO (issue #20): a run in which no request
// succeeded printed "SLO: PASS" with p99 0 s under a latency-only SLO. A
// failed request met no latency objective: the SLO fails, exit 1.
func TestRunNoSuccessFailsLatencySLO(t *testing.T) {
	dir := itDir(t)
	specPath := writeSpec(t, dir, "denied.yaml", deniedSpec)
	res := filepath.Join(dir, "res")
	code, stdout, stderr := itRun(t, itBinary(t), "run", specPath, "--results", res, "--run-dir", filepath.Join(dir, "run"),
		"--exporter-listen", "127.0.0.1:0", "-q")
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	if code != exitCheckFail {
		t.Errorf("duckbench run exit %d; want %d (SLO failed)", code, exitCheckFail)
	}
	r, _ := onlyResult(t, res)
	if r.Summary.Requests == 0 || r.Summary.Success != 0 {
		t.Fatalf("%d requests, %d succeeded; want every request denied", r.Summary.Requests, r.Summary.Success)
	}
	if r.SLO == nil || r.SLO.Pass || len(r.SLO.Checks) != 1 || !strings.HasPrefix(r.SLO.Checks[0].Observed, "failed") {
		t.Errorf("SLO = %+v; want one p99 check, failed", r.SLO)
	}
	if !results.IsFailed(results.Latency(r.Summary).P99) {
		t.Errorf("p99 over all requests = %v; want failed", results.Latency(r.Summary).P99)
	}
}

// TestSweepRateFailingVariantNotBest (issue #20): app2 takes 50 ms a
// request, app1 5 ms; the swept HAProxy server timeout of 20 ms answers
// 504 to app2's half of the requests, so that variant's successes are
// all fast. Ranked by the successes' p99 it was named best; ranked by the
// p99 of all requests (failed) it never is, and its success ratio shows.
func TestSweepRateFailingVariantNotBest(t *testing.T) {
	dir := itDir(t)
	body := strings.Replace(sweepSpec, "{name: app1, port: auto, origin_cost: 50ms}", "{name: app1, port: auto, origin_cost: 5ms}", 1)
	specPath := writeSpec(t, dir, "sweep.yaml", body)
	res := filepath.Join(dir, "res")
	code, stdout, stderr := itRun(t, itBinary(t), "sweep", specPath, "--vary", "haproxy.timeouts.server=5s,20ms",
		"--rate", "40", "--duration", "2s", "--rounds", "2", "--cooldown", "500ms",
		"--results", res, "--run-dir", filepath.Join(dir, "run"), "--exporter-listen", "127.0.0.1:0", "-q")
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	if code != 0 {
		t.Fatalf("duckbench sweep exit %d; want 0", code)
	}
	sw := loadSweep(t, res)
	st := sw.Variants[1].Stats
	if st == nil || st.Success == nil || st.P99 == nil {
		t.Fatalf("variant #2 has no stats: %+v", st)
	}
	t.Logf("variant #2: success %s, p99 (all requests) %s; best #%d", results.FormatPercent(st.Success.Median),
		results.FormatLatency(st.P99.Median), sw.Best+1)
	if sw.Best == 1 || st.Success.Median > 0.6 || !results.IsFailed(st.P99.Median) {
		t.Errorf("best #%d, variant #2 success %v p99 %v; want #1 best, #2 about half failed, p99 failed", sw.Best+1, st.Success.Median, st.P99.Median)
	}
	if !strings.Contains(stdout, "success") || !strings.Contains(stdout, "failed") {
		t.Errorf("the sweep table lacks the success column or the failed p99")
	}
}
