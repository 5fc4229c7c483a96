//go:build integration

package runner

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/groundtruth"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

// TestGroundTruthCapacityKnee: HAProxy lets at most 10 requests at a time
// reach a backend that holds each for 50 ms, so the stack serves at most
// 10 / 50 ms = 200 req/s and queues the rest. The capacity search (SLO
// p90 < 200 ms, four times the service time, on intended-time latency;
// p90 and that much room because a shared 2-core machine's own jitter
// queues requests well below the knee) must find the knee within ±10 %
// and mark every step above it "fail" — not "unknown": there the server is
// the bottleneck. Above the knee the queue grows by (rate − knee)/s, so
// 5 % over it puts p90 past the SLO within a 4 s step.
func TestGroundTruthCapacityKnee(t *testing.T) {
	const (
		service = 50 * time.Millisecond
		maxconn = 10
	)
	be := groundtruth.StartBackend(t, service)
	hp := groundtruth.StartHAProxy(t, be.Addr, maxconn)
	// A server slot is held for the service time as the backend really
	// kept it (its timer overshoot on a busy machine included) plus the
	// path's own floor: measure both, do not assume them.
	svcFloor := pathFloor(t, be, hp, service)
	// Every step has its own seed and keys, as Capacity does.
	var seeds []int64
	try := stepTrier(hp.URL, 4*time.Second, func(rate float64, i int) { seeds = append(seeds, 1+int64(i)) })
	var table strings.Builder
	cfg := CapacityConfig{
		SLO:          spec.SLO{P90: spec.Duration(4 * service), Success: 0.99},
		Start:        50,
		StepDuration: 4 * time.Second,
		Cooldown:     time.Second,
		MaxTime:      2 * time.Minute,
		OnStep: func(st results.CapacityStep) {
			svc := 0.0
			if st.Summary.ServiceTime != nil {
				svc = st.Summary.ServiceTime.P99
			}
			fmt.Fprintf(&table, "  %6.0f req/s  %-7s  p90 %8s  p99 %8s  service p99 %8s  seed %d  %s\n", st.Rate, st.Outcome,
				results.FormatSeconds(st.Summary.Latency.P90), results.FormatSeconds(st.Summary.Latency.P99), results.FormatSeconds(svc), st.Seed, st.Why)
		},
	}
	c, err := SearchCapacity(context.Background(), cfg, try)
	t.Logf("steps:\n%s", table.String())
	if err != nil {
		t.Fatalf("SearchCapacity: %v", err)
	}
	hold := be.MedianHold().Seconds()
	knee := float64(maxconn) / (hold + svcFloor)
	t.Logf("GROUNDTRUTH capacity: expected knee %.0f req/s (maxconn %d / (held %.2fms + floor %.2fms); nominal %.0f) ±10%%; found %.0f req/s, bracket [%.0f, %.0f)",
		knee, maxconn, hold*1e3, svcFloor*1e3, float64(maxconn)/service.Seconds(), c.Rate, c.LowGood, c.HighBad)
	if math.Abs(c.Rate-knee)/knee > 0.10 {
		t.Errorf("capacity %.0f req/s; want %.0f ± 10%%", c.Rate, knee)
	}
	// A step at twice the knee: every worker ends up waiting on the
	// server's queue. That is the server's limit — fail, SUT-bound — not
	// the generator's.
	rep, err := try(context.Background(), math.Round(2*knee))
	if err != nil {
		t.Fatal(err)
	}
	outcome, why := judgeStep(cfg.SLO, rep, nil)
	t.Logf("GROUNDTRUTH capacity: step at %.0f req/s: %s (%s), SUT-bound %v, generator saturated %v, p90 %s, service p90 %s",
		math.Round(2*knee), outcome, why, rep.SUTBound, rep.Saturated, results.FormatSeconds(rep.Summary.Latency.P90), results.FormatSeconds(rep.Summary.ServiceTime.P90))
	if outcome != StepFail || !rep.SUTBound {
		t.Errorf("step at 2× the knee: %s (%s), SUT-bound %v; want fail, SUT-bound", outcome, why, rep.SUTBound)
	}
	seen := map[int64]bool{}
	for _, st := range c.Steps {
		if st.Rate > 1.05*knee && st.Outcome != StepFail {
			t.Errorf("step at %.0f req/s (above the knee %.0f): %s (%s); want fail", st.Rate, knee, st.Outcome, st.Why)
		}
		if seen[st.Seed] {
			t.Errorf("seed %d used by two steps; want a fresh key sequence per step", st.Seed)
		}
		seen[st.Seed] = true
	}
}
