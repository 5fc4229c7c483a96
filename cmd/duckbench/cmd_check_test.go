package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

const otherSpec = `version: duckbench/v1
name: other
redis:
  master:
    port: auto
apps:
  - name: app1
    port: auto
haproxy:
  port: auto
`

// writeSpec writes body to dir/name and returns the path.
func writeSpec(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckRefusesBaselineOfAnotherSpec(t *testing.T) {
	p := writeSpec(t, t.TempDir(), "other.yaml", otherSpec)
	// The fixture is a result of spec "seed": the check stops before any
	// stack is started.
	code, _, stderr := captureRun(t, "check", p, "--baseline", fixturePath, "--run-dir", t.TempDir(), "--results", t.TempDir())
	if code != exitUsage {
		t.Fatalf("check with a baseline of another spec: exit %d; want %d\n%s", code, exitUsage, stderr)
	}
	for _, want := range []string{`of spec "seed", not "other"`, "duckbench baseline"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestCheckBadUsage(t *testing.T) {
	p := writeSpec(t, t.TempDir(), "other.yaml", otherSpec)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no baseline", []string{"check", p}, `required flag(s) "baseline" not set`},
		{"unreadable baseline", []string{"check", p, "--baseline", filepath.Join(t.TempDir(), "nope.json")}, "--baseline:"},
		{"json and markdown", []string{"check", p, "--baseline", fixturePath, "--json", "--markdown"}, "exclude each other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := captureRun(t, tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("duckbench %v: exit %d, stderr %q; want exit %d with %q", tt.args, code, stderr, exitUsage, tt.want)
			}
		})
	}
}

// Thresholds: a flag wins over the spec's check section, which wins over
// the defaults.
func TestCheckThresholds(t *testing.T) {
	s := &spec.Spec{Check: spec.Check{MaxP99Regression: 0.5, MaxErrorRate: 0.02}}
	f := &checkFlags{thresholdFlags: thresholdFlags{th: results.DefaultThresholds()}}
	c := checkCmd(f)
	if err := c.Flags().Parse([]string{"--max-error-rate", "1%", "--alpha", "0.01"}); err != nil {
		t.Fatal(err)
	}
	got, err := f.resolve(c, s)
	if err != nil {
		t.Fatal(err)
	}
	want := results.Thresholds{MaxP99Regression: 0.5, MaxThroughputDrop: results.DefaultMaxThroughputDrop, MaxErrorRate: 0.01, Alpha: 0.01}
	if got != want {
		t.Errorf("thresholds() = %+v; want %+v", got, want)
	}
}

func TestCapacityBadUsage(t *testing.T) {
	p := writeSpec(t, t.TempDir(), "other.yaml", otherSpec)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no SLO anywhere", nil, "no SLO: pass --slo"},
		{"bad SLO", []string{"--slo", "p99<50ms,succes>99%"}, `--slo: slo "p99<50ms,succes>99%": column 10: unknown name "succes"`},
		{"max rate below start", []string{"--slo", "p99<1s", "--start", "100", "--max-rate", "50"}, "--max-rate 50 is below --start 100"},
		{"max time too short", []string{"--slo", "p99<1s", "--max-time", "2s", "--step-duration", "5s"}, "leaves no room"},
		{"short step", []string{"--slo", "p99<1s", "--step-duration", "100ms"}, "--step-duration: must be at least 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"capacity", p, "--run-dir", t.TempDir(), "--results", t.TempDir()}, tt.args...)
			code, _, stderr := captureRun(t, args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("duckbench %v: exit %d, stderr %q; want exit %d with %q", args, code, stderr, exitUsage, tt.want)
			}
		})
	}
}
