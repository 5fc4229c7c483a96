package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/runner"
	"github.com/duckbench/duckbench/spec"
)

func init() { register(newRunCmd) }

// runFlags are shared by run and check.
type runFlags struct {
	stackFlags
	duration   time.Duration
	rate       string
	resultsDir string
	repeat     int
	raw        bool
	quiet      bool
	listen     string
	prometheus bool
}

func (f *runFlags) add(c *cobra.Command) {
	f.stackFlags.add(c)
	fl := c.Flags()
	fl.DurationVar(&f.duration, "duration", 0, "attack duration (overrides load.duration)")
	fl.StringVar(&f.rate, "rate", "", `request rate in req/s or "max" (overrides load.rate)`)
	fl.StringVar(&f.resultsDir, "results", "results", "directory that receives <UTC timestamp>-<spec>/")
	fl.IntVar(&f.repeat, "repeat", 1, "run the attack N times (trials) for a noise-aware compare")
	fl.BoolVar(&f.raw, "raw", false, "also save every request result in vegeta's format (results.bin): timestamp = intended send time, latency from it, as `vegeta report` reads it")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no live progress")
	fl.StringVar(&f.listen, "exporter-listen", "", `Prometheus exporter address (default the spec's probes.listen, 127.0.0.1:9477; "off" for none)`)
	fl.BoolVar(&f.prometheus, "prometheus", false, "also start a local Prometheus scraping the run; its TSDB stays in the run directory")
}

// options turns the flags into runner options; the spec was loaded by the caller.
func (f *runFlags) options(cmd *cobra.Command, s *spec.Spec, specPath string) (runner.Options, error) {
	o := runner.Options{
		SpecPath:   specPath,
		ResultsDir: f.resultsDir,
		Duration:   f.duration,
		Repeat:     f.repeat,
		Listen:     f.listen,
		Raw:        f.raw,
		Out:        cmd.OutOrStdout(),
		Log:        progress,
		Version:    version,
		NewMonitor: newMonitor(s),
	}
	if f.duration < 0 {
		return o, usageErr(fmt.Errorf("--duration: must be > 0 (got %v)", f.duration))
	}
	if f.repeat < 1 {
		return o, usageErr(fmt.Errorf("--repeat: must be >= 1 (got %d)", f.repeat))
	}
	if f.rate != "" {
		var r spec.Rate
		if err := r.UnmarshalText([]byte(f.rate)); err != nil || (r < 0 && !r.IsMax()) || r == 0 {
			return o, usageErr(fmt.Errorf("--rate: must be a positive number of requests per second or \"max\" (got %q)", f.rate))
		}
		o.Rate = &r
	}
	if !f.quiet {
		pr := load.NewPrinter(os.Stderr, load.IsTerminal(os.Stderr))
		o.Progress = pr.Update
	}
	if f.prometheus {
		o.AfterUp = runner.LocalPrometheus(progress)
	}
	return o, nil
}

func newRunCmd() *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "run SPEC",
		Short: "Bring the stack up, drive load through HAProxy, record and report the result, tear down",
		Long: `run is the whole benchmark: render the spec, bring the stack up (local
processes by default), start the probes and the Prometheus exporter, attack
HAProxy with the spec's load, inject its faults, write
results/<UTC timestamp>-<spec>/result.json and report.html, print the summary
and the SLO verdict, and tear the stack down.

Ctrl-C stops the attack, keeps the results so far (marked interrupted) and
tears down; a second Ctrl-C aborts at once but still stops what was started.

Exit codes: 0 ok, 1 SLO violated, 2 bad spec or usage, 3 the stack or a
dependency failed, 130 interrupted.`,
		Example: `  duckbench run examples/seed.yaml
  duckbench run examples/seed.yaml --duration 10s --rate 500
  duckbench run examples/seed.yaml --rate max --duration 30s --raw
  duckbench run examples/seed.yaml --repeat 5 --results results/
  duckbench run examples/seed.yaml --prometheus`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := runSpec(cmd, &f, args[0])
			return err
		},
	}
	f.add(c)
	return c
}

// runSpec performs a run and maps its outcome to an exit code.
func runSpec(cmd *cobra.Command, f *runFlags, path string) (*runner.Outcome, error) {
	s, d, err := f.loadDriver(path)
	if err != nil {
		return nil, err
	}
	o, err := f.options(cmd, s, path)
	if err != nil {
		return nil, err
	}
	work, abort, stop := interruptible(cmd.Context())
	defer stop()
	o.Driver, o.Abort = d, abort
	out, err := runner.Run(work, s, o)
	return out, runExit(work, out, err)
}

// runExit maps a run's outcome to duckbench's exit codes.
func runExit(ctx context.Context, out *runner.Outcome, err error) error {
	// A signal that arrives only during teardown of a completed run does
	// not make the run interrupted: the recorded status decides.
	interrupted := ctx.Err() != nil && (out == nil || out.Result.Status == results.StatusInterrupted)
	switch {
	case interrupted:
		return withCode(exitInterrupted, fmt.Errorf("interrupted; partial result kept%s", resultHint(out)))
	case err != nil && errors.Is(err, runner.ErrStackDown):
		return depErr(err)
	case err != nil:
		var ee *exitError
		if errors.As(err, &ee) {
			return err
		}
		return depErr(err)
	case out != nil && out.Result.SLO != nil && !out.Result.SLO.Pass:
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
