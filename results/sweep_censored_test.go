package results_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/results/report"
)

// A censored capacity search (no step passed, timed out, generator-bound)
// is reported, never a sample: one round whose first step failed once
// gave capacity 0 and dragged a variant's median from ~1,230 to ~800
// (issue #20: medians 319 and 912 for ceilings ≈ 350 and ≈ 1,250).
func TestAnalyzeSweepCensored(t *testing.T) {
	sw := &results.Sweep{Mode: results.SweepCapacity, SLO: "p99<50ms", Vary: []results.SweepAxis{{Path: "maxconn", Values: []string{"2", "8"}}},
		Variants: []results.SweepVariant{{Values: []string{"2"}, Label: "maxconn=2"}, {Values: []string{"8"}, Label: "maxconn=8"}}}
	add := func(variant, round int, rate float64, timedOut, saturated bool) {
		c := &results.SweepSearch{Rate: rate, LowGood: rate, HighBad: rate * 1.05, TimedOut: timedOut,
			Steps: []results.SweepStep{{Rate: 50, Outcome: "pass", P99: 0.004}}}
		sw.Runs = append(sw.Runs, results.SweepRun{Seq: len(sw.Runs) + 1, Round: round, Variant: variant, Status: results.StatusCompleted,
			Capacity: c, Saturated: saturated, Summary: results.Summary{Requests: 100, Success: 100}})
	}
	for r := 1; r <= 5; r++ {
		add(0, r, 350+float64(r), false, false)
	}
	add(1, 1, 1230, false, false)
	add(1, 2, 0, false, false) // the first step failed once
	add(1, 3, 1250, false, false)
	add(1, 4, 388, true, false) // timed out
	add(1, 5, 1240, false, false)
	add(1, 6, 700, false, true) // generator-bound: a lower bound
	results.AnalyzeSweep(sw)
	st := sw.Variants[1].Stats
	if st.Censored != 3 || st.Capacity == nil || st.Capacity.N != 3 || st.Capacity.Median != 1240 {
		t.Fatalf("variant stats: censored %d, capacity %+v; want 3 censored, median 1240 of 3", st.Censored, st.Capacity)
	}
	if sw.Best != 1 {
		t.Errorf("Best = %d; want 1", sw.Best)
	}
	var buf bytes.Buffer
	if err := report.WriteSweepText(&buf, sw); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"6 (3 censored)", "round 2: no step passed (0 req/s)", "round 4: the search timed out", "round 6: the load generator could not keep up"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("sweep text lacks %q:\n%s", want, buf.String())
		}
	}
}
