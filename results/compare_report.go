package results

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// formatValue prints v in the metric's unit.
func formatValue(unit string, v float64) string {
	switch unit {
	case "s":
		return FormatSeconds(v)
	case "ratio":
		return FormatPercent(v)
	case "req/s":
		return fmt.Sprintf("%.1f req/s", v)
	}
	return fmt.Sprintf("%g", v)
}

func formatDelta(m MetricDelta) (abs, relative string) {
	sign := "+"
	if m.Delta < 0 {
		sign = "-"
	}
	switch m.Unit {
	case "s":
		abs = sign + FormatSeconds(absf(m.Delta))
	case "ratio":
		abs = sign + trimZeros(fmt.Sprintf("%.3f", absf(m.Delta)*100)) + "pp"
	default:
		abs = sign + fmt.Sprintf("%.1f", absf(m.Delta))
	}
	if m.Delta == 0 {
		abs = "0"
	}
	relative = "n/a"
	if m.Relative != nil {
		relative = fmt.Sprintf("%+.1f%%", *m.Relative*100)
	}
	return abs, relative
}

func absf(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func formatTest(t *Significance) (p, effect string) {
	if t == nil {
		return "-", "-"
	}
	return formatP(t.P), fmt.Sprintf("%+.2f", t.Effect)
}

func status(m MetricDelta) string {
	switch {
	case m.Regression:
		return "REGRESSION"
	case m.Exceeds && !m.Significant:
		return "noise"
	case m.Threshold != "":
		return "ok"
	case m.Significant:
		return "changed"
	}
	return ""
}

func verdictLine(c *Comparison) string {
	if c.Regression {
		return fmt.Sprintf("REGRESSION: %d metric(s) worse beyond threshold and significant (alpha %g)", len(c.Reasons), c.Thresholds.Alpha)
	}
	return fmt.Sprintf("OK: no significant regression beyond thresholds (alpha %g)", c.Thresholds.Alpha)
}

// WriteCompareText writes c as a terminal table followed by the verdict,
// its reasons and any warnings.
func WriteCompareText(w io.Writer, c *Comparison) error {
	fmt.Fprintf(w, "base  %s (spec %s, %s)\nnew   %s (spec %s, %s)\n\n",
		c.Base.ID, c.Base.Spec, sampleNote(c.Base), c.New.ID, c.New.Spec, sampleNote(c.New))
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tbase\tnew\tdelta\tdelta %\tp\teffect\tthreshold\tstatus")
	for _, m := range c.Metrics {
		d, r := formatDelta(m)
		p, e := formatTest(m.Test)
		th := m.Threshold
		if th == "" {
			th = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, formatValue(m.Unit, m.Base),
			formatValue(m.Unit, m.New), d, r, p, e, th, status(m))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s\n", verdictLine(c))
	for _, r := range c.Reasons {
		fmt.Fprintf(w, "  - %s\n", r)
	}
	for _, warn := range c.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	_, err := fmt.Fprintf(w, "p: two-sided p-value; effect: Cliff's delta of new vs base (Mann-Whitney) or difference of proportions.\n")
	return err
}

func sampleNote(r RunRef) string {
	s := fmt.Sprintf("%d trial(s), %d s timeline", r.Trials, r.Seconds)
	if r.Saturated {
		s += ", generator saturated"
	}
	return s
}

// WriteCompareMarkdown writes c as GitHub-flavoured Markdown for a
// pull-request comment.
func WriteCompareMarkdown(w io.Writer, c *Comparison) error {
	icon := "✅"
	if c.Regression {
		icon = "❌"
	}
	fmt.Fprintf(w, "### %s duckbench: %s\n\n", icon, verdictLine(c))
	fmt.Fprintf(w, "Base `%s` · new `%s` · spec `%s`\n\n", mdEscape(c.Base.ID), mdEscape(c.New.ID), mdEscape(c.New.Spec))
	fmt.Fprintln(w, "| metric | base | new | Δ | Δ % | p | effect | threshold | status |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, m := range c.Metrics {
		d, r := formatDelta(m)
		p, e := formatTest(m.Test)
		st := status(m)
		if m.Regression {
			st = "**REGRESSION**"
		}
		th := m.Threshold
		if th == "" {
			th = "–"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", mdEscape(m.Name), formatValue(m.Unit, m.Base),
			formatValue(m.Unit, m.New), d, r, p, e, th, st)
	}
	if len(c.Reasons) > 0 {
		fmt.Fprintln(w, "\n**Regressions**")
		for _, r := range c.Reasons {
			fmt.Fprintf(w, "- %s\n", mdEscape(r))
		}
	}
	if len(c.Warnings) > 0 {
		fmt.Fprintln(w, "\n**Warnings**")
		for _, warn := range c.Warnings {
			fmt.Fprintf(w, "- %s\n", mdEscape(warn))
		}
	}
	_, err := fmt.Fprintf(w, "\n<sub>A gated metric is a regression only when it exceeds its threshold and the difference is significant (p < %g). p: two-sided; effect: Cliff's delta (Mann–Whitney) or difference of proportions.</sub>\n", c.Thresholds.Alpha)
	return err
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s)
}
