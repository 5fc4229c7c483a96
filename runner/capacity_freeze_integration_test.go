//go:build integration

package runner

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/groundtruth"
	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

// pathFloor is the service time of the path client → HAProxy → backend
// with a 0 ms backend: what a request holds a server slot beyond the
// backend's own hold.
func pathFloor(t *testing.T, be *groundtruth.Backend, hp *groundtruth.HAProxy, service time.Duration) float64 {
	t.Helper()
	be.SetService(0)
	fa, err := load.New(spec.Workload{Rate: 100, Duration: spec.Duration(1500 * time.Millisecond)}, hp.URL)
	if err != nil {
		t.Fatal(err)
	}
	frep, err := fa.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	be.SetService(service)
	be.MedianHold() // from here on
	return frep.Summary.ServiceTime.P50
}

// stepTrier runs each trial as Capacity does (its own seed and keys) for
// step against url; before is told each trial's rate and index first.
func stepTrier(url string, step time.Duration, before func(rate float64, i int)) Trier {
	n := 0
	return func(ctx context.Context, rate float64) (*load.Report, error) {
		i := n
		n++
		if before != nil {
			before(rate, i)
		}
		a, err := load.New(spec.Workload{Rate: spec.Rate(rate), Duration: spec.Duration(step)}, url,
			load.WithKeys(1+int64(i), i*load.DefaultKeyCount))
		if err != nil {
			return nil, err
		}
		return a.Run(ctx)
	}
}

// TestGroundTruthCapacityFreeze: a real capacity search survives a real
// 150 ms freeze of HAProxy (SIGSTOP, SIGCONT) in one step near the knee.
// HAProxy lets 4 requests at a time reach a backend that holds each for
// 20 ms: the knee is 4 / (hold + path floor) ≈ 195 req/s, measured from the
// backend's own hold, not from duckbench. The searches start at 0.85 × knee
// / 4, so that doubling reaches 0.85 × knee on its third rate, and the
// freeze hits the first trial there, 500 ms in: it queues ~25 requests
// that drain for most of a second, far past the SLO (p90 < 100 ms, five
// times the service time; p90 for the shared machine's own jitter). The
// frozen trial must fail (else the test saw no noise), and the capacity
// must be within ±10 % of the same search without the freeze, run just
// before on the same stack (TestCapacitySurvivesFreeze runs 12 such pairs
// on a model whose ceiling is known exactly).
func TestGroundTruthCapacityFreeze(t *testing.T) {
	const (
		service = 20 * time.Millisecond
		maxconn = 4
		step    = 2 * time.Second
		freeze  = 150 * time.Millisecond
	)
	be := groundtruth.StartBackend(t, service)
	hp := groundtruth.StartHAProxy(t, be.Addr, maxconn)
	floor := pathFloor(t, be, hp, service)
	// The knee before the searches, from a first hold reading, places the
	// freeze; the reported one is from the hold over both searches.
	probe, err := load.New(spec.Workload{Rate: 50, Duration: spec.Duration(time.Second)}, hp.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := probe.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	knee0 := maxconn / (be.MedianHold().Seconds() + floor)
	start := math.Round(0.85 * knee0 / 4)
	freezeRate := roundRate(4 * start)
	search := func(frozen bool) (*results.Capacity, string) {
		var froze atomic.Value
		froze.Store("not frozen")
		var armed bool
		try := stepTrier(hp.URL, step, func(rate float64, i int) {
			if !frozen || rate != freezeRate || armed {
				return
			}
			armed = true
			time.AfterFunc(500*time.Millisecond, func() {
				at := time.Now()
				syscall.Kill(hp.PID, syscall.SIGSTOP)
				time.Sleep(freeze)
				syscall.Kill(hp.PID, syscall.SIGCONT)
				froze.Store(fmt.Sprintf("frozen %v in trial %d", time.Since(at).Round(time.Millisecond), i+1))
			})
		})
		var table strings.Builder
		cfg := CapacityConfig{
			SLO:   spec.SLO{P90: spec.Duration(5 * service), Success: 0.99},
			Start: start, StepDuration: step, Cooldown: 500 * time.Millisecond, MaxTime: 90 * time.Second,
			OnStep: func(st results.CapacityStep) { writeStepRows(&table, st) },
		}
		c, err := SearchCapacity(context.Background(), cfg, try)
		t.Logf("steps (%s):\n%s", froze.Load(), table.String())
		if err != nil {
			t.Fatalf("SearchCapacity: %v", err)
		}
		return c, froze.Load().(string)
	}
	clean, _ := search(false)
	noisy, froze := search(true)
	knee := maxconn / (be.MedianHold().Seconds() + floor)
	off := (noisy.Rate - clean.Rate) / clean.Rate
	t.Logf("GROUNDTRUTH capacity with a freeze: knee %.0f req/s (maxconn %d / (hold + floor %.2fms)); without a freeze %.0f req/s [%.0f, %.0f); HAProxy %s at %g req/s: %.0f req/s [%.0f, %.0f), %+.1f%%",
		knee, maxconn, floor*1e3, clean.Rate, clean.LowGood, clean.HighBad, froze, freezeRate, noisy.Rate, noisy.LowGood, noisy.HighBad, 100*off)
	var frozenStep results.CapacityStep
	for _, st := range noisy.Steps {
		if st.Rate == freezeRate {
			frozenStep = st
		}
	}
	if len(frozenStep.Trials) == 0 || frozenStep.Trials[0].Outcome != StepFail {
		t.Errorf("the frozen trial at %g req/s: %+v; want it failed and confirmed (else the freeze did not land)", freezeRate, frozenStep.Trials)
	}
	// The freeze is outvoted: on main this step ended the search at half
	// the frozen rate.
	if frozenStep.Outcome != StepPass || noisy.LowGood < freezeRate {
		t.Errorf("step at %g req/s: %s (%s), capacity %g; want the frozen trial outvoted (pass) and the capacity above it", freezeRate, frozenStep.Outcome, frozenStep.Confirmation(), noisy.Rate)
	}
	if math.Abs(off) > 0.10 {
		t.Errorf("capacity %.0f req/s with one frozen trial; %.0f without: want within ±10%%", noisy.Rate, clean.Rate)
	}
}
