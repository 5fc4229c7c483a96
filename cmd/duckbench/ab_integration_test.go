//go:build integration

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/results"
)

// seedCopy writes examples/seed.yaml with every port on auto (other suites
// run stacks at the same time) and, unless originCost is "", the apps'
// origin_cost set.
func seedCopy(t *testing.T, dir, name, originCost string) string {
	t.Helper()
	data, err := os.ReadFile("../../examples/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := regexp.MustCompile(`(?m)^(\s+)port: \d+`).ReplaceAllString(string(data), "${1}port: auto")
	if originCost != "" {
		s = regexp.MustCompile(`(?m)^  - name: (app\d)$`).ReplaceAllString(s, "  - name: $1\n    origin_cost: "+originCost)
	}
	if !strings.Contains(s, "port: auto") || originCost != "" && !strings.Contains(s, "origin_cost: "+originCost) {
		t.Fatalf("seedCopy did not rewrite the seed:\n%s", s)
	}
	return writeSpec(t, dir, name, s)
}

// abArgs are short runs of 3 s each, rounds of them a side.
func abArgs(dir, a, b, tag, rounds string) []string {
	return []string{"ab", a, b, "--rounds", rounds, "--duration", "3s", "--cooldown", "500ms", "-q", "--json",
		"--exporter-listen", "127.0.0.1:0", "--results", filepath.Join(dir, "results-"+tag), "--run-dir", filepath.Join(dir, "run-"+tag)}
}

func decodeAB(t *testing.T, stdout string) *results.AB {
	t.Helper()
	var ab results.AB
	if err := json.Unmarshal([]byte(stdout), &ab); err != nil || ab.Comparison == nil {
		t.Fatalf("ab --json: %v (comparison %v)\n%s", err, ab.Comparison != nil, stdout)
	}
	return &ab
}

func metric(t *testing.T, c *results.Comparison, name string) results.MetricDelta {
	t.Helper()
	for _, m := range c.Metrics {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("no metric %q", name)
	return results.MetricDelta{}
}

// Raising the apps' origin cost from 10ms to 100ms adds 90 ms to every
// cache miss: p99 (set by misses) rises far past +10%, and ab says so with
// an interval for the change. (10ms → 30ms made p50 and p90 significantly
// worse but left p99 unresolved in one CI run: on a busy 2-core machine a
// 3 s run's p99, its top 6 requests, can stall to 80 ms on either side.)
func TestABFlagsSlowerOriginCost(t *testing.T) {
	bin := itBinary(t)
	dir := itDir(t)
	a := seedCopy(t, dir, "seed10.yaml", "10ms")
	b := seedCopy(t, dir, "seed100.yaml", "100ms")
	// The default 6 rounds: 4 (the fewest that can reach p < 0.05) need
	// complete separation, which a loaded machine's stalls can break.
	code, stdout, stderr := itRun(t, bin, abArgs(dir, a, b, "slow", "6")...)
	t.Logf("stderr (tail):\n%s", tail(stderr, 12))
	if code != 1 {
		t.Fatalf("ab seed(10ms) seed(100ms): exit %d; want 1 (load average %s)\n%s", code, loadAvg(), stdout)
	}
	ab := decodeAB(t, stdout)
	p99 := metric(t, ab.Comparison, "p99")
	if !p99.Regression || p99.RelLo == nil || *p99.RelLo <= 0 || p99.Test.NBase != 6 || p99.Test.NNew != 6 {
		t.Errorf("p99 = %+v, test %+v; want a regression over 6 vs 6 runs with an interval above 0", p99, p99.Test)
	}
	if got := strings.Join(sidesOf(ab), ""); got != "ABBAABBAABBA" {
		t.Errorf("run order %s; want ABBAABBAABBA", got)
	}
	for _, r := range ab.Runs {
		if _, err := os.Stat(filepath.Join(dir, "results-slow", ab.ID, r.ID, "result.json")); err != nil {
			t.Errorf("run %d not stored: %v", r.Seq, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "results-slow", ab.ID, "report.html")); err != nil {
		t.Errorf("no ab report: %v", err)
	}
}

// The seed against itself: no regression, exit 0, and the A/A noise table.
func TestABSeedAgainstItself(t *testing.T) {
	bin := itBinary(t)
	dir := itDir(t)
	s := seedCopy(t, dir, "seed.yaml", "")
	// α 0.01 over 6 rounds a side: an A/A is called a regression only on
	// near-complete separation, ~0.4 % of the time (4 rounds at α 0.05 is
	// complete separation, 1 in 70: it failed a CI run at p = 0.029); the
	// smallest p 6 vs 6 can reach, 0.0022, still lets the gate fire.
	code, stdout, stderr := itRun(t, bin, append(abArgs(dir, s, s, "aa", "6"), "--alpha", "0.01")...)
	t.Logf("stderr (tail):\n%s", tail(stderr, 12))
	if code != 0 {
		t.Fatalf("ab seed seed: exit %d; want 0\n%s", code, stdout)
	}
	ab := decodeAB(t, stdout)
	if !ab.AA || ab.Comparison.Regression || len(ab.Runs) != 12 {
		t.Errorf("ab = aa %v, regression %v, %d runs; want an A/A of 12 runs without regression", ab.AA, ab.Comparison.Regression, len(ab.Runs))
	}
	p99 := metric(t, ab.Comparison, "p99")
	if p99.RelLo == nil || p99.Test == nil {
		t.Fatalf("A/A p99 has no interval: %+v", p99)
	}
	t.Logf("A/A p99: change %+.3f [%+.3f, %+.3f], p %.3f, noise %.3f", *p99.Relative, *p99.RelLo, *p99.RelHi, p99.Test.P, p99.Noise)
}

func sidesOf(ab *results.AB) []string {
	var out []string
	for _, r := range ab.Runs {
		out = append(out, r.Side)
	}
	return out
}

// loadAvg is /proc/loadavg's first three fields, for failure messages: an
// overloaded machine's stalls set p99.
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}
