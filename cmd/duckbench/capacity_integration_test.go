//go:build integration

package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/results"
)

// The integration tests of capacity and check run the real duckbench binary
// on the local runtime: every port "auto", the exporter on a free port, the
// results and the run directory in temporary folders.
//
//	go test -tags integration ./cmd/duckbench/ -run 'Capacity|Check' -v

// itBinary builds duckbench into a folder the test removes: the built-in
// apps run as `duckbench app`, which the test binary cannot stand in for.
// The build cache makes every build after the first a quick link.
func itBinary(t *testing.T) string {
	t.Helper()
	needBinaries(t)
	bin := filepath.Join(itDir(t), "duckbench")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build duckbench: %v\n%s", err, out)
	}
	return bin
}

// itDir is a short fresh directory: the HAProxy Runtime API socket lives in
// the run dir and unix socket paths are limited to 107 bytes.
func itDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "dbit-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// itRun runs the duckbench binary bin with args and returns its exit code
// and output.
func itRun(t *testing.T, bin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("duckbench %s: %v", strings.Join(args, " "), err)
	}
	return code, o.String(), e.String()
}

// onlyResult loads the one result under dir.
func onlyResult(t *testing.T, dir string) (*results.Result, string) {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "*", "result.json"))
	if len(paths) != 1 {
		t.Fatalf("%s holds %d results; want 1", dir, len(paths))
	}
	r, err := results.Load(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	return r, paths[0]
}

// rateLimit is the known capacity of rateLimitedSpec: HAProxy denies (429)
// every request once the client's request rate over the last second passes
// it. It holds whatever the CPU does, unlike a limit the apps compute, and
// the denied requests count too, so a rate above it fails clearly.
const rateLimit = 120

const rateLimitedSpec = `version: duckbench/v1
name: cap-ratelimit
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
      - stick-table type ip size 1k expire 30s store http_req_rate(1s)
      - http-request track-sc0 src
      - http-request deny deny_status 429 if { sc_http_req_rate(0) gt %d }
load:
  timeout: 2s
  targets:
    - path: /
`

func TestCapacityFindsKnownLimit(t *testing.T) {
	dir := itDir(t)
	specPath := writeSpec(t, dir, "cap.yaml", fmt.Sprintf(rateLimitedSpec, rateLimit))
	res := filepath.Join(dir, "res")
	code, stdout, stderr := itRun(t, itBinary(t), "capacity", specPath, "--slo", "success>99%",
		"--start", "25", "--step-duration", "3s", "--cooldown", "2s", "--max-time", "90s",
		"--results", res, "--run-dir", filepath.Join(dir, "run"), "--exporter-listen", "127.0.0.1:0", "-q")
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	if code != 0 {
		t.Fatalf("duckbench capacity exit %d; want 0", code)
	}
	if !strings.Contains(stdout, "capacity: ") || !strings.Contains(stdout, "bracket [") {
		t.Errorf("stdout lacks the capacity line with its bracket")
	}
	r, path := onlyResult(t, res)
	c := r.Capacity
	if c == nil {
		t.Fatalf("%s has no capacity", path)
	}
	if d := math.Abs(c.Rate-rateLimit) / rateLimit; d > 0.15 {
		t.Errorf("capacity = %g req/s; the known limit is %d (off by %.0f%%, want within 15%%)", c.Rate, rateLimit, d*100)
	}
	if c.HighBad == 0 || c.LowGood != c.Rate || c.HighBad <= c.LowGood {
		t.Errorf("bracket [%g, %g) does not hold the rate %g", c.LowGood, c.HighBad, c.Rate)
	}
	var pass, fail int
	for _, st := range c.Steps {
		switch st.Outcome {
		case "pass":
			pass++
		case "fail":
			fail++
		}
		if st.Summary.Requests == 0 {
			t.Errorf("step at %g req/s recorded no requests", st.Rate)
		}
	}
	if pass == 0 || fail == 0 {
		t.Errorf("steps %+v: want both passes and failures", c.Steps)
	}
	html, err := os.ReadFile(filepath.Join(filepath.Dir(path), "report.html"))
	if err != nil || !bytes.Contains(html, []byte("capacity-p99")) {
		t.Errorf("report.html does not chart the capacity steps (err %v)", err)
	}
}

func TestCapacityStartRateFails(t *testing.T) {
	dir := itDir(t)
	specPath := writeSpec(t, dir, "cap.yaml", fmt.Sprintf(rateLimitedSpec, 20))
	res := filepath.Join(dir, "res")
	code, stdout, stderr := itRun(t, itBinary(t), "capacity", specPath, "--slo", "success>99%",
		"--start", "100", "--step-duration", "3s", "--max-time", "30s",
		"--results", res, "--run-dir", filepath.Join(dir, "run"), "--exporter-listen", "127.0.0.1:0", "-q")
	if code != 1 {
		t.Fatalf("duckbench capacity exit %d; want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "no sustainable rate") {
		t.Errorf("stderr lacks the reason:\n%s", stderr)
	}
	r, _ := onlyResult(t, res)
	if r.Capacity == nil || len(r.Capacity.Steps) != 1 || r.Capacity.Steps[0].Outcome != "fail" {
		t.Errorf("capacity = %+v; want one failed step", r.Capacity)
	}
}
