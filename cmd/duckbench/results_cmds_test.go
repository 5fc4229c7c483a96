package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/results"
)

const fixturePath = "../../results/testdata/TestFixture.json"

// variant saves a copy of the fixture changed by f and returns its path.
func variant(t *testing.T, f func(r *results.Result)) string {
	t.Helper()
	r, err := results.Load(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	f(r)
	path, err := results.Save(t.TempDir(), r)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func slower(r *results.Result) {
	r.ID = "20261127T130000Z-seed"
	r.Summary.Latency.P99 *= 1.3
	if r.Summary.AllLatency != nil {
		all := *r.Summary.AllLatency
		all.P99 *= 1.3
		r.Summary.AllLatency = &all
	}
	for i := range r.Timeline {
		r.Timeline[i].P99 += 0.02
	}
	r.Trials[0].Summary = r.Summary
}

// withTrials gives r results.DefaultRounds trials, p99 at scale with a
// 1 % spread between them.
func withTrials(scale float64) func(r *results.Result) {
	return func(r *results.Result) {
		if scale != 1 {
			r.ID = "20261127T130000Z-seed"
		}
		r.Trials = nil
		for i := 0; i < results.DefaultRounds; i++ {
			s := r.Summary
			s.Latency.P99 *= scale * (1 + 0.01*float64(i))
			if s.AllLatency != nil { // the quantiles the verdicts judge
				all := *s.AllLatency
				all.P99 *= scale * (1 + 0.01*float64(i))
				s.AllLatency = &all
			}
			r.Trials = append(r.Trials, results.Trial{Index: i + 1, Summary: s})
		}
	}
}

func TestReportCmd(t *testing.T) {
	code, out, errOut := captureRun(t, "report", fixturePath)
	if code != exitOK {
		t.Fatalf("report = exit %d; want 0\n%s", code, errOut)
	}
	for _, want := range []string{"Latencies", "99.99", "Servers (client side", "app2    1747", "Replication", "SLO: FAIL"} {
		if !strings.Contains(out, want) {
			t.Errorf("report output lacks %q:\n%s", want, out)
		}
	}

	html := filepath.Join(t.TempDir(), "report.html")
	if code, _, errOut := captureRun(t, "report", filepath.Dir(fixturePath)+"/TestFixture.json", "--html", html); code != exitOK {
		t.Fatalf("report --html = exit %d\n%s", code, errOut)
	}
	data, err := os.ReadFile(html)
	if err != nil || !strings.Contains(string(data), "<svg") {
		t.Errorf("report --html wrote %d bytes, err %v; want an HTML report with charts", len(data), err)
	}

	code, out, _ = captureRun(t, "report", fixturePath, "--json")
	var r results.Result
	if code != exitOK || json.Unmarshal([]byte(out), &r) != nil || r.Spec.Name != "seed" {
		t.Errorf("report --json = exit %d, spec %q; want 0 and the record", code, r.Spec.Name)
	}
}

func TestReportCmdBadInput(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "broken.json")
	os.WriteFile(bad, []byte("{\"schema_version\": 1,\n\"id\": }"), 0o644)
	code, _, errOut := captureRun(t, "report", bad)
	if code != exitUsage || !strings.Contains(errOut, "broken.json") || !strings.Contains(errOut, "line 2") {
		t.Errorf("report broken.json = exit %d, stderr %q; want 2 naming the file and line", code, errOut)
	}
}

func TestCompareCmd(t *testing.T) {
	base, slow, slowOne := variant(t, withTrials(1)), variant(t, withTrials(1.3)), variant(t, slower)
	tests := []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"same run", []string{"compare", base, base}, exitOK, "OK: no gated metric changed significantly", ""},
		{"regression", []string{"compare", base, slow}, exitCheckFail, "REGRESSION", "regression: p99 rose"},
		{"one trial each cannot tell", []string{"compare", fixturePath, slowOne}, exitOK, "NO VERDICT", ""},
		{"threshold flag lets it pass", []string{"compare", base, slow, "--max-p99-regression", "50%"}, exitOK, "OK:", ""},
		{"fraction flag", []string{"compare", base, slow, "--max-p99-regression=0.5"}, exitOK, "+50%", ""},
		{"markdown", []string{"compare", base, slow, "--markdown"}, exitCheckFail, "| p99 |", ""},
		{"bad percent", []string{"compare", fixturePath, slow, "--max-p99-regression", "lots"}, exitUsage, "", "max-p99-regression"},
		{"bad alpha", []string{"compare", fixturePath, slow, "--alpha", "2"}, exitUsage, "", "--alpha must be between 0 and 1"},
		{"json and markdown", []string{"compare", fixturePath, slow, "--json", "--markdown"}, exitUsage, "", "exclude each other"},
		{"missing new", []string{"compare", fixturePath, "nope.json"}, exitUsage, "", `new: load result: open nope.json`},
		{"one arg", []string{"compare", fixturePath}, exitUsage, "", "accepts 2 arg(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := captureRun(t, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.err) {
				t.Errorf("%v = exit %d\nstdout %s\nstderr %s\nwant exit %d, stdout with %q, stderr with %q",
					tt.args, code, out, errOut, tt.code, tt.out, tt.err)
			}
		})
	}
}

func TestCompareCmdJSON(t *testing.T) {
	code, out, _ := captureRun(t, "compare", variant(t, withTrials(1)), variant(t, withTrials(1.3)), "--json")
	var c results.Comparison
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("compare --json output is not JSON: %v\n%s", err, out)
	}
	if code != exitCheckFail || !c.Regression || len(c.Metrics) == 0 {
		t.Errorf("compare --json = exit %d, regression %v; want 1 and a regression", code, c.Regression)
	}
}

func TestCompareCmdDifferentSpecs(t *testing.T) {
	other := variant(t, func(r *results.Result) { r.Spec.Name = "other" })
	code, _, errOut := captureRun(t, "compare", fixturePath, other)
	if code != exitUsage || !strings.Contains(errOut, `different specs: "seed"`) || !strings.Contains(errOut, "--force") {
		t.Errorf("compare of different specs = exit %d, stderr %q; want 2 and a hint at --force", code, errOut)
	}
	code, out, _ := captureRun(t, "compare", fixturePath, other, "--force")
	if code != exitOK || !strings.Contains(out, "different specs") {
		t.Errorf("compare --force = exit %d; want 0 with a warning\n%s", code, out)
	}
}

func TestBaselineCmd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "baselines")
	code, out, errOut := captureRun(t, "baseline", fixturePath, "--dir", dir)
	if code != exitOK {
		t.Fatalf("baseline = exit %d\n%s", code, errOut)
	}
	path := filepath.Join(dir, "seed.json")
	if !strings.Contains(out, path) {
		t.Errorf("baseline output %q does not name %s", out, path)
	}
	if _, err := results.Load(path); err != nil {
		t.Errorf("baseline file does not load: %v", err)
	}
	if code, _, _ := captureRun(t, "baseline", fixturePath, "--dir", dir, "--name", "seed-2cpu"); code != exitOK {
		t.Errorf("baseline --name = exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "seed-2cpu.json")); err != nil {
		t.Errorf("baseline --name: %v", err)
	}
	// The promoted baseline compares cleanly against its source.
	if code, _, errOut := captureRun(t, "compare", path, fixturePath); code != exitOK {
		t.Errorf("compare baseline source = exit %d\n%s", code, errOut)
	}
	for _, bad := range [][]string{
		{"baseline", fixturePath, "--dir", dir, "--name", "../escape"},
		{"baseline", "missing.json", "--dir", dir},
	} {
		if code, _, _ := captureRun(t, bad...); code != exitUsage {
			t.Errorf("%v = exit %d; want 2", bad, code)
		}
	}
}
