package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/results"
)

// historyDir stores n copies of the fixture as runs of one spec, p99
// scaled by scale(i), and returns the results directory.
func historyDir(t *testing.T, n int, scale func(i int) float64) string {
	t.Helper()
	dir := t.TempDir()
	base, err := results.Load(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		r := *base
		r.StartedAt = t0.Add(time.Duration(i) * time.Hour)
		r.ID = results.NewID(r.StartedAt, r.Spec.Name)
		r.Status = results.StatusCompleted
		r.Summary.Latency.P99 = base.Summary.Latency.P99 * scale(i) * (1 + 0.005*float64(i%3))
		r.Labels = map[string]string{"commit": fmt.Sprintf("c%02d", i)}
		if _, err := results.Save(dir, &r); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestHistoryCmd(t *testing.T) {
	step := func(at int, by float64) func(int) float64 {
		return func(i int) float64 {
			if i >= at {
				return by
			}
			return 1
		}
	}
	tests := []struct {
		name     string
		scale    func(int) float64
		args     []string
		wantCode int
		want     []string
	}{
		{"regression in the newest runs", step(10, 1.3), nil, exitCheckFail, []string{"change point: +30.0 %", "label commit: c09 → c10", "REGRESSION"}},
		{"improvement", step(10, 0.7), nil, exitOK, []string{"change point: -30.0 %", "no regression"}},
		{"flat", step(99, 1), nil, exitOK, []string{"no change point in 20 runs"}},
		{"markdown", step(10, 1.3), []string{"--markdown"}, exitCheckFail, []string{"| `20261201T0900"}},
		{"json", step(10, 1.3), []string{"--json"}, exitCheckFail, []string{`"newest_regression": true`}},
		{"label filter leaves too few", step(10, 1.3), []string{"--label", "commit=c01"}, exitOK, []string{"no change point in 1 runs"}},
		{"bad metric", step(10, 1.3), []string{"--metric", "p42"}, exitUsage, nil},
		{"bad label", step(10, 1.3), []string{"--label", "nolabel"}, exitUsage, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := historyDir(t, 20, tt.scale)
			args := append([]string{"history", "--results", dir}, tt.args...)
			code, out, errOut := captureRun(t, args...)
			if code != tt.wantCode {
				t.Fatalf("history %v = exit %d; want %d\n%s%s", tt.args, code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("history %v output lacks %q:\n%s", tt.args, w, out)
				}
			}
		})
	}
}

func TestHistoryCmdHTML(t *testing.T) {
	dir := historyDir(t, 12, func(int) float64 { return 1 })
	path := filepath.Join(t.TempDir(), "h.html")
	if code, _, errOut := captureRun(t, "history", "--results", dir, "--html", path); code != exitOK {
		t.Fatalf("history --html = exit %d\n%s", code, errOut)
	}
	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(b), "<svg") {
		t.Errorf("history --html wrote %d bytes without a chart (%v)", len(b), err)
	}
}

func TestParseLabels(t *testing.T) {
	if got, err := parseLabels([]string{"commit=abc", "pr=12"}); err != nil || got["commit"] != "abc" || got["pr"] != "12" {
		t.Errorf("parseLabels = %v, %v; want commit=abc pr=12", got, err)
	}
	for _, bad := range []string{"run=x", "spec_hash=y", "no-equals", "1x=2", "a-b=c"} {
		if _, err := parseLabels([]string{bad}); err == nil {
			t.Errorf("parseLabels(%q) = nil error; want one", bad)
		}
	}
}

// TestExportFlags: the five commands that run a stack take the push flags,
// and a reserved label is a usage error before anything starts.
func TestExportFlags(t *testing.T) {
	for _, c := range []string{"run", "check", "capacity", "ab", "sweep"} {
		_, out, _ := captureRun(t, c, "--help")
		for _, f := range []string{"--remote-write", "--pushgateway", "--label"} {
			if !strings.Contains(out, f) {
				t.Errorf("%s --help lacks %s", c, f)
			}
		}
	}
	code, _, errOut := captureRun(t, "run", "../../examples/seed.yaml", "--label", "run=x")
	if code != exitUsage || !strings.Contains(errOut, "reserved") {
		t.Errorf("run --label run=x = exit %d, %q; want exit 2 naming the reserved labels", code, errOut)
	}
}
