package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/results/report"
	"github.com/duckbench/duckbench/runner"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

func init() { register(newABCmd) }

// abFlags are the flags of ab.
type abFlags struct {
	stackFlags
	thresholdFlags
	exportFlags
	rounds     int
	cooldown   time.Duration
	aa         bool
	duration   time.Duration
	rate       string
	resultsDir string
	listen     string
	quiet      bool
	asJSON     bool
	asMarkdown bool
	// oldBinary, newBinary run that side with another duckbench build.
	oldBinary, newBinary string
}

func newABCmd() *cobra.Command {
	f := &abFlags{thresholdFlags: thresholdFlags{th: results.DefaultThresholds()}}
	c := &cobra.Command{
		Use:   "ab OLD.yaml NEW.yaml | ab SPEC --aa",
		Short: "Interleaved A/B runs of two configs on this machine: the sound regression check of a config change",
		Long: `ab runs two specs in counterbalanced alternation — A B, B A, A B, … — with a
fresh stack for every run (one stack at a time), the same attack duration on
both sides (A's, or --duration) and a cooldown between runs, so that a slow
drift of the machine favours neither side. Every run is stored under
results/<UTC timestamp>-ab-<a>-vs-<b>/ with ab.json and a report.html that
charts each run.

Each run is one sample (per-second samples are autocorrelated and never
tested as independent). Per metric: the median of each side, the change
(Hodges-Lehmann shift) with its confidence interval, and the two-sided
Mann-Whitney p (golang.org/x/perf/benchmath, exact with ties); Fisher's exact
test for the error rate. Verdicts: regression (significant and past the
threshold), worse, improvement, ~ (no significant change).

The default --rounds (6 runs per side) is the smallest that finds a true
20 % p99 regression at least 90 % of the time under 6 % run-to-run noise; 4 is
the fewest that can reach p < 0.05 at all.

ab SPEC SPEC (or ab SPEC --aa) measures the machine's noise: the report
says, per gated metric, whether this machine can resolve a change as small
as its threshold with this many rounds.

--old-binary PATH (and --new-binary PATH) run that side's runs with another
duckbench build, PATH run SPEC (its configs, app and load generator), and
compare what it stored: base build + base spec against the pull request's
build + spec sees a code change, which one binary on both sides cannot.

Thresholds come from the flags, else from OLD's check section, else the
defaults (p99 +10%, throughput -5%, error rate 0.1%, alpha 0.05).

Exit codes: 0 no regression, 1 a regression past its threshold, 2 bad usage
or spec, 3 a run's stack failed, 130 interrupted (the runs so far are kept
and compared).`,
		Example: `  duckbench ab examples/seed.yaml slower.yaml
  duckbench ab examples/seed.yaml examples/seed.yaml --rounds 8 --duration 10s   # the machine's noise
  duckbench ab base.yaml pr.yaml --markdown >> "$GITHUB_STEP_SUMMARY"
  duckbench ab base.yaml pr.yaml --old-binary ./duckbench-base   # base build vs this one`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error { return runAB(cmd, f, args) },
	}
	f.stackFlags.add(c)
	f.addRegistry(c)
	f.thresholdFlags.add(c)
	f.exportFlags.add(c)
	fl := c.Flags()
	fl.IntVar(&f.rounds, "rounds", results.DefaultRounds, "runs per side")
	fl.DurationVar(&f.cooldown, "cooldown", runner.DefaultCooldown, "pause between runs")
	fl.BoolVar(&f.aa, "aa", false, "A/A: run the one SPEC on both sides to measure the machine's noise")
	fl.DurationVar(&f.duration, "duration", 0, "attack duration of every run (default OLD's load.duration)")
	fl.StringVar(&f.rate, "rate", "", `request rate of every run in req/s or "max" (default each spec's load.rate)`)
	fl.StringVar(&f.resultsDir, "results", "results", "directory that receives <UTC timestamp>-ab-<a>-vs-<b>/")
	fl.StringVar(&f.listen, "exporter-listen", "", `Prometheus exporter address of each run (default the spec's probes.listen; "off" for none)`)
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no live progress")
	fl.BoolVar(&f.asJSON, "json", false, "print the ab record as JSON")
	fl.BoolVar(&f.asMarkdown, "markdown", false, "print the comparison as Markdown (for a pull-request comment)")
	fl.StringVar(&f.oldBinary, "old-binary", "", "run OLD's runs with the duckbench binary at `PATH` (e.g. the base branch's build, so that a code change shows)")
	fl.StringVar(&f.newBinary, "new-binary", "", "run NEW's runs with the duckbench binary at `PATH` (default: this one)")
	return c
}

func runAB(cmd *cobra.Command, f *abFlags, args []string) error {
	switch {
	case f.asJSON && f.asMarkdown:
		return usageErr(errors.New("--json and --markdown exclude each other"))
	case f.aa && len(args) != 1:
		return usageErr(errors.New("--aa takes one SPEC (it runs on both sides)"))
	case !f.aa && len(args) != 2:
		return usageErr(errors.New("ab needs OLD.yaml and NEW.yaml (or one SPEC with --aa)"))
	case f.rounds < 1:
		return usageErr(fmt.Errorf("--rounds: must be >= 1 (got %d)", f.rounds))
	case f.duration < 0 || f.cooldown < 0:
		return usageErr(errors.New("--duration and --cooldown must not be negative"))
	case f.aa && (f.oldBinary != "" || f.newBinary != ""):
		return usageErr(errors.New("--aa: not with --old-binary or --new-binary (two builds are no A/A; give SPEC twice)"))
	case f.observability:
		// Every run has a fresh stack: a Prometheus and Grafana of their own
		// would start and vanish with each (use up --observability and run).
		return usageErr(errors.New("--observability: not with ab (each run has a fresh stack)"))
	}
	if f.aa {
		args = append(args, args[0])
	}
	a, err := f.abConfig(args[0], f.oldBinary, "--old-binary")
	if err != nil {
		return err
	}
	b, err := f.abConfig(args[1], f.newBinary, "--new-binary")
	if err != nil {
		return err
	}
	th, err := f.thresholdFlags.resolve(cmd, a.Spec)
	if err != nil {
		return err
	}
	if p := results.MinAttainableP(f.rounds, f.rounds); p >= th.Alpha {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: %d round(s) per side cannot reach p < %g (smallest p %.3g): the ab can show differences but call none significant; use --rounds %d or more\n",
			f.rounds, th.Alpha, p, results.RunsForAlpha(0, th.Alpha))
	}
	o := runner.ABOptions{Rounds: f.rounds, Cooldown: f.cooldown, Thresholds: th, AA: f.aa, Log: progress,
		Run: runner.Options{ResultsDir: f.resultsDir, Duration: f.duration, Listen: f.listen, Version: version}}
	if err := f.exportFlags.apply(&o.Run); err != nil {
		return err
	}
	if f.rate != "" {
		var r spec.Rate
		if err := r.UnmarshalText([]byte(f.rate)); err != nil || (r < 0 && !r.IsMax()) || r == 0 {
			return usageErr(fmt.Errorf("--rate: must be a positive number of requests per second or \"max\" (got %q)", f.rate))
		}
		o.Run.Rate = &r
	}
	if !f.quiet {
		o.Run.Progress = load.NewPrinter(os.Stderr, load.IsTerminal(os.Stderr)).Update
	}
	work, abort, stop := interruptible(cmd.Context())
	defer stop()
	o.Run.Abort = abort
	out, runErr := runner.AB(work, a, b, o)
	if out == nil {
		return depErr(runErr)
	}
	if err := writeAB(cmd.OutOrStdout(), f, out.AB); err != nil {
		return fmt.Errorf("write ab: %w", err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "ab: %s\nreport: %s\n", out.Path, out.HTML)
	switch {
	case work.Err() != nil:
		return withCode(exitInterrupted, fmt.Errorf("interrupted; the runs so far are kept and compared: %s", out.Path))
	case runErr != nil:
		return depErr(runErr)
	case out.AB.Comparison != nil && out.AB.Comparison.Regression:
		return checkErr(fmt.Errorf("regression: %s", strings.Join(out.AB.Comparison.Reasons, "; ")))
	}
	return nil
}

// abConfig loads one side's spec and checks that a driver can be built;
// with bin (flag names it) the side's runs are that binary's.
func (f *abFlags) abConfig(path, bin, flag string) (runner.ABConfig, error) {
	f.oneTimePassword = true
	s, _, err := f.loadDriver(path)
	if err != nil {
		return runner.ABConfig{}, err
	}
	if bin != "" {
		abs, err := exec.LookPath(bin)
		if err == nil {
			abs, err = filepath.Abs(abs)
		}
		if err != nil {
			return runner.ABConfig{}, usageErr(fmt.Errorf("%s: %w", flag, err))
		}
		return runner.ABConfig{Spec: s, Path: path, Build: abs, RunOne: binaryRun(abs, f)}, nil
	}
	return runner.ABConfig{Spec: s, Path: path, NewMonitor: newMonitor(s), NewDriver: func() (stack.Driver, error) {
		return newDriver(s, stackFlags{runtime: f.runtime, runDir: f.runDir, oneTimePassword: true, registry: f.registry})
	}}, nil
}

func writeAB(w io.Writer, f *abFlags, ab *results.AB) error {
	switch {
	case f.asJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(ab)
	case f.asMarkdown:
		return report.WriteABMarkdown(w, ab)
	}
	return report.WriteABText(w, ab)
}
