package history

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// FormatValue writes v in the metric's display unit (latencies in ms).
func FormatValue(unit string, v float64) string {
	switch unit {
	case "s":
		return strconv.FormatFloat(v*1000, 'f', 2, 64) + " ms"
	case "ratio":
		return strconv.FormatFloat(v*100, 'f', 2, 64) + " %"
	default:
		return strconv.FormatFloat(v, 'f', 1, 64) + " " + unit
	}
}

func (a *Analysis) verdict() string {
	switch {
	case a.NewestRegression:
		cp := a.ChangePoints[len(a.ChangePoints)-1]
		return fmt.Sprintf("REGRESSION: the newest segment (from run %s) is %+.1f %% on %s (confidence %.1f %%)",
			cp.After, 100*cp.Change, a.Metric, 100*cp.Confidence)
	case len(a.ChangePoints) == 0:
		return fmt.Sprintf("no change point in %d runs (α %.2f, %d permutations)", len(a.Points), a.Alpha, a.Permutations)
	}
	return fmt.Sprintf("%d change point(s); the newest segment is no regression", len(a.ChangePoints))
}

// WriteText writes the series and its change points for a terminal.
func WriteText(w io.Writer, a *Analysis) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s over %d runs (E-Divisive means, α %.2f, %d permutations, segments ≥ %d runs, changes ≥ %.0f %%)\n",
		a.Metric, len(a.Points), a.Alpha, a.Permutations, a.MinSegment, 100*a.MinChange)
	cps := map[int]ChangePoint{}
	for _, cp := range a.ChangePoints {
		cps[cp.Index] = cp
	}
	for i, p := range a.Points {
		if cp, ok := cps[i]; ok {
			fmt.Fprintf(&b, "  ---- change point: %+.1f %% (median %s → %s), confidence %.1f %%%s\n",
				100*cp.Change, FormatValue(a.Unit, cp.MedianBefore), FormatValue(a.Unit, cp.MedianAfter),
				100*cp.Confidence, map[bool]string{true: ", REGRESSION", false: ""}[cp.Regression])
			for _, c := range cp.Changed {
				fmt.Fprintf(&b, "       %s\n", c)
			}
		}
		fmt.Fprintf(&b, "  %3d  %-40s %12s%s\n", i+1, p.Run, FormatValue(a.Unit, p.Value), labelText(p.Labels))
	}
	fmt.Fprintf(&b, "%s\n", a.verdict())
	_, err := io.WriteString(w, b.String())
	return err
}

func labelText(l map[string]string) string {
	if len(l) == 0 {
		return ""
	}
	var kv []string
	for _, k := range sortedKeys(l) {
		kv = append(kv, k+"="+l[k])
	}
	return "  " + strings.Join(kv, " ")
}

// WriteMarkdown writes the change points as a table for a CI comment.
func WriteMarkdown(w io.Writer, a *Analysis) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### duckbench history: %s over %d runs\n\n", a.Metric, len(a.Points))
	fmt.Fprintf(&b, "**%s**\n\n", a.verdict())
	if len(a.ChangePoints) > 0 {
		b.WriteString("| runs | change | median before → after | confidence | what changed |\n|---|---|---|---|---|\n")
		for _, cp := range a.ChangePoints {
			mark := ""
			if cp.Regression {
				mark = " ❌"
			}
			fmt.Fprintf(&b, "| `%s` → `%s` | %+.1f %%%s | %s → %s | %.1f %% | %s |\n", cp.Before, cp.After, 100*cp.Change, mark,
				FormatValue(a.Unit, cp.MedianBefore), FormatValue(a.Unit, cp.MedianAfter), 100*cp.Confidence,
				strings.ReplaceAll(strings.Join(cp.Changed, "; "), "|", "\\|"))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes a as indented JSON.
func WriteJSON(w io.Writer, a *Analysis) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(a); err != nil {
		return fmt.Errorf("write history JSON: %w", err)
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
