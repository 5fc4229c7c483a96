package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/results/report"
	"github.com/duckbench/duckbench/runner"
	"github.com/duckbench/duckbench/spec"
)

func init() { register(newCheckCmd) }

// checkFlags are run's flags plus the baseline, thresholds and output format.
type checkFlags struct {
	runFlags
	thresholdFlags
	baseline   string
	asJSON     bool
	asMarkdown bool
}

// thresholdFlags set the regression thresholds of check and ab.
type thresholdFlags struct {
	th results.Thresholds // set by flags; only Changed ones count
}

func (f *thresholdFlags) add(c *cobra.Command) {
	fl := c.Flags()
	fl.Var(percentFlag{&f.th.MaxP99Regression}, "max-p99-regression", "largest allowed p99 increase (overrides the spec's check section)")
	fl.Var(percentFlag{&f.th.MaxThroughputDrop}, "max-throughput-drop", "largest allowed throughput drop (overrides the spec's check section)")
	fl.Var(percentFlag{&f.th.MaxErrorRate}, "max-error-rate", "largest allowed error rate of the new run (overrides the spec's check section)")
	fl.Float64Var(&f.th.Alpha, "alpha", results.DefaultAlpha, "significance level of the tests (overrides the spec's check section)")
}

func newCheckCmd() *cobra.Command {
	return checkCmd(&checkFlags{thresholdFlags: thresholdFlags{th: results.DefaultThresholds()}})
}

// checkCmd is the check command bound to f.
func checkCmd(f *checkFlags) *cobra.Command {
	c := &cobra.Command{
		Use:   "check SPEC --baseline FILE",
		Short: "Run the spec and compare the result against a baseline: the CI gate",
		Long: `check is run followed by compare: it brings the stack up, drives the spec's
load in --repeat trials (default 6), records the result under --results,
tears down, and compares the result against --baseline (a result.json,
usually a committed results/baselines/<spec>.json made with duckbench
baseline from a run with --repeat 6).

The trials are the samples of the tests (per-second samples are
autocorrelated and never tested): 6 vs 6 finds a 20 % p99 regression at
least 90 % of the time under 6 % run-to-run noise; a baseline of one trial
supports no test at all, and check says so. A baseline from another day or
machine mixes that machine's noise into the change: to judge a config
change, prefer duckbench ab OLD.yaml NEW.yaml on one machine.

Thresholds come from the flags, else from the spec's check section, else the
defaults (p99 +10%, throughput -5%, error rate 0.1%, alpha 0.05). A metric is
a regression only when it is past its threshold and the difference is
significant. The spec's SLO is judged too.

The run's summary goes to stderr with --json or --markdown, so that stdout
holds only the comparison (e.g. >> $GITHUB_STEP_SUMMARY).

Exit codes: 0 no regression and the SLO held, 1 regression or SLO violated,
2 bad usage, bad spec, unreadable baseline or a baseline of another spec,
3 the stack or a dependency failed, 130 interrupted.`,
		Example: `  duckbench check examples/seed.yaml --baseline results/baselines/seed.json
  duckbench check examples/seed.yaml --baseline results/baselines/seed.json --markdown >> "$GITHUB_STEP_SUMMARY"
  duckbench check examples/seed.yaml --baseline base.json --max-p99-regression 5% --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd, f, args[0])
		},
	}
	f.runFlags.add(c)
	fl := c.Flags()
	fl.StringVar(&f.baseline, "baseline", "", "baseline result (result.json or its run folder) to compare against (required)")
	f.thresholdFlags.add(c)
	fl.BoolVar(&f.asJSON, "json", false, "print the comparison as JSON")
	fl.BoolVar(&f.asMarkdown, "markdown", false, "print the comparison as Markdown (for a pull-request comment or a job summary)")
	c.MarkFlagRequired("baseline")
	return c
}

// thresholds are the spec's check section (with defaults), each overridden
// by the flag that was given.
func (f *thresholdFlags) resolve(cmd *cobra.Command, s *spec.Spec) (results.Thresholds, error) {
	th := results.ThresholdsFromSpec(s.Check)
	fl := cmd.Flags()
	if fl.Changed("max-p99-regression") {
		th.MaxP99Regression = f.th.MaxP99Regression
	}
	if fl.Changed("max-throughput-drop") {
		th.MaxThroughputDrop = f.th.MaxThroughputDrop
	}
	if fl.Changed("max-error-rate") {
		th.MaxErrorRate = f.th.MaxErrorRate
	}
	if fl.Changed("alpha") {
		if f.th.Alpha <= 0 || f.th.Alpha >= 1 {
			return th, usageErr(fmt.Errorf("--alpha: must be between 0 and 1 (got %g)", f.th.Alpha))
		}
		th.Alpha = f.th.Alpha
	}
	return th, nil
}

func runCheck(cmd *cobra.Command, f *checkFlags, path string) error {
	if f.asJSON && f.asMarkdown {
		return usageErr(errors.New("--json and --markdown exclude each other"))
	}
	if f.agents != 0 {
		return usageErr(errors.New("check --agents: not supported yet (check runs repeated trials, a sharded run one); use run --agents"))
	}
	base, err := results.Load(f.baseline)
	if err != nil {
		return usageErr(fmt.Errorf("--baseline: %w (make one with: duckbench run %s && duckbench baseline results/<run>)", err, path))
	}
	var th results.Thresholds
	ss, err := f.prepare(cmd, path, func(s *spec.Spec, o *runner.Options) error {
		if base.Spec.Name != s.Name {
			return usageErr(fmt.Errorf("baseline %s is of spec %q, not %q (%s): a check compares runs of one spec; promote a result of %s with duckbench baseline",
				f.baseline, base.Spec.Name, s.Name, path, path))
		}
		var err error
		if th, err = f.thresholdFlags.resolve(cmd, s); err != nil {
			return err
		}
		if err := f.configure(s, o); err != nil {
			return err
		}
		if !cmd.Flags().Changed("repeat") {
			o.Repeat = results.DefaultRounds
		}
		if nb := max(len(base.Trials), 1); results.MinAttainableP(nb, o.Repeat) >= th.Alpha {
			fmt.Fprintf(cmd.ErrOrStderr(), "warning: %d baseline trial(s) vs %d: no test can reach p < %g, so no change can be called a regression; re-record the baseline with duckbench run %s --repeat %d\n",
				nb, o.Repeat, th.Alpha, path, results.DefaultRounds)
		}
		if f.asJSON || f.asMarkdown {
			o.Out = cmd.ErrOrStderr() // stdout holds only the comparison
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer ss.stop()
	out, runErr := runner.Run(ss.work, ss.spec, ss.opts)
	exit := sessionExit(ss.work, out, runErr, "partial result", true)
	var ee *exitError
	if exit != nil && (!errors.As(exit, &ee) || ee.code != exitCheckFail) {
		return exit // interrupted, or the stack failed: nothing to compare
	}

	stdout := cmd.OutOrStdout()
	cmp := results.Compare(base, out.Result, th)
	switch {
	case f.asJSON:
		err = report.WriteCheckJSON(stdout, cmp, out.Result.SLO)
	case f.asMarkdown:
		if err = report.WriteCompareMarkdown(stdout, cmp); err == nil {
			err = report.WriteSLOMarkdown(stdout, out.Result.SLO)
		}
	default:
		fmt.Fprintf(stdout, "\nComparison against %s\n", f.baseline)
		err = report.WriteCompareText(stdout, cmp)
	}
	if err != nil {
		return fmt.Errorf("write comparison: %w", err)
	}
	var reasons []string
	if cmp.Regression {
		reasons = append(reasons, "regression: "+strings.Join(cmp.Reasons, "; "))
	}
	if v := out.Result.SLO; v != nil && !v.Pass {
		reasons = append(reasons, "SLO violated: "+failedChecks(v))
	}
	if len(reasons) > 0 {
		return checkErr(fmt.Errorf("check failed against %s: %s (result: %s)", f.baseline, strings.Join(reasons, "; "), out.Path))
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "check passed against %s (result: %s)\n", f.baseline, out.Path)
	return nil
}

func failedChecks(v *results.Verdict) string {
	var s []string
	for _, c := range v.Checks {
		if !c.Pass {
			s = append(s, fmt.Sprintf("%s %s (observed %s)", c.Name, c.Threshold, c.Observed))
		}
	}
	return strings.Join(s, ", ")
}
