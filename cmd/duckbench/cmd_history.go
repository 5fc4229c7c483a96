package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/export/pushgw"
	"github.com/duckbench/duckbench/history"
)

func init() { register(newHistoryCmd) }

type historyFlags struct {
	resultsDir, metric, specHash, promURL, htmlPath, pushgateway string
	labels                                                       []string
	last                                                         int
	window                                                       time.Duration
	opts                                                         history.DetectOptions
	asJSON, asMarkdown                                           bool
}

func newHistoryCmd() *cobra.Command {
	f := &historyFlags{}
	c := &cobra.Command{
		Use:   "history [SPEC-NAME]",
		Short: "A metric over stored (or pushed) runs, its change points, and whether the newest runs regressed",
		Long: `history reads one metric of every completed run under --results (or of the runs
pushed to a Pushgateway that --prometheus-url's Prometheus scrapes), oldest
first, filtered by spec name, spec hash and labels (run --label k=v), and finds
its change points by E-Divisive means with a permutation test. Each change point
comes with its size, its confidence, the runs on either side and what changed
between them (spec fields, rendered files, labels such as commit).

Exit 1 when the newest segment starts with a significant regression: a CI gate
on the history, not on one pair of runs.`,
		Example: `  duckbench history seed --metric p99
  duckbench history seed --label branch=main --markdown >> "$GITHUB_STEP_SUMMARY"
  duckbench history seed --prometheus-url http://127.0.0.1:9090 --html history.html`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runHistory(cmd, f, args) },
	}
	fl := c.Flags()
	fl.StringVar(&f.resultsDir, "results", "results", "directory of stored runs")
	fl.StringVar(&f.metric, "metric", "p99", "metric to follow: "+strings.Join(history.MetricNames(), ", "))
	fl.StringVar(&f.specHash, "spec-hash", "", "only runs whose spec hash starts with this")
	fl.StringArrayVar(&f.labels, "label", nil, "only runs with this label k=v (repeatable)")
	fl.IntVar(&f.last, "last", 0, "only the newest N runs (0: all)")
	fl.StringVar(&f.promURL, "prometheus-url", "", "read the runs pushed with --pushgateway from this Prometheus instead of --results")
	fl.DurationVar(&f.window, "window", history.DefaultWindow, "with --prometheus-url: how far back to look")
	fl.Float64Var(&f.opts.Alpha, "alpha", history.DefaultAlpha, "significance level of a change point")
	fl.IntVar(&f.opts.Permutations, "permutations", history.DefaultPermutations, "permutations of the significance test")
	fl.IntVar(&f.opts.MinSegment, "min-segment", history.DefaultMinSegment, "fewest runs on either side of a change point")
	fl.Float64Var(&f.opts.MinChange, "min-change", history.DefaultMinChange, "smallest relative change reported (0.05: 5 %); smaller significant changes are merged away")
	fl.BoolVar(&f.asJSON, "json", false, "write JSON")
	fl.BoolVar(&f.asMarkdown, "markdown", false, "write Markdown (for a CI comment)")
	fl.StringVar(&f.htmlPath, "html", "", "also write an HTML report with the trend chart to this file")
	fl.StringVar(&f.pushgateway, "pushgateway", "", "push the change points to this Pushgateway (the history board annotates them; needs SPEC-NAME)")
	return c
}

func runHistory(cmd *cobra.Command, f *historyFlags, args []string) error {
	m, ok := history.Metrics[f.metric]
	if !ok {
		return usageErr(fmt.Errorf("--metric %q: want one of %s", f.metric, strings.Join(history.MetricNames(), ", ")))
	}
	if f.opts.Alpha <= 0 || f.opts.Alpha >= 1 || f.opts.Permutations < 1 || f.opts.MinSegment < 2 || f.opts.MinChange < 0 {
		return usageErr(errors.New("--alpha must be in (0, 1), --permutations ≥ 1, --min-segment ≥ 2, --min-change ≥ 0"))
	}
	labels, err := parseLabelFilter(f.labels)
	if err != nil {
		return usageErr(err)
	}
	filter := history.Filter{SpecHash: f.specHash, Labels: labels, Last: f.last}
	if len(args) == 1 {
		filter.Spec = args[0]
	}
	var pts []history.Point
	if f.promURL != "" {
		pts, err = history.FromPrometheus(cmd.Context(), f.promURL, m, filter, f.window, time.Now())
	} else {
		pts, err = history.FromResults(f.resultsDir, m, filter)
	}
	if err != nil {
		return depErr(err)
	}
	a, err := history.Analyze(pts, m, f.opts)
	if errors.Is(err, history.ErrTooFew) {
		fmt.Fprintf(progress, "history: %d runs of %s; at least %d are needed for a change point\n", len(pts), m.Name, 2*f.opts.MinSegment)
	}
	out := cmd.OutOrStdout()
	switch {
	case f.asJSON:
		err = history.WriteJSON(out, a)
	case f.asMarkdown:
		err = history.WriteMarkdown(out, a)
	default:
		err = history.WriteText(out, a)
	}
	if err != nil {
		return err
	}
	if f.htmlPath != "" {
		if err := writeHistoryHTML(f.htmlPath, a); err != nil {
			return err
		}
	}
	if f.pushgateway != "" {
		if filter.Spec == "" {
			return usageErr(errors.New("--pushgateway needs SPEC-NAME: change points are pushed per spec"))
		}
		if err := pushgw.PushChangePoints(cmd.Context(), f.pushgateway, filter.Spec, m.Name, changePointsToPush(a)); err != nil {
			return depErr(err)
		}
	}
	if a.NewestRegression {
		return checkErr(fmt.Errorf("the newest runs regressed on %s", m.Name))
	}
	return nil
}

func changePointsToPush(a *history.Analysis) []pushgw.ChangePoint {
	var out []pushgw.ChangePoint
	for _, cp := range a.ChangePoints {
		out = append(out, pushgw.ChangePoint{AfterRun: cp.After, At: float64(a.Points[cp.Index].Time.UnixMilli()) / 1e3,
			Change: cp.Change, Regression: cp.Regression})
	}
	return out
}

func writeHistoryHTML(path string, a *history.Analysis) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := history.WriteHTML(fh, a); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// parseLabelFilter is --label k=v of history (any label name, duckbench's
// own included).
func parseLabelFilter(kvs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !labelName.MatchString(k) {
			return nil, fmt.Errorf("--label %q: want name=value", kv)
		}
		out[k] = v
	}
	return out, nil
}
