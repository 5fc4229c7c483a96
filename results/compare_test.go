package results_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/results/report"
	"github.com/duckbench/duckbench/results/resultstest"
	"github.com/duckbench/duckbench/spec"
)

func findMetric(t *testing.T, c *results.Comparison, name string) results.MetricDelta {
	t.Helper()
	for _, m := range c.Metrics {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("comparison has no metric %q", name)
	return results.MetricDelta{}
}

func TestCompareKnownRegression(t *testing.T) {
	base := resultstest.SynthRun(t, "seed", 1, 1.0, 5, 6)
	slow := resultstest.SynthRun(t, "seed", 2, 1.2, 5, 6)
	c := results.Compare(base, slow, results.DefaultThresholds())
	if !c.Regression {
		var buf bytes.Buffer
		report.WriteCompareText(&buf, c)
		t.Fatalf("Compare(base, 20%% slower) found no regression:\n%s", buf.String())
	}
	p99 := findMetric(t, c, "p99")
	if !p99.Regression || p99.Test == nil || !strings.Contains(p99.Test.Method, "p99 (5 vs 5)") || p99.Verdict != results.VerdictRegression {
		t.Errorf("p99 = %+v (test %+v); want a regression tested on 5 vs 5 trials", p99, p99.Test)
	}
	// The 20 % lies inside the interval, and the interval excludes 0.
	if p99.RelLo == nil || *p99.RelLo > 0.2 || *p99.RelHi < 0.2 || *p99.RelLo <= 0 {
		t.Errorf("p99 change %v [%v, %v]; want an interval around +20%% that excludes 0", p99.RelativeChange(), p99.RelLo, p99.RelHi)
	}
	if len(c.Reasons) == 0 || !strings.Contains(c.Reasons[0], "p99 rose") || !strings.Contains(c.Reasons[0], "[") {
		t.Errorf("Reasons = %q; want the p99 named with its interval", c.Reasons)
	}
	// The reverse direction is an improvement, not a regression.
	back := results.Compare(slow, base, results.DefaultThresholds())
	if back.Regression || findMetric(t, back, "p99").Verdict != results.VerdictImprovement {
		t.Errorf("Compare(slow, base) = regression %q, p99 %q; want an improvement", back.Reasons, findMetric(t, back, "p99").Verdict)
	}
}

func TestCompareNoFalseAlarm(t *testing.T) {
	var runs []*results.Result
	for seed := uint64(11); seed < 16; seed++ {
		runs = append(runs, resultstest.SynthRun(t, "seed", seed, 1.0, 5, 6))
	}
	for i, a := range runs {
		for j, b := range runs {
			if i == j {
				continue
			}
			if c := results.Compare(a, b, results.DefaultThresholds()); c.Regression {
				t.Errorf("Compare(run %d, run %d) of the same distribution = regression: %q", i, j, c.Reasons)
			}
		}
	}
}

// One run per side: the per-second samples are not independent, so no
// test is possible and a big change is shown but never called significant.
func TestCompareSingleRunsAreUntestable(t *testing.T) {
	base := resultstest.SynthRun(t, "seed", 1, 1.0, 1, 30)
	next := resultstest.SynthRun(t, "seed", 2, 2.0, 1, 30) // twice as slow
	c := results.Compare(base, next, results.DefaultThresholds())
	p99 := findMetric(t, c, "p99")
	if c.Regression || !p99.Exceeds || p99.Significant || p99.Verdict != results.VerdictUntestable || c.MinP != 1 {
		t.Errorf("Compare = regression %v, p99 %+v, min p %v; want exceeds, untestable, min p 1", c.Regression, p99, c.MinP)
	}
	var buf bytes.Buffer
	report.WriteCompareText(&buf, c)
	for _, want := range []string{"1 vs 1 run-level", "smallest attainable p 1.000", "NO VERDICT", "--repeat 6", "not called a regression"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("WriteCompareText lacks %q:\n%s", want, buf.String())
		}
	}
}

// trialRun is a run of n trials whose values are spread by ±1 % around
// the given totals (so n ≥ 4 vs 4 is fully separated from a run 5 % away).
func trialRun(n int, p99, throughput float64, requests, errors uint64) *results.Result {
	r := &results.Result{Spec: results.SpecInfo{Name: "s"}, Summary: results.Summary{
		Requests: requests, Success: requests - errors, Errors: errors,
		SuccessRatio: float64(requests-errors) / float64(requests), Throughput: throughput,
		Latency: results.Quantiles{P99: p99}}}
	for i := 0; i < n; i++ {
		f := 1 + 0.01*(float64(i)/float64(max(n-1, 1))-0.5)*2
		s := r.Summary
		s.Throughput, s.Latency.P99 = throughput*f, p99*f
		r.Trials = append(r.Trials, results.Trial{Index: i + 1, Summary: s})
	}
	return r
}

func TestCompareThresholds(t *testing.T) {
	th := results.DefaultThresholds()
	tests := []struct {
		name             string
		base, new        *results.Result
		th               results.Thresholds
		metric           string
		exceeds, regress bool
	}{
		{"p99 +10% is allowed", trialRun(4, 0.010, 500, 10000, 0), trialRun(4, 0.011, 500, 10000, 0), th, "p99", false, false},
		{"p99 +11% regresses", trialRun(4, 0.010, 500, 10000, 0), trialRun(4, 0.0111, 500, 10000, 0), th, "p99", true, true},
		{"p99 +11% at 3 vs 3 trials cannot", trialRun(3, 0.010, 500, 10000, 0), trialRun(3, 0.0111, 500, 10000, 0), th, "p99", true, false},
		{"p99 +11% within a 20% threshold", trialRun(4, 0.010, 500, 10000, 0), trialRun(4, 0.0111, 500, 10000, 0),
			results.Thresholds{MaxP99Regression: 0.2}, "p99", false, false},
		{"p99 lower is fine", trialRun(4, 0.010, 500, 10000, 0), trialRun(4, 0.005, 500, 10000, 0), th, "p99", false, false},
		{"throughput -5% is allowed", trialRun(4, 0.01, 500, 10000, 0), trialRun(4, 0.01, 475, 10000, 0), th, "throughput", false, false},
		{"throughput -6% regresses", trialRun(4, 0.01, 500, 10000, 0), trialRun(4, 0.01, 470, 10000, 0), th, "throughput", true, true},
		{"throughput up is fine", trialRun(4, 0.01, 470, 10000, 0), trialRun(4, 0.01, 500, 10000, 0), th, "throughput", false, false},
		{"error rate 0.1% is allowed", trialRun(1, 0.01, 500, 100000, 0), trialRun(1, 0.01, 500, 100000, 100), th, "error rate", false, false},
		{"error rate 0.2% regresses", trialRun(6, 0.01, 500, 100000, 0), trialRun(6, 0.01, 500, 100000, 200), th, "error rate", true, true},
		{"error rate 0.2% in 1 vs 1 run cannot be judged per run", trialRun(1, 0.01, 500, 100000, 0), trialRun(1, 0.01, 500, 100000, 200), th, "error rate", true, false},
		{"error rate 0.2% over few requests is not significant", trialRun(1, 0.01, 500, 1000, 0), trialRun(1, 0.01, 500, 1000, 2), th, "error rate", true, false},
		{"error rate 4 of 3000 is not significant (fisher p 0.125)", trialRun(1, 0.01, 500, 3000, 0), trialRun(1, 0.01, 500, 3000, 4), th, "error rate", true, false},
		{"error rate already high in base", trialRun(1, 0.01, 500, 100000, 500), trialRun(1, 0.01, 500, 100000, 400), th, "error rate", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := results.Compare(tt.base, tt.new, tt.th)
			m := findMetric(t, c, tt.metric)
			if m.Exceeds != tt.exceeds || m.Regression != tt.regress || c.Regression != tt.regress {
				t.Errorf("Compare: %s exceeds %v regression %v (comparison %v, test %+v); want exceeds %v regression %v",
					tt.metric, m.Exceeds, m.Regression, c.Regression, m.Test, tt.exceeds, tt.regress)
			}
		})
	}
}

func TestCompareRelativeAndDefaults(t *testing.T) {
	c := results.Compare(trialRun(1, 0.010, 500, 1000, 0), trialRun(1, 0.012, 400, 1000, 0), results.Thresholds{})
	if c.Thresholds != results.DefaultThresholds() {
		t.Errorf("Thresholds = %+v; want defaults %+v", c.Thresholds, results.DefaultThresholds())
	}
	p99 := findMetric(t, c, "p99")
	if p99.Relative == nil || fmt.Sprintf("%.3f", *p99.Relative) != "0.200" || fmt.Sprintf("%.4f", p99.Delta) != "0.0020" {
		t.Errorf("p99 delta %v relative %v; want 0.002 and 0.2", p99.Delta, p99.Relative)
	}
	tp := findMetric(t, c, "throughput")
	if tp.Relative == nil || fmt.Sprintf("%.3f", *tp.Relative) != "-0.200" {
		t.Errorf("throughput relative %v; want -0.2", tp.Relative)
	}
	// JSON never carries NaN or Inf.
	for _, pair := range [][2]*results.Result{{&results.Result{}, &results.Result{}}, {trialRun(1, 0.01, 500, 10, 0), trialRun(1, 0.01, 500, 10, 0)},
		{trialRun(3, 0.01, 500, 10, 0), trialRun(2, 0.01, 500, 10, 0)}} {
		if _, err := json.Marshal(results.Compare(pair[0], pair[1], results.Thresholds{})); err != nil {
			t.Errorf("json.Marshal(Compare): %v", err)
		}
	}
}

func TestThresholdsFromSpec(t *testing.T) {
	got := results.ThresholdsFromSpec(spec.Check{MaxP99Regression: 0.2, Alpha: 0.01})
	want := results.Thresholds{MaxP99Regression: 0.2, MaxThroughputDrop: results.DefaultMaxThroughputDrop, MaxErrorRate: results.DefaultMaxErrorRate, Alpha: 0.01}
	if got != want {
		t.Errorf("ThresholdsFromSpec = %+v; want %+v", got, want)
	}
}
