package runner

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

// queueServer models a stack analytically: slots concurrent requests
// (servers × maxconn), each held for service, queued first in first out,
// so its ceiling is slots / service. A trial is a constant-rate schedule
// of duration; freeze > 0 stops the whole stack (an HAProxy SIGSTOP) for
// that long from freezeAt into the trial: nothing starts or answers then.
type queueServer struct {
	slots   int
	service time.Duration
}

func (q queueServer) ceiling() float64 { return float64(q.slots) / q.service.Seconds() }

// trial returns the report of one trial: its intended-time latencies.
func (q queueServer) trial(rate float64, duration, freezeAt, freeze time.Duration) *load.Report {
	n := int(rate * duration.Seconds())
	svc := q.service.Seconds()
	f0, f1 := freezeAt.Seconds(), (freezeAt + freeze).Seconds()
	done := make([]float64, n)
	lat := make([]float64, n)
	for i := range n {
		due := float64(i) / rate
		start := due
		if i >= q.slots { // FIFO, equal service times: the slot of i − slots frees first
			start = math.Max(start, done[i-q.slots])
		}
		if freeze > 0 && start >= f0 && start < f1 {
			start = f1
		}
		end := start + svc
		if freeze > 0 && start < f0 && end > f0 {
			end += f1 - f0 // the answer waits for the thaw
		}
		done[i], lat[i] = end, end-due
	}
	sort.Float64s(lat)
	q99 := lat[int(math.Ceil(0.99*float64(n)))-1]
	sum := results.Summary{Requests: uint64(n), Success: uint64(n), SuccessRatio: 1, TargetRate: rate, Rate: rate,
		Throughput: rate, Latency: results.Quantiles{P50: lat[n/2], P99: q99, Max: lat[n-1]}}
	return &load.Report{Summary: sum}
}

// noisySearch runs a capacity search of q under p99 < 50 ms, with a
// 150 ms freeze in the first trial at freezeRate (0: none). It returns the
// search and whether the frozen trial failed (the noise landed).
func noisySearch(t *testing.T, q queueServer, freezeRate float64) (c *results.Capacity, landed bool) {
	t.Helper()
	const step = 5 * time.Second
	clk := &fakeClock{t: time.Date(2026, 12, 5, 23, 0, 0, 0, time.UTC)}
	frozen := false
	try := func(ctx context.Context, rate float64) (*load.Report, error) {
		clk.t = clk.t.Add(step)
		if rate == freezeRate && !frozen {
			frozen = true
			rep := q.trial(rate, step, 2*time.Second, 150*time.Millisecond)
			landed = rep.Summary.Latency.P99 > 0.050
			return rep, nil
		}
		return q.trial(rate, step, 0, 0), nil
	}
	cfg := CapacityConfig{SLO: spec.SLO{P99: spec.Duration(50 * time.Millisecond)}, Start: 50, StepDuration: step,
		MaxTime: time.Hour, Now: clk.now, Sleep: clk.sleep}
	c, err := SearchCapacity(context.Background(), cfg, try)
	if err != nil {
		t.Fatalf("SearchCapacity(%d slots, freeze at %g req/s): %v", q.slots, freezeRate, err)
	}
	if freezeRate > 0 && !frozen {
		t.Fatalf("the search never tried %g req/s: the freeze was not injected", freezeRate)
	}
	return c, landed
}

// TestCapacitySurvivesFreeze is the ground truth of a capacity search that
// survives noise, on a deterministic model of the stack (queueServer)
// whose ceiling is known analytically (slots / service time): a 150 ms
// freeze injected into one step near the knee — the first trial at the
// highest rate the clean search found good — must leave the capacity
// within ±10 % of the same search without it, 10 of 10 searches (ceilings
// 825–1,753 req/s). The freeze is checked to break its trial's SLO: a test
// the noise never reached proves nothing. Two more places the noise
// collapsed searches on a real machine: the first step (capacity 0) and a
// step at a third of the ceiling (388 instead of ~1,200).
func TestCapacitySurvivesFreeze(t *testing.T) {
	var table strings.Builder
	fmt.Fprintf(&table, "\n%8s %8s %10s %10s %10s %8s %s\n", "slots", "ceiling", "frozen at", "clean", "noisy", "off", "trials at the frozen rate")
	check := func(name string, q queueServer, freezeAt func(clean *results.Capacity) float64) {
		clean, _ := noisySearch(t, q, 0)
		if d := math.Abs(clean.Rate-q.ceiling()) / q.ceiling(); d > DefaultCapacityPrecision+0.01 {
			t.Errorf("%s: clean search found %g req/s; the ceiling is %g (off by %.1f%%)", name, clean.Rate, q.ceiling(), 100*d)
		}
		at := freezeAt(clean)
		noisy, landed := noisySearch(t, q, at)
		off := (noisy.Rate - clean.Rate) / clean.Rate
		var trials string
		for _, st := range noisy.Steps {
			if st.Rate == at {
				trials = st.Confirmation()
			}
		}
		fmt.Fprintf(&table, "%8d %8.0f %10g %10g %10g %7.1f%% %s (%s)\n", q.slots, q.ceiling(), at, clean.Rate, noisy.Rate, 100*off, trials, name)
		if !landed {
			t.Errorf("%s: the freeze at %g req/s did not break its trial's SLO: the test saw no noise", name, at)
		}
		if math.Abs(off) > 0.10 {
			t.Errorf("%s: with a freeze at %g req/s the capacity is %g; without it %g (off by %.1f%%, want within 10%%)", name, at, noisy.Rate, clean.Rate, 100*off)
		}
		if !strings.HasPrefix(trials, StepFail+", ") {
			t.Errorf("%s: trials at the frozen rate %g: %q; want the failed trial confirmed by others", name, at, trials)
		}
	}
	nearKnee := func(clean *results.Capacity) float64 { return clean.LowGood }
	for slots := 8; slots <= 17; slots++ {
		check("near the knee", queueServer{slots: slots, service: 9700 * time.Microsecond}, nearKnee)
	}
	issue := queueServer{slots: 12, service: 9700 * time.Microsecond}
	check("first step", issue, func(*results.Capacity) float64 { return 50 })
	check("a third of the ceiling", issue, func(*results.Capacity) float64 { return 400 })
	t.Logf("GROUNDTRUTH capacity with one 150 ms freeze (p99 < 50 ms, 5 s steps):%s", table.String())
}

// TestSettled: a first pass settles a step; anything else takes a second
// trial, and a tie a third; the last trial is the majority's.
func TestSettled(t *testing.T) {
	p, f, u := StepPass, StepFail, StepUnknown
	tests := []struct {
		outcomes []string
		want     bool
	}{
		{nil, false},
		{[]string{p}, true},
		{[]string{f}, false},
		{[]string{u}, false},
		{[]string{f, f}, true},
		{[]string{f, u}, true},
		{[]string{f, p}, false},
		{[]string{f, p, p}, true},
		{[]string{f, p, f}, true},
		{[]string{u, p, p}, true},
	}
	for _, tt := range tests {
		var trials []results.CapacityTrial
		for _, o := range tt.outcomes {
			trials = append(trials, results.CapacityTrial{Outcome: o})
		}
		if got := settled(trials); got != tt.want {
			t.Errorf("settled(%v) = %v; want %v", tt.outcomes, got, tt.want)
		}
	}
}
