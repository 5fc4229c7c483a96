package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/results/report"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

// ABConfig is one side of an ab: a spec, where it came from, and how to
// build a fresh stack driver for each of its runs.
type ABConfig struct {
	Spec      *spec.Spec
	Path      string
	NewDriver func() (stack.Driver, error)
	// NewMonitor builds this side's probes (nil: Options.NewMonitor).
	NewMonitor func(ep stack.Endpoints) (Monitor, error)
	// Build names the duckbench build that runs this side ("": this one);
	// two sides of one spec but different builds are no A/A.
	Build string
	// RunOne performs this side's runs (nil: ABOptions.RunOne), e.g. by
	// another duckbench binary; NewDriver may then be nil.
	RunOne func(ctx context.Context, s *spec.Spec, o Options) (*Outcome, error)
}

// ABOptions configure an interleaved A/B comparison. Zero values take the
// documented defaults.
type ABOptions struct {
	// Rounds is the number of runs per side (default results.DefaultRounds).
	Rounds int
	// Cooldown separates the runs (default DefaultCooldown).
	Cooldown time.Duration
	// Thresholds of the comparison (zero fields take defaults).
	Thresholds results.Thresholds
	// AA marks both sides as the same config (a noise measurement).
	AA bool
	// Run holds the options every run shares (ResultsDir, Duration, Rate,
	// Listen, NewMonitor, Version, Abort …). Driver, SpecPath and Out are
	// set per run; the ab's folder goes under Run.ResultsDir.
	Run Options
	// Log receives one line per run (nil: none).
	Log io.Writer
	// RunOne performs one run (default Run; tests replace it).
	RunOne func(ctx context.Context, s *spec.Spec, o Options) (*Outcome, error)
}

// ABOutcome is what an ab leaves behind.
type ABOutcome struct {
	AB *results.AB
	// Dir is results/<id>; Path its ab.json, HTML its report.html.
	Dir, Path, HTML string
}

// AB runs a and b in counterbalanced alternation (A B, B A, A B, …), one
// stack at a time with a fresh stack per run, the same attack duration on
// both sides and a cooldown between runs, stores every run under the ab's
// folder and compares the sides run by run. It returns the outcome whenever
// something was recorded, with an error when a run failed or ctx was
// cancelled.
func AB(ctx context.Context, a, b ABConfig, o ABOptions) (*ABOutcome, error) {
	if o.Rounds <= 0 {
		o.Rounds = results.DefaultRounds
	}
	batchDefaults(&o.Cooldown, &o.RunOne, &o.Run)
	// Same generator, same duration: B attacks as long as A.
	if o.Run.Duration == 0 {
		o.Run.Duration = time.Duration(a.Spec.Load.Duration)
	}
	started := o.Run.Now()
	ab := &results.AB{
		ID:        results.NewID(started, "ab-"+a.Spec.Name+"-vs-"+b.Spec.Name),
		StartedAt: started.UTC(),
		A:         results.ABSide{Spec: a.Spec.Name, Path: a.Path, Hash: a.Spec.Hash()},
		B:         results.ABSide{Spec: b.Spec.Name, Path: b.Path, Hash: b.Spec.Hash()},
		AA:        o.AA || (a.Spec.Hash() == b.Spec.Hash() && a.Build == b.Build),
		Rounds:    o.Rounds,
		Status:    results.StatusCompleted,
	}
	out := &ABOutcome{AB: ab, Dir: filepath.Join(o.Run.ResultsDir, ab.ID)}
	if err := os.MkdirAll(out.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create ab dir: %w", err)
	}
	var warnings []string
	if !reflect.DeepEqual(a.Spec.Load, b.Spec.Load) {
		warnings = append(warnings, "the load sections differ: both sides attack for the same duration, each at its own rate and mix")
	}

	var runs = map[string][]*results.Result{}
	var runErr error
	for i, side := range results.ABOrder(o.Rounds) {
		if i > 0 && !sleep(ctx, o.Cooldown) {
			break
		}
		cfg := a
		if side == "B" {
			cfg = b
		}
		r, err := abRun(ctx, cfg, o, out.Dir)
		if r != nil {
			ab.Runs = append(ab.Runs, results.ABRun{Seq: i + 1, Round: i/2 + 1, Side: side, ID: r.ID, Status: r.Status, Summary: r.Summary})
			runs[side] = append(runs[side], r)
			o.logf("run %d/%d (round %d, %s %s): p99 %s, %.1f req/s, %d errors", i+1, 2*o.Rounds, i/2+1, side,
				cfg.Path, results.FormatSeconds(results.Latency(r.Summary).P99), r.Summary.Throughput, r.Summary.Errors)
		}
		if err != nil {
			runErr = fmt.Errorf("run %d (%s %s): %w", i+1, side, cfg.Path, err)
			break
		}
		if ctx.Err() != nil {
			break
		}
	}
	switch {
	case ctx.Err() != nil:
		ab.Status, ab.Error = results.StatusInterrupted, "interrupted"
	case runErr != nil:
		ab.Status, ab.Error = results.StatusFailed, runErr.Error()
	}
	if len(runs["A"]) > 0 && len(runs["B"]) > 0 {
		ab.Comparison = results.CompareAB(ab, runs["A"], runs["B"], o.Thresholds)
		ab.Comparison.Warnings = append(ab.Comparison.Warnings, warnings...)
		if ab.Status != results.StatusCompleted {
			ab.Comparison.Warnings = append(ab.Comparison.Warnings, fmt.Sprintf("the ab is %s: only the runs so far are compared", ab.Status))
		}
	}
	ab.EndedAt = o.Run.Now().UTC()
	return out, batchEnd(ctx, "ab", runErr, func() (err error) {
		out.Path, out.HTML, err = report.WriteABFiles(out.Dir, ab)
		return err
	})
}

// batchEnd is the error a batch of runs (ab, sweep) ends with once write
// has stored its record: the runs' error joined with write's, or ctx's
// when it was interrupted.
func batchEnd(ctx context.Context, what string, runErr error, write func() error) error {
	if err := write(); err != nil {
		return errors.Join(runErr, err)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s interrupted: %w", what, ctx.Err())
	}
	return runErr
}

// batchDefaults are the defaults of a batch of runs (ab, sweep): the
// cooldown between runs, the run function, the clock and the results dir.
func batchDefaults(cooldown *time.Duration, runOne *func(context.Context, *spec.Spec, Options) (*Outcome, error), run *Options) {
	if *cooldown == 0 {
		*cooldown = DefaultCooldown
	}
	if *runOne == nil {
		*runOne = Run
	}
	if run.Now == nil {
		run.Now = time.Now
	}
	if run.ResultsDir == "" {
		run.ResultsDir = "results"
	}
}

// abRun is one run of one side, stored under dir.
func abRun(ctx context.Context, cfg ABConfig, o ABOptions, dir string) (*results.Result, error) {
	ro, err := cfg.runOptions(o.Run, dir)
	if err != nil {
		return nil, err
	}
	run := o.RunOne
	if cfg.RunOne != nil {
		run = cfg.RunOne
	}
	res, err := run(ctx, cfg.Spec, ro)
	if res == nil {
		return nil, err
	}
	return res.Result, err
}

// runOptions are base's options for one run of cfg stored under dir: a
// fresh driver, cfg's path and probes, one trial, no printed summary.
func (cfg ABConfig) runOptions(base Options, dir string) (Options, error) {
	var d stack.Driver
	if cfg.NewDriver != nil {
		var err error
		if d, err = cfg.NewDriver(); err != nil {
			return base, err
		}
	}
	ro := base
	ro.Driver, ro.SpecPath, ro.ResultsDir, ro.Out, ro.Repeat = d, cfg.Path, dir, nil, 1
	if cfg.NewMonitor != nil {
		ro.NewMonitor = cfg.NewMonitor
	}
	return ro, nil
}

func (o *ABOptions) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}
