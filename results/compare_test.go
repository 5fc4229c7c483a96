package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/spec"
)

func findMetric(t *testing.T, c *Comparison, name string) MetricDelta {
	t.Helper()
	for _, m := range c.Metrics {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("comparison has no metric %q", name)
	return MetricDelta{}
}

func TestCompareKnownRegression(t *testing.T) {
	for _, tc := range []struct {
		name            string
		trials, seconds int
		method          string
	}{
		{"per-second", 1, 30, "per-second p99"},
		{"per-trial", 5, 6, "per-trial p99"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := synthRun(t, "seed", 1, 1.0, tc.trials, tc.seconds)
			slow := synthRun(t, "seed", 2, 1.2, tc.trials, tc.seconds)
			c := Compare(base, slow, DefaultThresholds())
			if !c.Regression {
				var buf bytes.Buffer
				WriteCompareText(&buf, c)
				t.Fatalf("Compare(base, 20%% slower) found no regression:\n%s", buf.String())
			}
			p99 := findMetric(t, c, "p99")
			if !p99.Regression || p99.Test == nil || !strings.Contains(p99.Test.Method, tc.method) {
				t.Errorf("p99 = %+v (test %+v); want a regression tested on %s", p99, p99.Test, tc.method)
			}
			if len(c.Reasons) == 0 || !strings.Contains(c.Reasons[0], "p99 rose") {
				t.Errorf("Reasons = %q; want the p99 named", c.Reasons)
			}
			// The reverse direction is an improvement, not a regression.
			if back := Compare(slow, base, DefaultThresholds()); back.Regression {
				t.Errorf("Compare(slow, base) = regression %q; want none (it got faster)", back.Reasons)
			}
		})
	}
}

func TestCompareNoFalseAlarm(t *testing.T) {
	for _, tc := range []struct {
		name            string
		trials, seconds int
	}{{"per-second", 1, 30}, {"per-trial", 5, 6}} {
		t.Run(tc.name, func(t *testing.T) {
			var runs []*Result
			for seed := uint64(11); seed < 16; seed++ {
				runs = append(runs, synthRun(t, "seed", seed, 1.0, tc.trials, tc.seconds))
			}
			for i, a := range runs {
				for j, b := range runs {
					if i == j {
						continue
					}
					if c := Compare(a, b, DefaultThresholds()); c.Regression {
						t.Errorf("Compare(run %d, run %d) of the same distribution = regression: %q", i, j, c.Reasons)
					}
				}
			}
		})
	}
}

// A big change in the aggregate that the samples do not support is noise.
func TestCompareNotSignificantIsNoise(t *testing.T) {
	base := synthRun(t, "seed", 1, 1.0, 1, 30)
	next := synthRun(t, "seed", 1, 1.0, 1, 30) // same samples
	next.Summary.Latency.P99 *= 1.5            // but an outlier-inflated total
	c := Compare(base, next, DefaultThresholds())
	p99 := findMetric(t, c, "p99")
	if c.Regression || !p99.Exceeds || p99.Significant || status(p99) != "noise" {
		t.Errorf("Compare = regression %v, p99 %+v; want exceeds, not significant, no regression", c.Regression, p99)
	}
}

// timelineRun is a run whose per-second p99 and rate samples are fully
// separated between runs (so every test is significant) and whose totals
// are set exactly, to test threshold arithmetic alone.
func timelineRun(p99, throughput float64, requests, errors uint64, shift float64) *Result {
	r := &Result{Spec: SpecInfo{Name: "s"}, Summary: Summary{
		Requests: requests, Success: requests - errors, Errors: errors,
		SuccessRatio: float64(requests-errors) / float64(requests), Throughput: throughput,
		Latency: Quantiles{P99: p99}}}
	for i := 0; i < 10; i++ {
		r.Timeline = append(r.Timeline, Second{T: i, AchievedRate: throughput + shift*(1+float64(i)*0.01),
			P99: p99 + shift*1e-3*(1+float64(i)*0.01)})
	}
	return r
}

func TestCompareThresholds(t *testing.T) {
	th := DefaultThresholds()
	tests := []struct {
		name             string
		base, new        *Result
		th               Thresholds
		metric           string
		exceeds, regress bool
	}{
		{"p99 +10% is allowed", timelineRun(0.010, 500, 10000, 0, 0), timelineRun(0.011, 500, 10000, 0, 1), th, "p99", false, false},
		{"p99 +11% regresses", timelineRun(0.010, 500, 10000, 0, 0), timelineRun(0.0111, 500, 10000, 0, 1), th, "p99", true, true},
		{"p99 +11% within a 20% threshold", timelineRun(0.010, 500, 10000, 0, 0), timelineRun(0.0111, 500, 10000, 0, 1),
			Thresholds{MaxP99Regression: 0.2}, "p99", false, false},
		{"p99 from zero", timelineRun(0, 500, 10000, 0, 0), timelineRun(0.001, 500, 10000, 0, 1), th, "p99", true, true},
		{"p99 lower is fine", timelineRun(0.010, 500, 10000, 0, 1), timelineRun(0.005, 500, 10000, 0, 0), th, "p99", false, false},
		{"throughput -5% is allowed", timelineRun(0.01, 500, 10000, 0, 1), timelineRun(0.01, 475, 10000, 0, 0), th, "throughput", false, false},
		{"throughput -6% regresses", timelineRun(0.01, 500, 10000, 0, 1), timelineRun(0.01, 470, 10000, 0, 0), th, "throughput", true, true},
		{"throughput up is fine", timelineRun(0.01, 470, 10000, 0, 0), timelineRun(0.01, 500, 10000, 0, 1), th, "throughput", false, false},
		{"error rate 0.1% is allowed", timelineRun(0.01, 500, 100000, 0, 0), timelineRun(0.01, 500, 100000, 100, 0), th, "error rate", false, false},
		{"error rate 0.2% regresses", timelineRun(0.01, 500, 100000, 0, 0), timelineRun(0.01, 500, 100000, 200, 0), th, "error rate", true, true},
		{"error rate 0.2% over few requests is not significant", timelineRun(0.01, 500, 1000, 0, 0), timelineRun(0.01, 500, 1000, 2, 0), th, "error rate", true, false},
		{"error rate already high in base", timelineRun(0.01, 500, 100000, 500, 0), timelineRun(0.01, 500, 100000, 400, 0), th, "error rate", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Compare(tt.base, tt.new, tt.th)
			m := findMetric(t, c, tt.metric)
			if m.Exceeds != tt.exceeds || m.Regression != tt.regress || c.Regression != tt.regress {
				t.Errorf("Compare: %s exceeds %v regression %v (comparison %v, test %+v); want exceeds %v regression %v",
					tt.metric, m.Exceeds, m.Regression, c.Regression, m.Test, tt.exceeds, tt.regress)
			}
		})
	}
}

func TestCompareRelativeAndDefaults(t *testing.T) {
	c := Compare(timelineRun(0.010, 500, 1000, 0, 0), timelineRun(0.012, 400, 1000, 0, 0), Thresholds{})
	if c.Thresholds != DefaultThresholds() {
		t.Errorf("Thresholds = %+v; want defaults %+v", c.Thresholds, DefaultThresholds())
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
	if _, err := json.Marshal(Compare(&Result{}, &Result{}, Thresholds{})); err != nil {
		t.Errorf("json.Marshal(Compare of empty results): %v", err)
	}
}

func comparePair(t *testing.T) *Comparison {
	base := buildFixture(t, false)
	next := buildFixture(t, false)
	next.ID = "20261127T130000Z-seed"
	next.Summary.Latency.P99 += 0.01
	next.Summary.Latency.P50 *= 1.02
	next.Summary.Throughput *= 0.99
	for i := range next.Timeline {
		next.Timeline[i].P99 += 0.01
	}
	next.Replication[1].DelayP99Seconds = 0.0031
	next.Backends[0].ShareRatio, next.Backends[1].ShareRatio = 0.52, 0.48
	next.Caches[0].HitRatio = 0.35
	return Compare(base, next, DefaultThresholds())
}

func TestWriteCompareMarkdown(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCompareMarkdown(&buf, comparePair(t)); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".md"), buf.Bytes(), *update)
}

func TestWriteCompareText(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCompareText(&buf, comparePair(t)); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".txt"), buf.Bytes(), *update)
}

func TestThresholdsFromSpec(t *testing.T) {
	got := ThresholdsFromSpec(spec.Check{MaxP99Regression: 0.2, Alpha: 0.01})
	want := Thresholds{MaxP99Regression: 0.2, MaxThroughputDrop: DefaultMaxThroughputDrop, MaxErrorRate: DefaultMaxErrorRate, Alpha: 0.01}
	if got != want {
		t.Errorf("ThresholdsFromSpec = %+v; want %+v", got, want)
	}
}

func TestFormatBytes(t *testing.T) {
	for _, tt := range []struct {
		in   int64
		want string
	}{{0, "0B"}, {1023, "1023B"}, {1536, "1.5KiB"}, {20480, "20KiB"}, {-2048, "-2KiB"}, {5 << 30, "5GiB"}} {
		if got := FormatBytes(tt.in); got != tt.want {
			t.Errorf("FormatBytes(%d) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
