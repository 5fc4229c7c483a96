package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/duckbench/duckbench/results"
	"html/template"
	"io"
	"math"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

// noiseRows are the gated metrics with their run-to-run noise and the
// half-width of the interval of their change.
func noiseRows(c *results.Comparison) [][]string {
	var rows [][]string
	for _, m := range c.Metrics {
		if m.Threshold == "" || m.Test == nil || m.Name == "error rate" {
			continue
		}
		half, res := "unbounded", "no"
		if m.RelLo != nil {
			h := math.Max(*m.RelHi-m.RelativeChange(), m.RelativeChange()-*m.RelLo)
			half = "±" + results.FormatPercent(h)
		}
		if !m.Unresolved && m.RelLo != nil {
			res = "yes"
		}
		rows = append(rows, []string{m.Name, results.FormatPercent(m.Noise), half, m.Threshold, res})
	}
	return rows
}

// WriteABText writes the runs, the comparison and, for an A/A, the noise
// of the machine.
func WriteABText(w io.Writer, ab *results.AB) error {
	fmt.Fprintf(w, "ab %s\nA  %s (spec %s)\nB  %s (spec %s)\norder %s, %d round(s)\n\n",
		ab.ID, ab.A.Path, ab.A.Spec, ab.B.Path, ab.B.Spec, strings.Join(sides(ab.Runs), " "), ab.Rounds)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tround\tside\tp50\tp99\tthroughput\terrors\tstatus\trun")
	for _, r := range ab.Runs {
		l := results.Latency(r.Summary)
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%.1f req/s\t%d\t%s\t%s\n", r.Seq, r.Round, r.Side, results.FormatLatency(l.P50),
			results.FormatLatency(l.P99), r.Summary.Throughput, r.Summary.FailedRequests(), r.Status, r.ID)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if ab.Comparison == nil {
		_, err := fmt.Fprintf(w, "no comparison: %s\n", nonEmpty(ab.Error, "no runs"))
		return err
	}
	if err := WriteCompareText(w, ab.Comparison); err != nil {
		return err
	}
	if ab.AA {
		fmt.Fprintf(w, "\nNoise of this machine (A/A, %d vs %d runs)\n", ab.Comparison.Base.Runs, ab.Comparison.New.Runs)
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "metric\trun-to-run noise\tinterval of a change\tthreshold\tresolves the threshold")
		for _, r := range noiseRows(ab.Comparison) {
			fmt.Fprintln(tw, strings.Join(r, "\t"))
		}
		return tw.Flush()
	}
	return nil
}

func sides(runs []results.ABRun) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.Side
	}
	return out
}

// WriteABMarkdown writes the comparison for a pull-request comment, with
// the run order and, for an A/A, the noise table.
func WriteABMarkdown(w io.Writer, ab *results.AB) error {
	if ab.Comparison == nil {
		_, err := fmt.Fprintf(w, "### ⚠️ duckbench ab: no comparison (%s)\n", mdEscape(nonEmpty(ab.Error, "no runs")))
		return err
	}
	if err := WriteCompareMarkdown(w, ab.Comparison); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n<sub>Interleaved A/B on one machine: order %s (A = `%s`, B = `%s`).</sub>\n",
		strings.Join(sides(ab.Runs), " "), mdEscape(ab.A.Path), mdEscape(ab.B.Path))
	if ab.AA {
		fmt.Fprintln(w, "\n**Noise of this machine (A/A)**\n\n| metric | run-to-run noise | interval of a change | threshold | resolves |\n|---|---:|---:|---:|---|")
		for _, r := range noiseRows(ab.Comparison) {
			fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
		}
	}
	return nil
}

// WriteABHTML writes the ab's report: each metric per run in the order
// they ran, A and B apart, and the comparison.
func WriteABHTML(w io.Writer, ab *results.AB) error {
	type view struct {
		AB     *results.AB
		Charts []template.HTML
		Text   string
	}
	v := view{AB: ab}
	metrics := []struct {
		name, unit string
		f          func(results.Summary) float64
	}{
		{"p99 latency", "ms", func(s results.Summary) float64 { return results.Latency(s).P99 * 1000 }},
		{"p50 latency", "ms", func(s results.Summary) float64 { return results.Latency(s).P50 * 1000 }},
		{"throughput", "req/s", func(s results.Summary) float64 { return s.Throughput }},
		{"error rate", "%", func(s results.Summary) float64 { return s.ErrorRate() * 100 }},
	}
	for _, m := range metrics {
		var ser []series
		for i, side := range []string{"A", "B"} {
			s := series{Name: side, Color: palette[i*4], Dots: true, Width: 1}
			for _, r := range ab.Runs {
				if r.Side == side {
					s.X = append(s.X, float64(r.Seq))
					s.Y = append(s.Y, m.f(r.Summary))
				}
			}
			ser = append(ser, s)
		}
		lc := lineChart{XLabel: "run (in the order run)", YLabel: m.name + " (" + m.unit + ")", Series: ser, Empty: "no runs"}
		v.Charts = append(v.Charts, template.HTML("<h2>"+esc(m.name)+"</h2>")+lc.SVG())
	}
	var b strings.Builder
	if err := WriteABText(&b, ab); err != nil {
		return err
	}
	v.Text = b.String()
	t, err := template.New("ab").Parse(abHTML)
	if err != nil {
		return err
	}
	return t.Execute(w, v)
}

// manyRunsStyle is the style of the reports of many runs (ab, sweep).
const manyRunsStyle = `<style>
body{margin:0 auto;max-width:1100px;padding:20px 32px;font:14px/1.45 system-ui,sans-serif;color:#0f172a}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}
h2{font-size:15px;margin:8px 0 0}
svg.chart{width:100%;height:auto}
svg .grid line{stroke:#e8edf3} svg .axis line{stroke:#94a3b8}
svg text{font:11px system-ui,sans-serif;fill:#475569}
pre{background:#f8fafc;border:1px solid #e2e8f0;padding:12px;overflow-x:auto;font-size:12px}
</style>`

const abHTML = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>duckbench ab {{.AB.ID}}</title>
` + manyRunsStyle + `</head><body>
<h1>duckbench ab {{.AB.ID}}</h1>
<p>A <code>{{.AB.A.Path}}</code> vs B <code>{{.AB.B.Path}}</code>, {{.AB.Rounds}} round(s), counterbalanced order; each dot is one run.</p>
<div class="grid">{{range .Charts}}<div>{{.}}</div>{{end}}</div>
<pre>{{.Text}}</pre>
</body></html>
`

// WriteABFiles writes ab.json and report.html into dir and returns their
// paths.
func WriteABFiles(dir string, ab *results.AB) (jsonPath, htmlPath string, err error) {
	if ab.SchemaVersion == 0 {
		ab.SchemaVersion = results.SchemaVersion
	}
	return writeRecordFiles(dir, "ab", ab, func(w io.Writer) error { return WriteABHTML(w, ab) })
}

// writeRecordFiles writes rec as <name>.json and its report (page) as
// report.html into dir, each atomically, and returns their paths.
func writeRecordFiles(dir, name string, rec any, page func(io.Writer) error) (jsonPath, htmlPath string, err error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return "", "", fmt.Errorf("encode %s: %w", name, err)
	}
	jsonPath = filepath.Join(dir, name+".json")
	if err := results.WriteAtomic(jsonPath, buf.Bytes()); err != nil {
		return "", "", fmt.Errorf("write %s: %w", name, err)
	}
	var html bytes.Buffer
	if err := page(&html); err != nil {
		return jsonPath, "", fmt.Errorf("write %s report: %w", name, err)
	}
	htmlPath = filepath.Join(dir, "report.html")
	if err := results.WriteAtomic(htmlPath, html.Bytes()); err != nil {
		return jsonPath, "", fmt.Errorf("write %s report: %w", name, err)
	}
	return jsonPath, htmlPath, nil
}
