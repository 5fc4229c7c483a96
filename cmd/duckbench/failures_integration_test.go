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
