package report

import (
	"encoding/json"
	"fmt"
	"github.com/duckbench/duckbench/results"
	"io"
)

// WriteCheckJSON writes a check's outcome as JSON: the comparison, with the
// new run's SLO verdict beside it (omitted when there is none).
func WriteCheckJSON(w io.Writer, c *results.Comparison, slo *results.Verdict) error {
	return WriteJSON(w, struct {
		Comparison *results.Comparison `json:"comparison"`
		SLO        *results.Verdict    `json:"slo,omitempty"`
	}{c, slo})
}

// WriteJSON writes v as indented JSON, the form every --json output takes.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteSLOMarkdown writes an SLO verdict as a Markdown table, to follow
// WriteCompareMarkdown in a pull-request comment or a job summary. A nil or
// empty verdict writes nothing.
func WriteSLOMarkdown(w io.Writer, v *results.Verdict) error {
	if v == nil || len(v.Checks) == 0 {
		return nil
	}
	icon := "✅ SLO met"
	if !v.Pass {
		icon = "❌ SLO violated"
	}
	fmt.Fprintf(w, "\n**%s**\n\n| check | threshold | observed | |\n|---|---|---|---|\n", icon)
	for _, c := range v.Checks {
		st := "ok"
		if !c.Pass {
			st = "**FAIL**"
		}
		if _, err := fmt.Fprintf(w, "| %s | %s | %s | %s |\n", c.Name, mdEscape(c.Threshold), mdEscape(c.Observed), st); err != nil {
			return err
		}
	}
	return nil
}
