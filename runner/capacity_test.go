package runner

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

// fakeClock advances only when a step runs or a cooldown sleeps.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }
func (c *fakeClock) sleep(ctx context.Context, d time.Duration) bool {
	if ctx.Err() != nil {
		return false
	}
	c.t = c.t.Add(d)
	return true
}

// server is a pure function of rate: it meets the SLO up to limit, cannot
// keep up (every worker waiting on it) from 1.5 × limit, and the generator
// saturates from satFrom up (0: never).
type server struct {
	limit, satFrom float64
}

func (s server) report(rate float64) *load.Report {
	rep := &load.Report{Summary: results.Summary{Requests: 1000, Success: 1000, SuccessRatio: 1, Rate: rate,
		Latency: results.Quantiles{P50: 0.002, P99: 0.005}}}
	if rate > s.limit {
		rep.Summary.Success, rep.Summary.SuccessRatio = 700, 0.7
		rep.Summary.Latency.P99 = 0.5
	}
	rep.SUTBound = rate >= 1.5*s.limit
	if s.satFrom > 0 && rate >= s.satFrom {
		rep.Saturated = true
		rep.Summary.Rate = s.satFrom * 0.9
	}
	rep.Summary.TargetRate = rate
	return rep
}

func search(t *testing.T, srv server, cfg CapacityConfig) (*results.Capacity, []float64, error) {
	t.Helper()
	clk := &fakeClock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	cfg.Now, cfg.Sleep = clk.now, clk.sleep
	if cfg.SLO == (spec.SLO{}) {
		cfg.SLO = spec.SLO{P99: spec.Duration(50 * time.Millisecond), Success: 0.999}
	}
	if cfg.StepDuration == 0 {
		cfg.StepDuration = 5 * time.Second
	}
	var rates []float64
	try := func(ctx context.Context, rate float64) (*load.Report, error) {
		rates = append(rates, rate)
		clk.t = clk.t.Add(cfg.StepDuration)
		return srv.report(rate), nil
	}
	c, err := SearchCapacity(context.Background(), cfg, try)
	return c, rates, err
}

func TestSearchCapacity(t *testing.T) {
	tests := []struct {
		name      string
		srv       server
		cfg       CapacityConfig
		wantErr   error
		wantLo    float64 // bracket [lo, hi)
		wantHi    float64
		wantSteps []float64 // nil: not checked
		timedOut  bool
		unknown   bool // some step is unknown
	}{
		{
			name:   "doubles then bisects to 5%",
			srv:    server{limit: 330},
			cfg:    CapacityConfig{Start: 50},
			wantLo: 325,
			wantHi: 338,
			// Every failure is confirmed by a second trial at its rate.
			wantSteps: []float64{50, 100, 200, 400, 400, 300, 350, 350, 325, 338, 338},
		},
		{
			name:    "start rate fails",
			srv:     server{limit: 30},
			cfg:     CapacityConfig{Start: 50},
			wantErr: ErrNoCapacity, wantLo: 0, wantHi: 50,
			wantSteps: []float64{50, 50}, // the start rate is retried
		},
		{
			name:   "meets the SLO at max rate",
			srv:    server{limit: 1e9},
			cfg:    CapacityConfig{Start: 100, MaxRate: 700},
			wantLo: 700, wantHi: 0,
			wantSteps: []float64{100, 200, 400, 700},
		},
		{
			// The generator gives up at 800: 800 is unknown, not a server
			// failure; the search narrows below it and reports no bad rate.
			name:   "saturation is unknown, not fail",
			srv:    server{limit: 5000, satFrom: 800},
			cfg:    CapacityConfig{Start: 100},
			wantLo: 775, wantHi: 0,
			wantSteps: []float64{100, 200, 400, 800, 800, 600, 700, 750, 775},
			unknown:   true,
		},
		{
			// Saturated steps lower the bracket's top; the first bad
			// rate is still a real failure found below them.
			name:   "saturation above the failure",
			srv:    server{limit: 650, satFrom: 700},
			cfg:    CapacityConfig{Start: 100},
			wantLo: 650, wantHi: 675,
			wantSteps: []float64{100, 200, 400, 800, 800, 600, 700, 700, 650, 675, 675},
			unknown:   true,
		},
		{
			name:     "time bound stops the search with the bracket so far",
			srv:      server{limit: 330},
			cfg:      CapacityConfig{Start: 50, MaxTime: 30 * time.Second, Cooldown: 2 * time.Second},
			wantLo:   200,
			wantHi:   0,
			timedOut: true,
			// 5 + 4×(2+5) = 33s > 30s: the fifth trial does not start,
			// so the failure at 400 is unconfirmed and bounds nothing.
			wantSteps: []float64{50, 100, 200, 400},
		},
		{
			// Without a cooldown, six 5s steps fit in 30s.
			name:      "time bound without cooldown",
			srv:       server{limit: 330},
			cfg:       CapacityConfig{Start: 50, MaxTime: 30 * time.Second, Cooldown: -1},
			wantLo:    300,
			wantHi:    400,
			timedOut:  true,
			wantSteps: []float64{50, 100, 200, 400, 400, 300},
		},
		{
			name:      "time bound before any pass",
			srv:       server{limit: 330},
			cfg:       CapacityConfig{Start: 50, MaxTime: 3 * time.Second},
			wantErr:   ErrNoCapacity,
			timedOut:  true,
			wantSteps: []float64{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rates, err := search(t, tt.srv, tt.cfg)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("SearchCapacity() error = %v; want %v", err, tt.wantErr)
			}
			if c.LowGood != tt.wantLo || c.HighBad != tt.wantHi || c.Rate != c.LowGood {
				t.Errorf("SearchCapacity() = rate %g, bracket [%g, %g); want [%g, %g) (steps %v)", c.Rate, c.LowGood, c.HighBad, tt.wantLo, tt.wantHi, rates)
			}
			if c.TimedOut != tt.timedOut {
				t.Errorf("SearchCapacity().TimedOut = %v; want %v", c.TimedOut, tt.timedOut)
			}
			if tt.wantSteps != nil && !equalRates(rates, tt.wantSteps) {
				t.Errorf("SearchCapacity() tried %v; want %v", rates, tt.wantSteps)
			}
			if n := recordedTrials(c.Steps); n != len(rates) {
				t.Errorf("SearchCapacity() recorded %d trials; tried %d", n, len(rates))
			}
			if unknown := checkStepOutcomes(t, c.Steps, tt.srv); unknown != tt.unknown {
				t.Errorf("some step unknown = %v; want %v", unknown, tt.unknown)
			}
			// Whatever was found lies within 5% of the real limit when the
			// search ran to the end and the server bounded it.
			if err == nil && !c.TimedOut && c.HighBad > 0 && !tt.unknown {
				if d := math.Abs(c.Rate-tt.srv.limit) / tt.srv.limit; d > 0.05 {
					t.Errorf("found %g; the limit is %g (off by %.1f%%)", c.Rate, tt.srv.limit, d*100)
				}
			}
		})
	}
}

// checkStepOutcomes wants each step's outcome to follow the fake server:
// SUT-bound (1.5x its limit) fails even when the generator saturated too,
// else a saturated step is unknown and one above the limit fails. It
// reports whether some step was unknown.
func checkStepOutcomes(t *testing.T, steps []results.CapacityStep, srv server) (unknown bool) {
	t.Helper()
	for _, st := range steps {
		unknown = unknown || st.Outcome == StepUnknown
		want := StepPass
		switch {
		case st.Rate >= 1.5*srv.limit:
			want = StepFail
		case srv.satFrom > 0 && st.Rate >= srv.satFrom:
			want = StepUnknown
		case st.Rate > srv.limit:
			want = StepFail
		}
		if st.Outcome != want {
			t.Errorf("step at %g: outcome %q; want %q", st.Rate, st.Outcome, want)
		}
	}
	return unknown
}

func TestJudgeStep(t *testing.T) {
	slo := spec.SLO{Success: 0.99}
	ok := results.Summary{Requests: 100, Success: 100, SuccessRatio: 1, TargetRate: 100}
	bad := results.Summary{Requests: 100, Success: 50, SuccessRatio: 0.5, TargetRate: 100}
	tests := []struct {
		name string
		rep  load.Report
		want string
	}{
		{"met", load.Report{Summary: withRate(ok, 100)}, StepPass},
		{"broken", load.Report{Summary: withRate(bad, 100)}, StepFail},
		{"generator saturated", load.Report{Saturated: true, Summary: withRate(ok, 80)}, StepUnknown},
		{"generator saturated and broken", load.Report{Saturated: true, Summary: withRate(bad, 80)}, StepUnknown},
		{"server could not keep up", load.Report{SUTBound: true, Summary: withRate(ok, 100)}, StepFail},
		{"server stalled, generator saturated too", load.Report{SUTBound: true, Saturated: true,
			Stalls: []results.Stall{{StartSeconds: 1, DurationSeconds: 1}}, Summary: withRate(ok, 100)}, StepFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, why := judgeStep(slo, &tt.rep, nil); got != tt.want || why == "" {
				t.Errorf("judgeStep() = %q, %q; want %q and a reason", got, why, tt.want)
			}
		})
	}
}

func withRate(s results.Summary, rate float64) results.Summary {
	s.Rate = rate
	return s
}

func TestSearchCapacityInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	try := func(ctx context.Context, rate float64) (*load.Report, error) {
		n++
		if n == 3 {
			cancel()
		}
		return server{limit: 1000}.report(rate), nil
	}
	clk := &fakeClock{t: time.Unix(0, 0)}
	c, err := SearchCapacity(ctx, CapacityConfig{Start: 10, SLO: spec.SLO{Success: 0.99}, Now: clk.now, Sleep: clk.sleep}, try)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("SearchCapacity() error = %v; want context.Canceled", err)
	}
	if len(c.Steps) != 2 || c.LowGood != 20 {
		t.Errorf("SearchCapacity() = %d steps, low good %g; want 2 steps (the cut one dropped), 20", len(c.Steps), c.LowGood)
	}
}

func TestSearchCapacityTrialError(t *testing.T) {
	boom := errors.New("boom")
	try := func(ctx context.Context, rate float64) (*load.Report, error) {
		if rate > 40 {
			return nil, boom
		}
		return server{limit: 1000}.report(rate), nil
	}
	clk := &fakeClock{t: time.Unix(0, 0)}
	c, err := SearchCapacity(context.Background(), CapacityConfig{Start: 20, SLO: spec.SLO{Success: 0.99}, Now: clk.now, Sleep: clk.sleep}, try)
	if !errors.Is(err, boom) || c.LowGood != 40 {
		t.Fatalf("SearchCapacity() = %g, %v; want 40, boom", c.LowGood, err)
	}
}

// recordedTrials counts the trials the steps hold.
func recordedTrials(steps []results.CapacityStep) int {
	n := 0
	for _, st := range steps {
		n += max(1, len(st.Trials))
	}
	return n
}

func equalRates(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
