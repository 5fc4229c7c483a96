package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/results/report"
	"github.com/duckbench/duckbench/spec"
)

func init() { register(newCompareCmd) }

// percentFlag is a pflag.Value reading "10%" or 0.1.
type percentFlag struct{ p *float64 }

func (f percentFlag) String() string {
	if f.p == nil {
		return ""
	}
	return spec.Percent(*f.p).String()
}

func (f percentFlag) Set(s string) error {
	var p spec.Percent
	if err := p.UnmarshalText([]byte(s)); err != nil {
		return err
	}
	if p < 0 {
		return fmt.Errorf("must not be negative (got %q)", s)
	}
	*f.p = float64(p)
	return nil
}

func (f percentFlag) Type() string { return "percent" }

func newCompareCmd() *cobra.Command {
	th := results.DefaultThresholds()
	var asJSON, asMarkdown, force bool
	c := &cobra.Command{
		Use:   "compare BASE NEW",
		Short: "Compare two results and flag significant regressions",
		Long: `Compare sets a new result against a baseline: throughput, p50/p90/p99/p99.9/max,
error rate, replication delay p99 per replica, per-backend share skew and cache
hit ratio, with absolute and relative deltas.

A gated metric (p99, throughput, error rate) is a regression only when it is
worse than its threshold AND the difference is significant (p < alpha). The
samples are the trials of each result (run --repeat N): a two-sided
Mann-Whitney U test (golang.org/x/perf/benchmath, exact with ties) with the
Hodges-Lehmann change and its confidence interval; Fisher's exact test for
the error rate. Per-second samples are autocorrelated and never tested. The
output says how many samples each side had and the smallest p they can give:
with 1 trial a side nothing can be significant, and compare says so instead
of guessing (record with --repeat 6, or use duckbench ab).

Exit status: 0 no regression, 1 regression, 2 unreadable input or results of
different specs (use --force to compare them anyway).`,
		Example: `  duckbench compare results/baselines/seed.json results/20261127T120102Z-seed
  duckbench compare base.json new.json --max-p99-regression 5% --alpha 0.01
  duckbench compare base.json new.json --markdown > comment.md`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON && asMarkdown {
				return usageErr(errors.New("--json and --markdown exclude each other"))
			}
			if th.Alpha <= 0 || th.Alpha >= 1 {
				return usageErr(fmt.Errorf("--alpha must be between 0 and 1 (got %g)", th.Alpha))
			}
			base, err := results.Load(args[0])
			if err != nil {
				return usageErr(fmt.Errorf("base: %w", err))
			}
			next, err := results.Load(args[1])
			if err != nil {
				return usageErr(fmt.Errorf("new: %w", err))
			}
			if base.Spec.Name != next.Spec.Name && !force {
				return usageErr(fmt.Errorf("refusing to compare results of different specs: %q (%s) vs %q (%s); pass --force to compare anyway",
					base.Spec.Name, args[0], next.Spec.Name, args[1]))
			}
			cmp := results.Compare(base, next, th)
			out := cmd.OutOrStdout()
			switch {
			case asJSON:
				err = report.WriteJSON(out, cmp)
			case asMarkdown:
				err = report.WriteCompareMarkdown(out, cmp)
			default:
				err = report.WriteCompareText(out, cmp)
			}
			if err != nil {
				return fmt.Errorf("write comparison: %w", err)
			}
			if cmp.Regression {
				return checkErr(fmt.Errorf("regression: %s", strings.Join(cmp.Reasons, "; ")))
			}
			return nil
		},
	}
	f := c.Flags()
	f.Var(percentFlag{&th.MaxP99Regression}, "max-p99-regression", "largest allowed p99 increase (e.g. 10%)")
	f.Var(percentFlag{&th.MaxThroughputDrop}, "max-throughput-drop", "largest allowed throughput drop (e.g. 5%)")
	f.Var(percentFlag{&th.MaxErrorRate}, "max-error-rate", "largest allowed error rate of the new run (e.g. 0.1%)")
	f.Float64Var(&th.Alpha, "alpha", results.DefaultAlpha, "significance level of the tests")
	f.BoolVar(&asJSON, "json", false, "print the comparison as JSON")
	f.BoolVar(&asMarkdown, "markdown", false, "print the comparison as Markdown (for a pull-request comment)")
	f.BoolVar(&force, "force", false, "compare results of different specs")
	return c
}
