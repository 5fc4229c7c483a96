//go:build integration

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
)

// The generator's recorded CPU cost checked against an independent
// reading: the duckbench process's own CPU time, which the kernel reports
// to its parent when it exits (exec.Cmd.ProcessState: wait4's rusage).
//
//	go test -tags integration ./cmd/duckbench/ -run Generator -v

// runMeasured runs bin with args and returns its output and its total CPU
// time (user + system) as its parent reads it.
func runMeasured(t *testing.T, bin string, args ...string) (code int, stdout, stderr string, cpu time.Duration) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if cmd.ProcessState == nil {
		t.Fatalf("duckbench %s: %v", strings.Join(args, " "), err)
	}
	return cmd.ProcessState.ExitCode(), o.String(), e.String(), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// TestBenchGeneratorCostMatchesProcess: `duckbench bench URL --rate max`
// against a server in this test process (so the duckbench process runs
// nothing but the attack and has no children) records a generator cost
// that is more than nothing, at most the process's whole CPU time, and
// most of it (the rest is start-up and printing); its requests are those
// the summary counts as sent.
func TestBenchGeneratorCostMatchesProcess(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	dir := itDir(t)
	bin := filepath.Join(dir, "duckbench")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build duckbench: %v\n%s", err, out)
	}
	code, stdout, stderr, total := runMeasured(t, bin, "bench", srv.URL+"/", "--rate", "max", "--duration", "3s",
		"--connections", "8", "--json", "-q")
	if code != 0 {
		t.Fatalf("duckbench bench: exit %d\n%s", code, stderr)
	}
	var rep load.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, stdout)
	}
	g := rep.Summary.Generator
	if g == nil {
		t.Fatalf("bench --json: summary has no generator cost:\n%s", stdout)
	}
	cpu := time.Duration(g.CPUSeconds * float64(time.Second))
	t.Logf("generator: %s; the process: %v CPU in all (%.0f%% of it in the attack window)",
		results.FormatGenerator(g), total, 100*cpu.Seconds()/total.Seconds())
	if cpu <= 0 {
		t.Errorf("recorded generator CPU = %v; want more than 0", cpu)
	}
	if cpu > total {
		t.Errorf("recorded generator CPU %v exceeds the whole process's %v (ProcessState)", cpu, total)
	}
	if cpu < total/2 {
		t.Errorf("recorded generator CPU %v is under half the process's %v: the window misses the attack", cpu, total)
	}
	if want := rep.Summary.Requests - rep.Summary.Unsent; g.Sent != want || want == 0 {
		t.Errorf("generator requests sent = %d; want the summary's %d", g.Sent, want)
	}
}

const generatorRunSpec = `version: duckbench/v1
name: generator-cost
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
load:
  timeout: 2s
  targets:
    - path: /
`

// TestRunRecordsGeneratorCost: a real `duckbench run` on the local runtime
// at the maximal rate records the generator's cost in its result, within
// the duckbench process's CPU time (which here also holds its waited-for
// children: the stack), and warns in the summary and the events exactly
// when the generator took more than results.GeneratorShareWarn of a core.
func TestRunRecordsGeneratorCost(t *testing.T) {
	dir := itDir(t)
	specPath := writeSpec(t, dir, "gen.yaml", generatorRunSpec)
	res := filepath.Join(dir, "res")
	code, stdout, stderr, total := runMeasured(t, itBinary(t), "run", specPath, "--runtime", "local", "--rate", "max", "--duration", "3s",
		"--results", res, "--run-dir", filepath.Join(dir, "run"), "--exporter-listen", "127.0.0.1:0", "-q")
	if code != 0 {
		t.Fatalf("duckbench run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	r, path := onlyResult(t, res)
	g := r.Summary.Generator
	if g == nil {
		t.Fatalf("%s: summary has no generator cost", path)
	}
	cpu := time.Duration(g.CPUSeconds * float64(time.Second))
	t.Logf("generator: %s; the process and its stack: %v CPU", results.FormatGenerator(g), total)
	if cpu <= 0 || cpu > total {
		t.Errorf("recorded generator CPU = %v; want more than 0 and at most the process's %v", cpu, total)
	}
	if len(r.Trials) != 1 || r.Trials[0].Summary.Generator == nil {
		t.Errorf("the trial has no generator cost")
	}
	var events int
	for _, e := range r.Events {
		if e.Kind == "generator" {
			events++
		}
	}
	warned := strings.Contains(stdout, "WARNING: the load generator took ")
	want := g.Cores > results.GeneratorShareWarn
	if warned != want || (events == 1) != want {
		t.Errorf("generator at %.3f core: summary warns %v, %d generator events; want a warning and an event: %v\n%s",
			g.Cores, warned, events, want, stdout)
	}
	if !strings.Contains(stdout, "[CPU-s, cores, req per CPU-s]") {
		t.Errorf("summary lacks the Generator row:\n%s", stdout)
	}
}
