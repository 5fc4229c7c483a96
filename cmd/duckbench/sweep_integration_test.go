//go:build integration

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/syncbuf"
	"github.com/duckbench/duckbench/results"
)

// The sweep's integration tests run the real duckbench binary on the local
// runtime (about 90 s together on the 2-core dev machine):
//
//	go test -tags integration ./cmd/duckbench/ -run Sweep -v

// sweepSpec is a stack of known capacity: two apps whose every request is
// a cache miss costing originCost (fresh keys per capacity step, a million
// of them), behind HAProxy with a per-server maxconn that the sweep varies.
// HAProxy queues what is over the limit, so the stack serves at most
// servers × maxconn / service time.
const sweepSpec = `version: duckbench/v1
name: sweep-it
redis:
  master:
    port: auto
apps:
  - {name: app1, port: auto, origin_cost: 50ms}
  - {name: app2, port: auto, origin_cost: 50ms}
haproxy:
  port: auto
  prometheus:
    port: auto
  backends:
    - name: apps
      servers: [{app: app1}, {app: app2}]
load:
  duration: 2s
  rate: 40
  timeout: 5s
  keys: {distribution: uniform, count: 1000000}
  targets:
    - path: /kv/{key}
`

// sweepOverhead is a miss's cost beyond origin_cost: a Redis GET and SET
// and the HAProxy hop (measured 0.3-1 ms here; the tolerance covers it).
const sweepOverhead = 0.0005

func loadSweep(t *testing.T, res string) *results.Sweep {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(res, "*", "sweep.json"))
	if len(paths) != 1 {
		t.Fatalf("%s holds %d sweeps; want 1", res, len(paths))
	}
	data, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	var sw results.Sweep
	if err := json.Unmarshal(data, &sw); err != nil {
		t.Fatal(err)
	}
	for _, r := range sw.Runs { // every run is stored and linked
		if _, err := os.Stat(filepath.Join(filepath.Dir(paths[0]), r.ID, "result.json")); err != nil {
			t.Errorf("run %d (%s) is not stored under the sweep: %v", r.Seq, r.ID, err)
		}
	}
	html, err := os.ReadFile(filepath.Join(filepath.Dir(paths[0]), "report.html"))
	if err != nil || (len(sw.Runs) > 0 && !strings.Contains(string(html), sw.Runs[0].ID+"/report.html")) {
		t.Errorf("report.html does not link the runs (err %v)", err)
	}
	return &sw
}

// maxconn 2 vs 8 per server, 50 ms a request: capacity ≈ 2 × maxconn /
// 50.5 ms = 79 and 317 req/s. Each search must land within 20 % of it (the
// search stops at a bracket 10 % wide, and the machine is shared), and the
// larger limit must be named best.
func TestSweepMaxconnCapacity(t *testing.T) {
	dir := itDir(t)
	specPath := writeSpec(t, dir, "sweep.yaml", sweepSpec)
	res := filepath.Join(dir, "res")
	code, stdout, stderr := itRun(t, itBinary(t), "sweep", specPath, "--vary", "haproxy.backends[0].servers[*].maxconn=2,8",
		"--slo", "p90<200ms,success>99%", "--start", "40", "--precision", "0.1", "--step-duration", "2s", "--step-cooldown", "500ms",
		"--cooldown", "1s", "--rounds", "1", "--max-time", "3m",
		"--results", res, "--run-dir", filepath.Join(dir, "run"), "--exporter-listen", "127.0.0.1:0", "-q")
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	if code != 0 {
		t.Fatalf("duckbench sweep exit %d; want 0", code)
	}
	for _, want := range []string{"grid design, 2 variant(s) (2 valid) × 1 round(s) = 2 run(s), estimated", "capacity", "best: #2 maxconn=8"} {
		if !strings.Contains(stdout+stderr, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	sw := loadSweep(t, res)
	if sw.Best != 1 {
		t.Errorf("best variant #%d; want #2 (maxconn 8)", sw.Best+1)
	}
	for i, maxconn := range []float64{2, 8} {
		st := sw.Variants[i].Stats
		if st == nil || st.Capacity == nil {
			t.Fatalf("variant #%d has no capacity", i+1)
		}
		want := 2 * maxconn / (0.050 + sweepOverhead)
		got := st.Capacity.Median
		t.Logf("GROUNDTRUTH sweep: maxconn %g: expected %.0f req/s (2 servers × %g / 50.5 ms), measured %g req/s, bracket [%g, %g)",
			maxconn, want, maxconn, got, st.LowGood, st.HighBad)
		if math.Abs(got-want)/want > 0.20 {
			t.Errorf("maxconn %g: capacity %g req/s; want %.0f ± 20%%", maxconn, got, want)
		}
	}
}

// Two equal values (the same spec twice) in four interleaved rounds at a
// fixed rate: no significant difference; a value the real HAProxy rejects
// (a timeout past its 24.8-day timer) is reported invalid, with HAProxy's
// error, and skipped.
func TestSweepEqualAndInvalid(t *testing.T) {
	dir := itDir(t)
	specPath := writeSpec(t, dir, "sweep.yaml", strings.Replace(sweepSpec, "origin_cost: 50ms", "origin_cost: 5ms", 2))
	res := filepath.Join(dir, "res")
	code, stdout, stderr := itRun(t, itBinary(t), "sweep", specPath, "--vary", "haproxy.timeouts.server=30s,30s,1000h",
		"--rate", "40", "--duration", "2s", "--rounds", "4", "--cooldown", "500ms", "--json",
		"--results", res, "--run-dir", filepath.Join(dir, "run"), "--exporter-listen", "127.0.0.1:0", "-q")
	t.Logf("stderr:\n%s", stderr)
	if code != 0 {
		t.Fatalf("duckbench sweep exit %d; want 0\nstdout:\n%s", code, stdout)
	}
	var sw results.Sweep
	if err := json.Unmarshal([]byte(stdout), &sw); err != nil {
		t.Fatalf("--json printed no sweep: %v\n%s", err, stdout)
	}
	if len(sw.Variants) != 3 || len(sw.Runs) != 8 {
		t.Fatalf("%d variants, %d runs; want 3 and 8 (the invalid variant never runs)", len(sw.Variants), len(sw.Runs))
	}
	if inv := sw.Variants[2].Invalid; !strings.Contains(inv, "timer overflow") || sw.Variants[2].Stats != nil {
		t.Errorf("variant #3 invalid = %q, stats %+v; want HAProxy's timer overflow and no runs", inv, sw.Variants[2].Stats)
	}
	if sw.Variants[0].Hash != sw.Variants[1].Hash {
		t.Errorf("equal values gave different specs (%s, %s)", sw.Variants[0].Hash, sw.Variants[1].Hash)
	}
	for _, r := range sw.Runs { // per-server client-side p99, from X-Served-By
		var n uint64
		names := map[string]bool{}
		for _, s := range r.Servers {
			n += s.Requests
			names[s.Server] = true
		}
		if !names["app1"] || !names["app2"] || n < r.Summary.Success || n > r.Summary.Requests {
			t.Errorf("run %d: servers %+v (%d requests); want app1 and app2 adding up to the run's %d successes (of %d)", r.Seq, r.Servers, n, r.Summary.Success, r.Summary.Requests)
		}
	}
	st := sw.Variants[1].Stats
	if st == nil || st.VsBaseline == nil {
		t.Fatalf("variant #2 was not compared with the baseline: %+v", st)
	}
	t.Logf("A/A: p99 %s vs %s, p=%.3f (smallest attainable %.3f)", results.FormatSeconds(sw.Variants[0].Stats.P99.Median),
		results.FormatSeconds(st.P99.Median), st.VsBaseline.P, st.VsBaseline.MinP)
	if st.VsBaseline.MinP >= sw.Alpha {
		t.Fatalf("4 vs 4 rounds cannot reach p < %g: the test could not fail", sw.Alpha)
	}
	if st.Better || strings.HasPrefix(sw.BestVerdict, "significantly") {
		t.Errorf("equal configs: variant #2 better %v, verdict %q; want no significant difference", st.Better, sw.BestVerdict)
	}
}

// Ctrl-C during the second run: exit 130, the first run kept, analysed and
// printed, the interrupted run recorded but not counted, nothing left up.
func TestSweepInterrupt(t *testing.T) {
	dir := itDir(t)
	specPath := writeSpec(t, dir, "sweep.yaml", strings.Replace(sweepSpec, "origin_cost: 50ms", "origin_cost: 5ms", 2))
	res := filepath.Join(dir, "res")
	cmd := exec.Command(itBinary(t), "sweep", specPath, "--vary", "haproxy.backends[0].balance=roundrobin,leastconn",
		"--rate", "40", "--duration", "4s", "--rounds", "2", "--cooldown", "500ms",
		"--results", res, "--run-dir", filepath.Join(dir, "run"), "--exporter-listen", "127.0.0.1:0", "-q")
	var stdout bytes.Buffer
	stderr := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(stderr.String(), "sweep run 1/4") || !strings.Contains(strings.SplitN(stderr.String(), "sweep run 1/4", 2)[1], "attacking") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the second run never started:\n%s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("sweep after SIGINT: %v; want exit 130\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	sw := loadSweep(t, res)
	if sw.Status != results.StatusInterrupted || len(sw.Runs) != 2 || sw.Runs[1].Status != results.StatusInterrupted {
		t.Fatalf("sweep status %q, %d runs; want interrupted, 2 (the second interrupted)", sw.Status, len(sw.Runs))
	}
	if st := sw.Variants[0].Stats; st == nil || st.Runs != 1 || sw.Variants[1].Stats != nil {
		t.Errorf("stats %+v / %+v; want the finished run counted, the interrupted one not", sw.Variants[0].Stats, sw.Variants[1].Stats)
	}
	if !strings.Contains(stdout.String(), "best: #1 balance=roundrobin") {
		t.Errorf("stdout lacks the answer over the finished run:\n%s", stdout.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "run", "state.json")); !os.IsNotExist(err) {
		t.Errorf("the interrupted run's stack was left up (state.json: %v)", err)
	}
}
