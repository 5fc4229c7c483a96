package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/results/report"
	"github.com/duckbench/duckbench/spec"
)

// DefaultMaxGrid is the largest full grid a sweep runs; a larger one is
// swept one field at a time around the baseline.
const DefaultMaxGrid = 16

// stackUpEstimate is what bringing a local stack up and down costs, for the
// up-front estimate of a sweep's duration (measured: 2-5 s on the 2-core dev
// machine).
const stackUpEstimate = 5 * time.Second

// assumedSteps is the number of capacity trials the estimate assumes per
// search: doubling from the start rate to the knee and a few bisections
// (8 steps), and a confirming trial for each of the ~4 that fail.
const assumedSteps = 12

// SweepVariant is one combination of a sweep's values.
type SweepVariant struct {
	// Values holds one value per swept field, in the order of the fields.
	Values []string
	// Settings are what to set in the spec.
	Settings []spec.Setting
}

// SweepDesign combines the values of varies: the full grid (every
// combination, the first varying slowest) when it has at most maxGrid
// variants (0: DefaultMaxGrid), else one-at-a-time: the baseline (the first
// value of each) and, for each field in turn, each of its other values with
// every other field at its baseline. The first variant is the baseline in
// both designs.
func SweepDesign(varies []spec.Vary, maxGrid int) ([]SweepVariant, string) {
	if maxGrid <= 0 {
		maxGrid = DefaultMaxGrid
	}
	grid := 1
	for _, v := range varies {
		grid *= len(v.Values)
		if grid > maxGrid {
			break
		}
	}
	mk := func(idx []int) SweepVariant {
		var sv SweepVariant
		for i, v := range varies {
			sv.Values = append(sv.Values, v.Values[idx[i]])
			sv.Settings = append(sv.Settings, spec.Setting{Path: v.Path, Value: v.Values[idx[i]]})
		}
		return sv
	}
	if grid <= maxGrid {
		var out []SweepVariant
		idx := make([]int, len(varies))
		for {
			out = append(out, mk(idx))
			i := len(idx) - 1
			for ; i >= 0; i-- { // odometer: the last field varies fastest
				idx[i]++
				if idx[i] < len(varies[i].Values) {
					break
				}
				idx[i] = 0
			}
			if i < 0 {
				return out, results.DesignGrid
			}
		}
	}
	out := []SweepVariant{mk(make([]int, len(varies)))}
	for i, v := range varies {
		for j := 1; j < len(v.Values); j++ {
			idx := make([]int, len(varies))
			idx[i] = j
			out = append(out, mk(idx))
		}
	}
	return out, results.DesignOneAtATime
}

// SweepOptions configure a sweep. Zero values take the documented defaults.
type SweepOptions struct {
	// Rounds is the number of runs per variant (default 1).
	Rounds int
	// Cooldown separates the runs (default DefaultCooldown).
	Cooldown time.Duration
	// MaxTime bounds the whole sweep: no run starts after it, and a capacity
	// search is cut to what is left (0: no bound).
	MaxTime time.Duration
	// Capacity makes each run a capacity search under its SLO (nil: one
	// run at the spec's or Run's rate).
	Capacity *CapacityConfig
	// Run holds the options every run shares (Duration, Rate, Listen,
	// NewMonitor, Version, Abort …); Driver, SpecPath and Out are set per
	// run; the sweep's folder goes under Run.ResultsDir.
	Run Options
	// Log receives one line per run; Table each capacity step (nil: none).
	Log, Table io.Writer
	// RunOne and CapacityOne perform one run (default Run and Capacity;
	// tests replace them).
	RunOne      func(ctx context.Context, s *spec.Spec, o Options) (*Outcome, error)
	CapacityOne func(ctx context.Context, s *spec.Spec, o Options, co CapacityOptions) (*CapacityOutcome, error)
}

func (o *SweepOptions) defaults() {
	if o.Rounds <= 0 {
		o.Rounds = 1
	}
	batchDefaults(&o.Cooldown, &o.RunOne, &o.Run)
	if o.CapacityOne == nil {
		o.CapacityOne = Capacity
	}
	if o.Capacity != nil {
		o.Capacity.defaults()
	}
}

// PerRunEstimate is the expected length of one run of s, stack up and
// cooldown included: a fixed-rate run lasts its attack; a capacity search
// is assumed to take assumedSteps steps, at most its MaxTime.
func (o SweepOptions) PerRunEstimate(s *spec.Spec) time.Duration {
	o.defaults()
	d := stackUpEstimate + o.Cooldown
	if c := o.Capacity; c != nil {
		return d + min(c.MaxTime, assumedSteps*(c.StepDuration+max(c.Cooldown, 0)))
	}
	attack := o.Run.Duration
	if attack == 0 {
		attack = time.Duration(s.Load.Duration) + time.Duration(s.Load.Warmup)
	}
	return d + attack
}

// SweepOutcome is what a sweep leaves behind.
type SweepOutcome struct {
	Sweep *results.Sweep
	// Dir is results/<id>; Path its sweep.json, HTML its report.html.
	Dir, Path, HTML string
}

// Sweep runs the valid variants of sw (configs[i] is variant i's; nil for
// an invalid one, which sw.Variants[i].Invalid explains) in interleaved
// rounds — every variant once per round, the order reversed every other
// round — each run on a fresh stack, stores every run under the sweep's
// folder, analyses the runs and writes sweep.json and report.html. A run
// that fails is recorded and the sweep goes on. It returns the outcome
// whenever the sweep's folder exists, with the runs' errors joined, or
// ctx's error when interrupted (the finished runs are kept and analysed).
func Sweep(ctx context.Context, sw *results.Sweep, configs []*ABConfig, o SweepOptions) (*SweepOutcome, error) {
	o.defaults()
	started := o.Run.Now()
	if sw.ID == "" {
		sw.ID = results.NewID(started, "sweep-"+sw.Spec.Spec)
	}
	sw.StartedAt, sw.Rounds, sw.Status = started.UTC(), o.Rounds, results.StatusCompleted
	sw.Mode = results.SweepRate
	if o.Capacity != nil {
		sw.Mode, sw.SLO = results.SweepCapacity, o.Capacity.SLOText
	}
	out := &SweepOutcome{Sweep: sw, Dir: filepath.Join(o.Run.ResultsDir, sw.ID)}
	if err := os.MkdirAll(out.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create sweep dir: %w", err)
	}
	var valid []int
	for i, c := range configs {
		if c != nil && sw.Variants[i].Invalid == "" {
			valid = append(valid, i)
		}
	}
	var deadline time.Time
	if o.MaxTime > 0 {
		deadline = started.Add(o.MaxTime)
	}
	var runErrs []error
	seq, total := 0, len(valid)*o.Rounds
rounds:
	for r, round := range results.RoundOrder(len(valid), o.Rounds) {
		for _, k := range round {
			vi := valid[k]
			if seq > 0 && !sleep(ctx, o.Cooldown) {
				break rounds
			}
			left := time.Duration(1<<63 - 1)
			if !deadline.IsZero() {
				left = deadline.Sub(o.Run.Now())
				if left < o.minRun(configs[vi].Spec) {
					sw.TimedOut = true
					break rounds
				}
			}
			seq++
			run, err := o.sweepRun(ctx, configs[vi], out.Dir, left)
			run.Seq, run.Round, run.Variant = seq, r+1, vi
			sw.Runs = append(sw.Runs, run)
			o.logRun(sw, run, total)
			if ctx.Err() != nil {
				break rounds
			}
			if err != nil {
				runErrs = append(runErrs, fmt.Errorf("run %d (#%d %s): %w", seq, vi+1, sw.Variants[vi].Label, err))
			}
		}
	}
	runErr := errors.Join(runErrs...)
	switch {
	case ctx.Err() != nil:
		sw.Status, sw.Error = results.StatusInterrupted, "interrupted: the finished runs are kept and analysed"
	case runErr != nil:
		sw.Status, sw.Error = results.StatusFailed, runErr.Error()
	}
	results.AnalyzeSweep(sw)
	sw.EndedAt = o.Run.Now().UTC()
	return out, batchEnd(ctx, "sweep", runErr, func() (err error) {
		out.Path, out.HTML, err = report.WriteSweepFiles(out.Dir, sw)
		return err
	})
}

// minRun is the least time a run of s needs to say anything: its attack
// (or one capacity step).
func (o *SweepOptions) minRun(s *spec.Spec) time.Duration {
	if o.Capacity != nil {
		return o.Capacity.StepDuration
	}
	if o.Run.Duration > 0 {
		return o.Run.Duration
	}
	return time.Duration(s.Load.Duration)
}

// sweepRun is one run of one variant, stored under dir, with at most left
// for a capacity search.
func (o *SweepOptions) sweepRun(ctx context.Context, cfg *ABConfig, dir string, left time.Duration) (results.SweepRun, error) {
	var run results.SweepRun
	ro, err := cfg.runOptions(o.Run, dir)
	if err != nil {
		run.Status, run.Error = results.StatusFailed, err.Error()
		return run, err
	}
	fill := func(res *Outcome) {
		run.ID, run.Status, run.Error, run.Summary = filepath.Base(res.Dir), res.Result.Status, res.Result.Error, res.Result.Summary
		run.Servers = results.ServersP99(res.Result.Servers)
	}
	if o.Capacity == nil {
		res, err := o.RunOne(ctx, cfg.Spec, ro)
		if res != nil {
			fill(res)
		}
		return failedRun(run, err), err
	}
	co := CapacityOptions{CapacityConfig: *o.Capacity, Table: o.Table}
	co.MaxTime = min(co.MaxTime, left)
	res, err := o.CapacityOne(ctx, cfg.Spec, ro, co)
	if errors.Is(err, ErrNoCapacity) {
		err = nil // a finding: capacity 0
	}
	if res != nil {
		fill(&res.Outcome)
		run.Capacity, run.Saturated = results.SweepSearchOf(res.Capacity), res.Saturated
	}
	return failedRun(run, err), err
}

// failedRun marks run failed by err (a run without a record, or whose
// record did not say so).
func failedRun(run results.SweepRun, err error) results.SweepRun {
	if err != nil && !errors.Is(err, context.Canceled) && run.Status != results.StatusInterrupted {
		run.Status = results.StatusFailed
		if run.Error == "" {
			run.Error = err.Error()
		}
	}
	if run.Status == "" {
		run.Status = results.StatusFailed
	}
	return run
}

func (o *SweepOptions) logRun(sw *results.Sweep, r results.SweepRun, total int) {
	if o.Log == nil {
		return
	}
	fig := fmt.Sprintf("p99 %s, %.1f req/s", results.FormatSeconds(results.Latency(r.Summary).P99), r.Summary.Throughput)
	if r.Capacity != nil {
		fig = fmt.Sprintf("capacity %g req/s [%g, %g)", r.Capacity.Rate, r.Capacity.LowGood, r.Capacity.HighBad)
	}
	if r.Error != "" {
		fig += ": " + r.Error
	}
	fmt.Fprintf(o.Log, "sweep run %d/%d (round %d, #%d %s): %s, %s\n", r.Seq, total, r.Round, r.Variant+1, sw.Variants[r.Variant].Label, r.Status, fig)
}
