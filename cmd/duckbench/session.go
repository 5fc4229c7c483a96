package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/runner"
	"github.com/duckbench/duckbench/spec"
)

// sessionFlags are the flags of every command that brings a stack up for a
// session of attacks — run, check and capacity — declared once so that each
// works alike for all three.
type sessionFlags struct {
	stackFlags
	exportFlags
	resultsDir string
	listen     string
	quiet      bool
	prometheus bool
}

func (f *sessionFlags) add(c *cobra.Command) {
	f.stackFlags.add(c)
	f.addRegistry(c)
	f.exportFlags.add(c)
	fl := c.Flags()
	fl.StringVar(&f.resultsDir, "results", "results", "directory that receives <UTC timestamp>-<spec>/")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no live progress")
	fl.StringVar(&f.listen, "exporter-listen", "", `Prometheus exporter address (default the spec's probes.listen, `+spec.DefaultProbesListen+`; "off" for none)`)
	fl.BoolVar(&f.prometheus, "prometheus", false, "also start a local Prometheus scraping the run; its TSDB stays in the run directory")
}

// session is one command's stack session, ready to run: the spec, the
// runner options with the driver, and the signal contexts.
type session struct {
	spec *spec.Spec
	opts runner.Options
	// work is cancelled by the first SIGINT/SIGTERM; opts.Abort by the
	// second. stop releases the signal handler.
	work context.Context
	stop func()
}

// prepare loads the spec at path and its driver and turns the flags into
// runner options; configure (nil: nothing) adds what the command's own
// flags say. It starts nothing, so a bad flag or spec is a usage error
// before any process runs; the signal handling is installed last.
func (f *sessionFlags) prepare(cmd *cobra.Command, path string, configure func(s *spec.Spec, o *runner.Options) error) (*session, error) {
	f.oneTimePassword = true
	s, d, err := f.loadDriver(path)
	if err != nil {
		return nil, err
	}
	o := runner.Options{
		SpecPath:   path,
		Driver:     d,
		ResultsDir: f.resultsDir,
		Listen:     f.listen,
		Out:        cmd.OutOrStdout(),
		Log:        progress,
		Version:    version,
		NewMonitor: newMonitor(s),
	}
	if !f.quiet {
		o.Progress = load.NewPrinter(os.Stderr, load.IsTerminal(os.Stderr)).Update
	}
	if f.prometheus {
		o.AfterUp = runner.LocalPrometheus(progress)
	}
	if err := f.exportFlags.apply(&o); err != nil {
		return nil, err
	}
	if configure != nil {
		if err := configure(s, &o); err != nil {
			return nil, err
		}
	}
	work, abort, stop := interruptible(cmd.Context())
	o.Abort = abort
	return &session{spec: s, opts: o, work: work, stop: stop}, nil
}

// sessionExit maps a session's outcome to duckbench's exit codes. kept
// says what an interrupted session keeps; with judgeSLO a violated SLO
// verdict is exit 1.
func sessionExit(ctx context.Context, out *runner.Outcome, err error, kept string, judgeSLO bool) error {
	// A signal that arrives only during teardown of a completed session
	// does not make it interrupted: the recorded status decides.
	interrupted := ctx.Err() != nil && (out == nil || out.Result.Status == results.StatusInterrupted)
	switch {
	case interrupted:
		return withCode(exitInterrupted, fmt.Errorf("interrupted; %s kept%s", kept, resultHint(out)))
	case err != nil:
		// The stack failed (runner.ErrStackDown) or a dependency did; an
		// error that already carries a code keeps it.
		return depErr(err)
	case judgeSLO && out != nil && out.Result.SLO != nil && !out.Result.SLO.Pass:
		return checkErr(errors.New("SLO violated (see the verdict above)"))
	}
	return nil
}

func resultHint(out *runner.Outcome) string {
	if out == nil || out.Path == "" {
		return ""
	}
	return ": " + out.Path
}

// rateFlag is --rate: requests per second, or "max"; unset (nil) leaves
// the spec's rate.
type rateFlag struct{ r **spec.Rate }

func (f rateFlag) String() string {
	if f.r == nil || *f.r == nil {
		return ""
	}
	return (*f.r).String()
}

func (f rateFlag) Set(s string) error {
	var r spec.Rate
	if err := r.UnmarshalText([]byte(s)); err != nil || (r <= 0 && !r.IsMax()) {
		return fmt.Errorf(`must be a positive number of requests per second or "max" (got %q)`, s)
	}
	*f.r = &r
	return nil
}

func (f rateFlag) Type() string { return "rate" }
