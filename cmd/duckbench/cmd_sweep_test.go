package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sweep --dry-run checks every variant with the real programs and prints
// the design, the runs and the estimate, and runs nothing.
func TestSweepDryRun(t *testing.T) {
	needBinaries(t)
	seed, err := os.ReadFile("../../examples/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	withSection := writeSpec(t, t.TempDir(), "sweep.yaml", string(seed)+`
sweep:
  vary:
    - {path: "haproxy.backends[0].servers[*].maxconn", values: [2, 8]}
  rounds: 3
`)
	code, _, errOut := captureRun(t, "sweep", withSection, "--dry-run")
	for _, want := range []string{"#1 maxconn=2: ok", "#2 maxconn=8: ok", "grid design, 2 variant(s) (2 valid) × 3 round(s) = 6 run(s), estimated"} {
		if code != 0 || !strings.Contains(errOut, want) {
			t.Errorf("sweep --dry-run of a spec with a sweep section = exit %d; want 0 and %q in:\n%s", code, want, errOut)
		}
	}

	code, _, errOut = captureRun(t, "sweep", "../../examples/seed.yaml", "--dry-run", "--vary", "haproxy.timeouts.server=30s,1000h", "--rounds", "2")
	if code != 0 || !strings.Contains(errOut, "#2 server=1000h: INVALID: seed.yaml: check haproxy.cfg: haproxy -c: exit status 1; parsing [haproxy.cfg:") ||
		!strings.Contains(errOut, "timer overflow in argument '1000h'") || !strings.Contains(errOut, "(1 valid) × 2 round(s) = 2 run(s)") {
		t.Errorf("sweep --dry-run with a value HAProxy rejects = exit %d; want 0, the variant invalid with HAProxy's error:\n%s", code, errOut)
	}
}

// Bad usage is exit 2 with the reason, before anything runs.
func TestSweepBadUsage(t *testing.T) {
	seed := "../../examples/seed.yaml"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"sweep", seed}, "sweep needs at least one --vary"},
		{[]string{"sweep", seed, "--vary", "haproxy.maxconn"}, "want PATH=V1,V2"},
		{[]string{"sweep", seed, "--vary", "haproxy.timeouts.serve=1s", "--runtime", "local"}, `--vary: haproxy.timeouts.serve: unknown key "serve" (did you mean "server"?)`},
		{[]string{"sweep", seed, "--vary", "apps[7].port=1", "--runtime", "local"}, "apps[7]: the list has 2 item(s)"},
		{[]string{"sweep", seed, "--vary", "haproxy.maxconn=1,2", "--duration", "5s"}, "--duration is the length of a fixed-rate run"},
		{[]string{"sweep", seed, "--vary", "haproxy.maxconn=1,2", "--rounds", "0"}, "--rounds: must be >= 1"},
		{[]string{"sweep", seed, "--vary", "haproxy.maxconn=1,2", "--json", "--markdown"}, "exclude each other"},
		{[]string{"sweep", seed, "--vary", "haproxy.maxconn=1,2", "--rate", "0"}, "--rate"},
		{[]string{"sweep", filepath.Join(t.TempDir(), "none.yaml"), "--vary", "haproxy.maxconn=1"}, "read spec"},
	}
	for _, tt := range tests {
		code, _, errOut := captureRun(t, tt.args...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v = exit %d, %q; want exit 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
}
