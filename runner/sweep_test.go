package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

func varies(t *testing.T, in ...string) []spec.Vary {
	t.Helper()
	var out []spec.Vary
	for _, s := range in {
		v, err := spec.ParseVary(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func TestSweepDesign(t *testing.T) {
	tests := []struct {
		name    string
		vary    []string
		maxGrid int
		design  string
		want    [][]string
	}{
		{name: "one field", vary: []string{"a=1,2,3"}, design: results.DesignGrid, want: [][]string{{"1"}, {"2"}, {"3"}}},
		{name: "grid, the last field fastest", vary: []string{"a=1,2", "b=x,y"}, design: results.DesignGrid,
			want: [][]string{{"1", "x"}, {"1", "y"}, {"2", "x"}, {"2", "y"}}},
		{name: "grid at the bound", vary: []string{"a=1,2", "b=x,y"}, maxGrid: 4, design: results.DesignGrid,
			want: [][]string{{"1", "x"}, {"1", "y"}, {"2", "x"}, {"2", "y"}}},
		{name: "past the bound: one at a time around the baseline", vary: []string{"a=1,2,3", "b=x,y"}, maxGrid: 5,
			design: results.DesignOneAtATime, want: [][]string{{"1", "x"}, {"2", "x"}, {"3", "x"}, {"1", "y"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, design := SweepDesign(varies(t, tt.vary...), tt.maxGrid)
			if design != tt.design {
				t.Errorf("SweepDesign design = %q; want %q", design, tt.design)
			}
			var vals [][]string
			for _, v := range got {
				vals = append(vals, v.Values)
				for i, st := range v.Settings {
					if st.Value != v.Values[i] {
						t.Errorf("variant %v: setting %d = %s; want value %q", v.Values, i, st, v.Values[i])
					}
				}
			}
			if !reflect.DeepEqual(vals, tt.want) {
				t.Errorf("SweepDesign = %v; want %v", vals, tt.want)
			}
		})
	}
	// The default bound: 17 variants is past it.
	if _, design := SweepDesign(varies(t, "a=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17"), 0); design != results.DesignOneAtATime {
		t.Errorf("SweepDesign of 17 values = %q; want one-at-a-time past DefaultMaxGrid %d", design, DefaultMaxGrid)
	}
}

// fakeSweep builds a sweep record and configs named v0, v1, … (nil for
// the invalid indexes).
func fakeSweep(n int, invalid ...int) (*results.Sweep, []*ABConfig) {
	sw := &results.Sweep{Spec: results.ABSide{Spec: "seed"}, Vary: []results.SweepAxis{{Path: "a"}}}
	var cfgs []*ABConfig
	for i := 0; i < n; i++ {
		v := results.SweepVariant{Values: []string{string(rune('0' + i))}, Label: "v" + string(rune('0'+i))}
		c := abConfig(v.Label, time.Second)
		cfgs = append(cfgs, &c)
		for _, k := range invalid {
			if k == i {
				v.Invalid = "rejected"
				cfgs[i] = nil
			}
		}
		sw.Variants = append(sw.Variants, v)
	}
	return sw, cfgs
}

// Fixed-rate runs go round-robin, reversed every other round; invalid
// variants never run; every run lands under the sweep's folder, and the
// record is written.
func TestSweepInterleaves(t *testing.T) {
	f := &fakeRuns{p99: map[string]float64{"v0": 0.010, "v1": 0.005, "v2": 0.020, "v3": 0.010}}
	sw, cfgs := fakeSweep(4, 2)
	out, err := Sweep(context.Background(), sw, cfgs, SweepOptions{Rounds: 4, Cooldown: -1, RunOne: f.run, Run: Options{ResultsDir: t.TempDir()}})
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	want := "v0 v1 v3 v3 v1 v0 v0 v1 v3 v3 v1 v0"
	if got := strings.Join(f.specs, " "); got != want {
		t.Errorf("Sweep ran %q; want %q", got, want)
	}
	for i, o := range f.calls {
		if o.ResultsDir != out.Dir || o.Repeat != 1 || o.Out != nil {
			t.Errorf("run %d: results dir %q, repeat %d; want %q, 1, no printed summary", i+1, o.ResultsDir, o.Repeat, out.Dir)
		}
	}
	if sw.Mode != results.SweepRate || len(sw.Runs) != 12 || sw.Status != results.StatusCompleted {
		t.Errorf("sweep: mode %q, %d runs, status %q; want rate, 12, completed", sw.Mode, len(sw.Runs), sw.Status)
	}
	// Best, but with 2 comparisons with the baseline 4 vs 4 rounds cannot
	// reach Holm's level (p < 0.025): not called significantly better.
	if sw.Best != 1 || sw.Variants[1].Stats.Better || !strings.Contains(sw.BestVerdict, "cannot reach") {
		t.Errorf("Best = %d (%s); want 1 (half the baseline's p99), not significant after Holm at 4 rounds", sw.Best, sw.BestVerdict)
	}
	for _, name := range []string{"sweep.json", "report.html"} {
		if _, err := os.Stat(filepath.Join(out.Dir, name)); err != nil {
			t.Errorf("sweep wrote no %s: %v", name, err)
		}
	}
}

// A failed run is recorded and the sweep goes on; the error is returned.
func TestSweepRunFails(t *testing.T) {
	f := &fakeRuns{p99: map[string]float64{"v0": 0.010, "v1": 0.010}, fail: 2}
	sw, cfgs := fakeSweep(2)
	_, err := Sweep(context.Background(), sw, cfgs, SweepOptions{Rounds: 2, Cooldown: -1, RunOne: f.run, Run: Options{ResultsDir: t.TempDir()}})
	if err == nil || !strings.Contains(err.Error(), "stack failed") {
		t.Errorf("Sweep error = %v; want the failed run's", err)
	}
	if len(sw.Runs) != 4 || sw.Runs[1].Status != results.StatusFailed || sw.Status != results.StatusFailed {
		t.Errorf("runs %d, run 2 %q, sweep %q; want 4 runs, run 2 failed, the sweep failed", len(sw.Runs), sw.Runs[1].Status, sw.Status)
	}
}

// --max-time: no run starts once the time is up; the finished runs are
// analysed. A cancelled context stops the sweep the same way.
func TestSweepMaxTimeAndInterrupt(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f := &fakeRuns{p99: map[string]float64{"v0": 0.010, "v1": 0.010}}
	clockRun := func(ctx context.Context, s *spec.Spec, o Options) (*Outcome, error) {
		now = now.Add(10 * time.Second)
		return f.run(ctx, s, o)
	}
	sw, cfgs := fakeSweep(2)
	_, err := Sweep(context.Background(), sw, cfgs, SweepOptions{Rounds: 5, Cooldown: -1, MaxTime: 34 * time.Second, RunOne: clockRun,
		Run: Options{ResultsDir: t.TempDir(), Duration: 5 * time.Second, Now: func() time.Time { return now }}})
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if len(sw.Runs) != 3 || !sw.TimedOut {
		t.Errorf("%d runs, timed out %v; want 3 runs: after 30s, 4s is less than a 5s attack", len(sw.Runs), sw.TimedOut)
	}
	// Without --duration, the spec's attack (1s here) is what must fit.
	sw, cfgs = fakeSweep(2)
	if _, err := Sweep(context.Background(), sw, cfgs, SweepOptions{Rounds: 5, Cooldown: -1, MaxTime: 30500 * time.Millisecond, RunOne: clockRun,
		Run: Options{ResultsDir: t.TempDir(), Now: func() time.Time { return now }}}); err != nil {
		t.Fatal(err)
	}
	if len(sw.Runs) != 3 || !sw.TimedOut {
		t.Errorf("%d runs, timed out %v; want 3 runs: after 30s, 0.5s is less than the spec's 1s attack", len(sw.Runs), sw.TimedOut)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancelling := func(c context.Context, s *spec.Spec, o Options) (*Outcome, error) {
		out, err := f.run(c, s, o)
		if len(f.calls) == 3 {
			cancel()
			out.Result.Status = results.StatusInterrupted
			return out, errors.Join(err, context.Canceled)
		}
		return out, err
	}
	f.calls = nil
	sw, cfgs = fakeSweep(2)
	out, err := Sweep(ctx, sw, cfgs, SweepOptions{Rounds: 5, Cooldown: -1, RunOne: cancelling, Run: Options{ResultsDir: t.TempDir()}})
	if !errors.Is(err, context.Canceled) || out == nil {
		t.Fatalf("Sweep = %v, %v; want the outcome and context.Canceled", out, err)
	}
	if len(sw.Runs) != 3 || sw.Status != results.StatusInterrupted || sw.Variants[0].Stats.Runs != 1 {
		t.Errorf("%d runs, status %q, baseline runs %d; want 3, interrupted, 1 counted (the interrupted run is not)", len(sw.Runs), sw.Status, sw.Variants[0].Stats.Runs)
	}
}

// Capacity mode: each run is a search; ErrNoCapacity (no step passed) is
// a censored search, reported, not a capacity of 0; and each search gets
// at most what --max-time leaves.
func TestSweepCapacity(t *testing.T) {
	var maxTimes []time.Duration
	fake := func(ctx context.Context, s *spec.Spec, o Options, co CapacityOptions) (*CapacityOutcome, error) {
		maxTimes = append(maxTimes, co.MaxTime)
		c := &results.Capacity{Rate: 100, LowGood: 100, HighBad: 110, Steps: []results.CapacityStep{{Rate: 100, Outcome: StepPass}}}
		var err error
		if s.Name == "v1" {
			c = &results.Capacity{Steps: []results.CapacityStep{{Rate: 50, Outcome: StepFail}}, HighBad: 50}
			err = ErrNoCapacity
		}
		return &CapacityOutcome{Outcome: Outcome{Result: &results.Result{Status: results.StatusCompleted}, Dir: "/x/run-" + s.Name}, Capacity: c}, err
	}
	sw, cfgs := fakeSweep(2)
	cfg := CapacityConfig{SLOText: "p99<50ms", StepDuration: time.Second}
	_, err := Sweep(context.Background(), sw, cfgs, SweepOptions{Rounds: 1, Cooldown: -1, MaxTime: time.Hour, Capacity: &cfg, CapacityOne: fake,
		Run: Options{ResultsDir: t.TempDir()}})
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if sw.Mode != results.SweepCapacity || sw.SLO != "p99<50ms" || sw.Runs[0].ID != "run-v0" {
		t.Errorf("mode %q, SLO %q, run id %q; want capacity, p99<50ms, run-v0", sw.Mode, sw.SLO, sw.Runs[0].ID)
	}
	if st := sw.Variants[1].Stats; st.Capacity != nil || st.Censored != 1 {
		t.Errorf("variant with no capacity: %+v, %d censored; want no capacity, 1 censored search", st.Capacity, st.Censored)
	}
	if maxTimes[0] != DefaultCapacityMaxTime {
		t.Errorf("search max time %v; want the search's own %v (less than what --max-time leaves)", maxTimes[0], DefaultCapacityMaxTime)
	}
}

func TestPerRunEstimate(t *testing.T) {
	s := testSpec()
	s.Load.Duration, s.Load.Warmup = spec.Duration(10*time.Second), 0
	if got, want := (SweepOptions{Cooldown: time.Second}).PerRunEstimate(s), 16*time.Second; got != want {
		t.Errorf("fixed-rate PerRunEstimate = %v; want %v (stack 5s + cooldown 1s + attack 10s)", got, want)
	}
	c := CapacityConfig{StepDuration: 2 * time.Second, Cooldown: time.Second, MaxTime: time.Minute}
	if got, want := (SweepOptions{Cooldown: time.Second, Capacity: &c}).PerRunEstimate(s), 42*time.Second; got != want {
		t.Errorf("capacity PerRunEstimate = %v; want %v (stack 5s + cooldown 1s + 12 trials of 3s)", got, want)
	}
}
