//go:build integration

package runner

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/groundtruth"
	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

// TestGroundTruthCapacitySlowServerNoLimit: a backend that holds every
// request 300 ms, with no concurrency limit in it or in HAProxy. Under
// `p99<1s` its capacity is bounded only by the SLO or by this machine
// (its CPU, or the generator's hard cap of in-flight requests), never by
// the generator's initial worker cap: it once read 64 / 0.3 s = 213 req/s
// with every step above "the system under test could not keep up". Each
// step at or below 400 req/s needs at most 120 requests in flight (Little's
// law, from the backend's configured hold) and must pass; the search must
// find at least 400 req/s, and the step that bounds it must say what did.
func TestGroundTruthCapacitySlowServerNoLimit(t *testing.T) {
	const service = 300 * time.Millisecond
	be := groundtruth.StartBackend(t, service)
	hp := groundtruth.StartHAProxy(t, be.Addr, 0)
	var n int
	try := func(ctx context.Context, rate float64) (*load.Report, error) {
		n++
		a, err := load.New(spec.Workload{Rate: spec.Rate(rate), Duration: spec.Duration(3 * time.Second)}, hp.URL,
			load.WithKeys(int64(n), n*load.DefaultKeyCount))
		if err != nil {
			return nil, err
		}
		return a.Run(ctx)
	}
	var table strings.Builder
	cfg := CapacityConfig{
		SLO:          spec.SLO{P99: spec.Duration(time.Second)},
		Start:        100,
		StepDuration: 3 * time.Second,
		Cooldown:     500 * time.Millisecond,
		Precision:    0.1,
		MaxTime:      75 * time.Second,
		OnStep: func(st results.CapacityStep) {
			fmt.Fprintf(&table, "  %6.0f req/s  %-7s  p99 %8s  %s\n", st.Rate, st.Outcome, results.FormatSeconds(st.Summary.Latency.P99), st.Why)
		},
	}
	c, err := SearchCapacity(context.Background(), cfg, try)
	t.Logf("steps:\n%s", table.String())
	if err != nil {
		t.Fatalf("SearchCapacity: %v", err)
	}
	t.Logf("GROUNDTRUTH capacity of a 300 ms server, no limit, p99<1s: expected ≥ 400 req/s (120 in flight by Little's law), never 64/0.3 s = 213; found %.0f req/s, bracket [%.0f, %.0f), timed out %v",
		c.Rate, c.LowGood, c.HighBad, c.TimedOut)
	if c.Rate < 400 {
		t.Errorf("capacity %.0f req/s; want at least 400", c.Rate)
	}
	for _, st := range c.Steps {
		if st.Rate <= 400 && st.Outcome != StepPass {
			t.Errorf("step at %.0f req/s: %s (%s); want pass", st.Rate, st.Outcome, st.Why)
		}
		// What bounds the search is named: the SLO, the generator's CPU
		// (unknown), or this machine's hard cap of requests in flight.
		if st.Outcome != StepPass && !strings.Contains(st.Why, "SLO broken") && !strings.Contains(st.Why, "unknown (generator") &&
			!strings.Contains(st.Why, "could not keep up") {
			t.Errorf("step at %.0f req/s: %s (%s); want the SLO, the generator or the machine named", st.Rate, st.Outcome, st.Why)
		}
		if strings.Contains(st.Why, "generator cap") {
			t.Errorf("step at %.0f req/s: %s; the generator's cap must never bound a server with no limit", st.Rate, st.Why)
		}
	}
}
