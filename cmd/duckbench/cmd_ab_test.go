package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/runner"
)

func TestABBadUsage(t *testing.T) {
	p := writeSpec(t, t.TempDir(), "other.yaml", otherSpec)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"one spec without --aa", []string{p}, "ab needs OLD.yaml and NEW.yaml"},
		{"two specs with --aa", []string{p, p, "--aa"}, "--aa takes one SPEC"},
		{"no rounds", []string{p, p, "--rounds", "0"}, "--rounds: must be >= 1"},
		{"json and markdown", []string{p, p, "--json", "--markdown"}, "exclude each other"},
		{"bad rate", []string{p, p, "--rate", "fast"}, "--rate: must be a positive number"},
		{"bad alpha", []string{p, p, "--alpha", "1.5"}, "--alpha: must be between 0 and 1"},
		{"missing spec", []string{p, "nope.yaml"}, "nope.yaml"},
		// Accepted and ignored until it was refused: every run has a fresh stack.
		{"observability", []string{p, p, "--observability"}, "--observability: not with ab"},
		{"observability on compose", []string{p, p, "--runtime", "compose", "--observability"}, "--observability: not with ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"ab", "--run-dir", t.TempDir(), "--results", t.TempDir()}, tt.args...)
			code, _, stderr := captureRun(t, args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("duckbench %v: exit %d, stderr %q; want exit %d with %q", args, code, stderr, exitUsage, tt.want)
			}
		})
	}
}

// fakeBinary writes a stand-in for another duckbench build: it appends
// its arguments to log and stores result (a result.json) as a new run
// under its --results directory, as `duckbench run` does.
func fakeBinary(t *testing.T, dir, name, result, log string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	script := `#!/bin/sh
echo "$@" >> '` + log + `'
while [ $# -gt 0 ]; do
  case "$1" in --results) res="$2"; shift ;; esac
  shift
done
d="$res/run-$(date +%s%N)"
mkdir -p "$d" && cp '` + result + `' "$d/result.json"
`
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// scaledResult writes the fixture result with every latency quantile
// multiplied by k.
func scaledResult(t *testing.T, dir, name string, k float64) string {
	t.Helper()
	r, err := results.Load(filepath.Join("..", "..", "results", "testdata", "TestFixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	scale := func(q *results.Quantiles) {
		q.P50, q.P90, q.P99, q.P999, q.Max = k*q.P50, k*q.P90, k*q.P99, k*q.P999, k*q.Max
	}
	scale(&r.Summary.Latency)
	if r.Summary.AllLatency != nil { // the quantiles the verdicts judge
		all := *r.Summary.AllLatency
		scale(&all)
		r.Summary.AllLatency = &all
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestABBinaries: with --old-binary and --new-binary each side's runs are
// that build's `run` (6 a side, each with the ab's duration), and the ab
// compares what they stored: a build whose latencies are 30 % higher is a
// regression (exit 1), an identical one is not, and one spec run by two
// builds is no A/A.
func TestABBinaries(t *testing.T) {
	dir := t.TempDir()
	p := writeSpec(t, dir, "other.yaml", otherSpec)
	base := scaledResult(t, dir, "base.json", 1)
	for _, tc := range []struct {
		name     string
		k        float64
		wantCode int
	}{
		{"30 % slower build", 1.3, exitCheckFail},
		{"same figures", 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			oldLog, newLog := filepath.Join(d, "old.log"), filepath.Join(d, "new.log")
			oldBin := fakeBinary(t, d, "duckbench-base", base, oldLog)
			newBin := fakeBinary(t, d, "duckbench-pr", scaledResult(t, d, "pr.json", tc.k), newLog)
			args := []string{"ab", p, p, "--old-binary", oldBin, "--new-binary", newBin, "--cooldown", "1ms",
				"--duration", "7s", "--results", filepath.Join(d, "results"), "--run-dir", t.TempDir(), "-q"}
			code, stdout, stderr := captureRun(t, args...)
			if code != tc.wantCode {
				t.Fatalf("duckbench %v: exit %d; want %d\nstdout:\n%s\nstderr:\n%s", args, code, tc.wantCode, stdout, stderr)
			}
			if strings.Contains(stdout, "A/A") {
				t.Errorf("duckbench %v called two builds of one spec an A/A:\n%s", args, stdout)
			}
			for _, log := range []string{oldLog, newLog} {
				b, err := os.ReadFile(log)
				if err != nil {
					t.Fatal(err)
				}
				lines := strings.Split(strings.TrimSpace(string(b)), "\n")
				if len(lines) != 6 || !strings.HasPrefix(lines[0], "run "+p+" --quiet --results ") || !strings.Contains(lines[0], "--duration 7s") {
					t.Errorf("%s: %d runs, first %q; want 6 of `run %s --quiet --results DIR --duration 7s …`", filepath.Base(log), len(lines), lines[0], p)
				}
			}
		})
	}
	if code, _, stderr := captureRun(t, "ab", p, "--aa", "--old-binary", "/bin/true", "--run-dir", t.TempDir(), "--results", t.TempDir()); code != exitUsage || !strings.Contains(stderr, "--aa: not with --old-binary") {
		t.Errorf("ab --aa --old-binary: exit %d, stderr %q; want exit %d refusing it", code, stderr, exitUsage)
	}
	if code, _, stderr := captureRun(t, "ab", p, p, "--old-binary", filepath.Join(dir, "nope"), "--run-dir", t.TempDir(), "--results", t.TempDir()); code != exitUsage || !strings.Contains(stderr, "--old-binary") {
		t.Errorf("ab --old-binary nope: exit %d, stderr %q; want exit %d naming --old-binary", code, stderr, exitUsage)
	}
}

// TestBinaryRunInterrupted: an interrupted ab passes SIGINT on to the
// side's binary (not SIGKILL, which would leave its stack up) and keeps
// the partial result it stores on the way out.
func TestBinaryRunInterrupted(t *testing.T) {
	dir := t.TempDir()
	result := scaledResult(t, dir, "r.json", 1)
	bin := filepath.Join(dir, "duckbench-interruptible")
	script := `#!/bin/sh
while [ $# -gt 0 ]; do
  case "$1" in --results) res="$2"; shift ;; esac
  shift
done
sleep 30 &
pid=$!
trap 'kill $pid; mkdir -p "$res/partial" && cp '"'` + result + `'"' "$res/partial/result.json"; exit 130' INT
wait
`
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	res := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	out, err := binaryRun(bin, &abFlags{quiet: true})(ctx, nil, runner.Options{SpecPath: "x.yaml", ResultsDir: res})
	if took := time.Since(t0); took > 10*time.Second {
		t.Errorf("binaryRun returned %v after the cancel; want the child to stop on SIGINT at once", took)
	}
	if out == nil || out.Result == nil || out.Dir != filepath.Join(res, "partial") {
		t.Fatalf("binaryRun(interrupted) = %+v, %v; want the partial result it stored", out, err)
	}
	if err == nil || !strings.Contains(err.Error(), "exit status 130") {
		t.Errorf("binaryRun(interrupted) error = %v; want the child's exit 130", err)
	}
}
