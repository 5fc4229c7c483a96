package report

import (
	"fmt"
	"github.com/duckbench/duckbench/results"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// formatValue prints v in the metric's unit.
func formatValue(unit string, v float64) string {
	switch unit {
	case "s":
		return results.FormatLatency(v)
	case "ratio":
		return results.FormatPercent(v)
	case "req/s":
		return fmt.Sprintf("%.1f req/s", v)
	}
	return fmt.Sprintf("%g", v)
}

// formatChange is the relative change with its confidence interval,
// "+20.1% [+14.0%, +27.3%]", or the absolute change when there is no
// relative one.
func formatChange(m results.MetricDelta) string {
	if m.Relative == nil {
		switch {
		case m.Unit == "s" && results.IsFailed(m.New) && !results.IsFailed(m.Base):
			return "now failed"
		case m.Unit == "s" && results.IsFailed(m.Base) && !results.IsFailed(m.New):
			return "no longer failed"
		case m.Delta == 0:
			return "0"
		}
		sign := "+"
		if m.Delta < 0 {
			sign = "-"
		}
		switch m.Unit {
		case "s":
			return sign + results.FormatSeconds(math.Abs(m.Delta))
		case "ratio":
			return sign + results.TrimZeros(fmt.Sprintf("%.3f", math.Abs(m.Delta)*100)) + "pp"
		}
		return sign + fmt.Sprintf("%.1f", math.Abs(m.Delta))
	}
	s := fmt.Sprintf("%+.1f%%", *m.Relative*100)
	switch {
	case m.RelLo != nil:
		s += fmt.Sprintf(" [%+.1f%%, %+.1f%%]", *m.RelLo*100, *m.RelHi*100)
	case m.Test != nil && m.Test.ShiftLo == nil && m.Name != "error rate":
		s += " [±∞]"
	}
	return s
}

func formatTest(t *results.Significance) (p, n string) {
	if t == nil {
		return "-", "-"
	}
	p = results.FormatP(t.P)
	if t.EffectName == "difference" { // Fisher: request counts
		return p, "requests"
	}
	return p, fmt.Sprintf("%d+%d", t.NBase, t.NNew)
}

// verdict is the metric's verdict as shown, with "(noise)" on a threshold
// that was exceeded without significance.
func verdict(m results.MetricDelta) string {
	v := m.Verdict
	switch {
	case m.Regression:
		return "REGRESSION"
	case v == "" && m.Threshold != "":
		return "ok"
	case m.Exceeds && (v == results.VerdictNoChange || v == results.VerdictUntestable):
		return v + " (noise?)"
	}
	return v
}

func verdictLine(c *results.Comparison) string {
	if c.Regression {
		return fmt.Sprintf("REGRESSION: %d metric(s) worse beyond threshold and significant (alpha %g)", len(c.Reasons), c.Thresholds.Alpha)
	}
	if c.MinP >= c.Thresholds.Alpha {
		return fmt.Sprintf("NO VERDICT on latency and throughput: %d vs %d runs cannot reach p < %g", c.Base.Runs, c.New.Runs, c.Thresholds.Alpha)
	}
	return fmt.Sprintf("OK: no gated metric changed significantly past its threshold (alpha %g); what that rules out is below", c.Thresholds.Alpha)
}

// samplesLine says what the tests had and what they could give.
func samplesLine(c *results.Comparison) string {
	return fmt.Sprintf("samples: %d vs %d run-level (per-second samples are not tested); smallest attainable p %s, alpha %g",
		c.Base.Runs, c.New.Runs, results.FormatP(c.MinP), c.Thresholds.Alpha)
}

// unresolved lists the gated metrics whose confidence interval is wider
// than their threshold, with the interval's half-width.
func unresolved(c *results.Comparison) []string {
	var out []string
	for _, m := range c.Metrics {
		if !m.Unresolved {
			continue
		}
		half := "unbounded"
		if m.RelLo != nil {
			half = "±" + results.FormatPercent(math.Max(*m.RelHi-m.RelativeChange(), m.RelativeChange()-*m.RelLo))
		}
		out = append(out, fmt.Sprintf("%s: the confidence interval of the change reaches %s, wider than the %s threshold; noise %s run to run: this machine cannot resolve a change that small with %d vs %d runs",
			m.Name, half, m.Threshold, results.FormatPercent(m.Noise), m.Test.NBase, m.Test.NNew))
	}
	return out
}

// WriteCompareText writes c as a terminal table followed by the verdict,
// its reasons and any warnings.
func WriteCompareText(w io.Writer, c *results.Comparison) error {
	fmt.Fprintf(w, "base  %s (spec %s, %s)\nnew   %s (spec %s, %s)\n%s\n\n",
		c.Base.ID, c.Base.Spec, sampleNote(c.Base), c.New.ID, c.New.Spec, sampleNote(c.New), samplesLine(c))
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tbase\tnew\tchange [CI]\tp\tn\tthreshold\tverdict")
	for _, m := range c.Metrics {
		p, n := formatTest(m.Test)
		th := m.Threshold
		if th == "" {
			th = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, formatValue(m.Unit, m.Base),
			formatValue(m.Unit, m.New), formatChange(m), p, n, th, verdict(m))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s\n", verdictLine(c))
	for _, r := range c.Reasons {
		fmt.Fprintf(w, "  - %s\n", r)
	}
	for _, d := range detectionLines(c) {
		fmt.Fprintf(w, "  %s\n", d)
	}
	for _, u := range unresolved(c) {
		fmt.Fprintf(w, "note: %s\n", u)
	}
	for _, warn := range c.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	_, err := fmt.Fprintf(w, "%s\n", footnote)
	return err
}

const footnote = "base/new: medians over runs; change: Hodges-Lehmann shift over base (a ratio, on the log scale) with its confidence interval; p: two-sided Mann-Whitney over runs (benchmath), for the error rate over the runs' error ratios (errors come in bursts; Fisher's pooled p is in the JSON, information only); ~: no significant change."

func sampleNote(r results.RunRef) string {
	s := fmt.Sprintf("%d run-level sample(s), %d s timeline", r.Runs, r.Seconds)
	if r.Saturated {
		s += ", generator saturated"
	}
	return s
}

// WriteCompareMarkdown writes c as GitHub-flavoured Markdown for a
// pull-request comment.
func WriteCompareMarkdown(w io.Writer, c *results.Comparison) error {
	icon := "✅"
	if c.Regression {
		icon = "❌"
	} else if c.MinP >= c.Thresholds.Alpha {
		icon = "⚠️"
	}
	fmt.Fprintf(w, "### %s duckbench: %s\n\n", icon, verdictLine(c))
	fmt.Fprintf(w, "Base `%s` · new `%s` · spec `%s` · %s\n\n", mdEscape(c.Base.ID), mdEscape(c.New.ID), mdEscape(c.New.Spec), mdEscape(samplesLine(c)))
	fmt.Fprintln(w, "| metric | base | new | change [CI] | p | n | threshold | verdict |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---|")
	for _, m := range c.Metrics {
		p, n := formatTest(m.Test)
		st := verdict(m)
		if m.Regression {
			st = "**REGRESSION**"
		}
		th := m.Threshold
		if th == "" {
			th = "–"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", mdEscape(m.Name), formatValue(m.Unit, m.Base),
			formatValue(m.Unit, m.New), formatChange(m), p, n, mdEscape(th), mdEscape(st))
	}
	for _, sec := range []struct {
		title string
		lines []string
	}{{"Regressions", c.Reasons}, {"What it could detect", detectionLines(c)}, {"Resolution", unresolved(c)}, {"Warnings", c.Warnings}} {
		if len(sec.lines) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n**%s**\n", sec.title)
		for _, l := range sec.lines {
			fmt.Fprintf(w, "- %s\n", mdEscape(l))
		}
	}
	_, err := fmt.Fprintf(w, "\n<sub>A gated metric is a regression only when it exceeds its threshold and the difference is significant (p < %g). %s</sub>\n", c.Thresholds.Alpha, mdEscape(footnote))
	return err
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s)
}
