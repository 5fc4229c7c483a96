package results_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/results/report"
	"github.com/duckbench/duckbench/results/resultstest"
	"github.com/duckbench/duckbench/spec"
)

// failingSummary is requests requests whose ok successes took okLatency
// each (the rest failed), its AllLatency filled as load does it.
func failingSummary(requests, ok uint64, okLatency time.Duration) results.Summary {
	h := resultstest.NewHist()
	for range ok {
		h.RecordValue(okLatency.Microseconds())
	}
	s := results.Summary{Requests: requests, Success: ok, Errors: requests - ok,
		SuccessRatio: results.Ratio(float64(ok), float64(requests)), Latency: resultstest.QuantilesOf(h)}
	results.FillAllRequests(&s, h)
	return s
}

// The all-requests quantiles rank a failure above every success: with
// 10 % of the requests failed, p90 is the slowest success and every
// quantile above it is Failed (Gil Tene's rule); the success-only ones
// stay as they were.
func TestAllRequestQuantiles(t *testing.T) {
	s := failingSummary(1000, 900, time.Millisecond)
	q := *s.AllLatency
	if q.P50 != 0.001 || q.P90 != 0.001 || !results.IsFailed(q.P99) || !results.IsFailed(q.P999) || !results.IsFailed(q.Max) || q.Min != 0.001 {
		t.Errorf("AllLatency = %+v; want p50 = p90 = 1ms, p99 and above failed", q)
	}
	if s.Latency.P99 != 0.001 {
		t.Errorf("success-only p99 = %v; want 1ms (unchanged)", s.Latency.P99)
	}
	// p99 of 1,000 requests is the 990th: with 10 failures it is the
	// last success, with 11 the first failure.
	if q := *failingSummary(1000, 990, time.Millisecond).AllLatency; q.P99 != 0.001 || !results.IsFailed(q.P999) {
		t.Errorf("990 of 1000 ok: p99 %v, p99.9 %v; want 1ms, failed", q.P99, q.P999)
	}
	if q := *failingSummary(1000, 989, time.Millisecond).AllLatency; !results.IsFailed(q.P99) {
		t.Errorf("989 of 1000 ok: p99 %v; want failed", q.P99)
	}
	if q := *failingSummary(100, 0, 0).AllLatency; !results.IsFailed(q.P50) || !results.IsFailed(q.Min) {
		t.Errorf("no success: %+v; want every quantile failed", q)
	}
	if q := results.AllRequestQuantiles(nil, 0); q != (results.Quantiles{}) {
		t.Errorf("no requests: %+v; want zeros", q)
	}
}

// The ground truths of issue #20: a run with no success passes no
// latency-only SLO (it printed "SLO: PASS" with p99 0 s), and 10 % of the
// requests timing out at 5 s breaks p99.9 < 100 ms (it passed: the
// timeouts were not among the successes).
func TestEvaluateSLOCountsFailures(t *testing.T) {
	for _, tt := range []struct {
		name string
		s    results.Summary
		slo  spec.SLO
	}{
		{"0 of 3000 succeeded", failingSummary(3000, 0, 0), spec.SLO{P99: spec.Duration(20 * time.Millisecond)}},
		{"10% timed out", failingSummary(3000, 2700, 2*time.Millisecond), spec.SLO{P999: spec.Duration(100 * time.Millisecond)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := results.EvaluateSLO(tt.slo, &results.Result{Summary: tt.s})
			if v.Pass || len(v.Checks) != 1 || !strings.HasPrefix(v.Checks[0].Observed, "failed (") {
				t.Errorf("EvaluateSLO = %+v; want a fail observed as failed", v)
			}
		})
	}
	// A record without the field (schema 2) and with failures is judged
	// on its successes, and says so.
	old := failingSummary(3000, 2997, 2*time.Millisecond)
	old.AllLatency = nil
	v := results.EvaluateSLO(spec.SLO{P99: spec.Duration(time.Second)}, &results.Result{Summary: old})
	if !v.Pass || !strings.Contains(v.Checks[0].Observed, "successes only") {
		t.Errorf("old record: %+v; want a pass labelled successes only", v)
	}
}

// A Failed quantile survives JSON as "failed", and a schema 2 record gets
// its all-requests quantiles from its success histogram.
func TestAllRequestsJSON(t *testing.T) {
	s := failingSummary(1000, 900, time.Millisecond)
	b, err := json.Marshal(s)
	if err != nil || !strings.Contains(string(b), `"p99":"failed"`) {
		t.Fatalf("json.Marshal = %s, %v; want p99 \"failed\"", b, err)
	}
	var back results.Summary
	if err := json.Unmarshal(b, &back); err != nil || back.AllLatency == nil || *back.AllLatency != *s.AllLatency {
		t.Fatalf("json.Unmarshal = %+v, %v; want %+v", back.AllLatency, err, s.AllLatency)
	}
	if err := json.Unmarshal([]byte(`{"p99":"slow"}`), &results.Quantiles{}); err == nil {
		t.Errorf("Quantiles accepted p99 \"slow\"")
	}
	h := resultstest.NewHist()
	for range 900 {
		h.RecordValue(1000)
	}
	r := &results.Result{SchemaVersion: 2, Summary: results.Summary{Requests: 1000, Success: 900, Errors: 100, Latency: resultstest.QuantilesOf(h)}, Histogram: resultstest.Encode(t, h)}
	data, _ := json.Marshal(r)
	got, err := results.Decode(data)
	if err != nil || got.Summary.AllLatency == nil || !results.IsFailed(got.Summary.AllLatency.P99) || got.Summary.AllLatency.P90 != 0.001 {
		t.Errorf("Decode(schema 2) AllLatency = %+v, %v; want p90 1ms, p99 failed", got.Summary.AllLatency, err)
	}
}

// A comparison judges all requests: the same successes with half the
// requests failing is a p99 regression, its row reads "failed", and the
// comparison still encodes.
func TestCompareCountsFailures(t *testing.T) {
	side := func(ok uint64) results.Side {
		var s results.Side
		for range 6 {
			s.Runs = append(s.Runs, failingSummary(2000, ok, 5*time.Millisecond))
			s.Pooled.AddCounts(s.Runs[len(s.Runs)-1])
		}
		return s
	}
	c := results.CompareSides(side(2000), side(1000), results.DefaultThresholds())
	p99 := findMetric(t, c, "p99")
	var text strings.Builder
	if err := report.WriteCompareText(&text, c); err != nil {
		t.Fatal(err)
	}
	if !p99.Regression || !results.IsFailed(p99.New) || !strings.Contains(text.String(), "now failed") {
		t.Errorf("p99 = %+v; want a regression to failed, its change \"now failed\":\n%s", p99, text.String())
	}
	if _, err := json.Marshal(c); err != nil {
		t.Errorf("json.Marshal(Comparison): %v", err)
	}
}

// A rate sweep never names a variant best whose requests half fail,
// however fast its successes (it was: p99 of successes only).
func TestSweepRateFailingVariantNotBest(t *testing.T) {
	sw := &results.Sweep{Mode: results.SweepRate, Rate: 200, Vary: []results.SweepAxis{{Path: "haproxy.timeout_server", Values: []string{"5s", "1ms"}}},
		Variants: []results.SweepVariant{{Values: []string{"5s"}, Label: "a"}, {Values: []string{"1ms"}, Label: "b"}}}
	for i := range 12 {
		s := failingSummary(2000, 2000, 10*time.Millisecond)
		if i%2 == 1 {
			s = failingSummary(2000, 1000, time.Millisecond) // fast 504s
		}
		sw.Runs = append(sw.Runs, results.SweepRun{Seq: i + 1, Variant: i % 2, Status: results.StatusCompleted, Summary: s})
	}
	results.AnalyzeSweep(sw)
	if sw.Best != 0 || sw.Variants[1].Stats.Better || !sw.Variants[1].Stats.Worse {
		t.Errorf("Best = %d, variant b better %v worse %v; want the baseline best, b significantly worse", sw.Best,
			sw.Variants[1].Stats.Better, sw.Variants[1].Stats.Worse)
	}
	if got := sw.Variants[1].Stats.Success.Median; got != 0.5 {
		t.Errorf("variant b success = %v; want 0.5", got)
	}
	if _, err := json.Marshal(sw); err != nil {
		t.Errorf("json.Marshal(Sweep): %v", err)
	}
}
