package history

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
)

// Chart geometry (px).
const (
	chartW, chartH = 900, 320
	padL, padR     = 70, 20
	padT, padB     = 20, 40
)

// SVG is the trend chart: the runs in order, each segment's median as a
// line, change points as vertical markers (red for a regression) and spec
// hash changes as dashed markers.
func SVG(a *Analysis) template.HTML {
	var b strings.Builder
	n := len(a.Points)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`, chartW, chartH, chartW, chartH)
	if n == 0 {
		b.WriteString(`<text x="20" y="20">no runs</text></svg>`)
		return template.HTML(b.String())
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range a.Points {
		lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
	}
	if span := hi - lo; span == 0 {
		lo, hi = lo*0.9, hi*1.1+1e-9
	} else {
		lo, hi = math.Max(0, lo-0.1*span), hi+0.1*span
	}
	scale := 1.0
	if a.Unit == "s" {
		scale = 1000
	}
	pw, ph := float64(chartW-padL-padR), float64(chartH-padT-padB)
	x := func(i int) float64 {
		if n == 1 {
			return padL + pw/2
		}
		return padL + pw*float64(i)/float64(n-1)
	}
	y := func(v float64) float64 { return padT + ph*(1-(v-lo)/(hi-lo)) }
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#ccc"/>`, padL, padT, pw, ph)
	for k := 0; k <= 4; k++ {
		v := lo + (hi-lo)*float64(k)/4
		fmt.Fprintf(&b, `<line x1="%d" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end">%s</text>`,
			padL, padL+pw, y(v), y(v), padL-6, y(v)+4, fmtNum(v*scale))
	}
	unit := a.Unit
	if unit == "s" {
		unit = "ms"
	}
	fmt.Fprintf(&b, `<text x="12" y="%d" transform="rotate(-90 12 %d)" text-anchor="middle">%s (%s)</text>`, padT+int(ph)/2, padT+int(ph)/2, template.HTMLEscapeString(a.Metric), unit)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">run (oldest → newest)</text>`, padL+pw/2, chartH-6)
	for i := 1; i < n; i++ {
		if a.Points[i].SpecHash != a.Points[i-1].SpecHash {
			xm := (x(i-1) + x(i)) / 2
			fmt.Fprintf(&b, `<line class="spec-change" x1="%.1f" x2="%.1f" y1="%d" y2="%.1f" stroke="#888" stroke-dasharray="4 3"><title>spec hash changed</title></line>`, xm, xm, padT, padT+ph)
		}
	}
	edges := []int{0}
	for _, cp := range a.ChangePoints {
		xm := (x(cp.Index-1) + x(cp.Index)) / 2
		color := "#2a7"
		if cp.Regression {
			color = "#d22"
		}
		fmt.Fprintf(&b, `<line class="change-point" x1="%.1f" x2="%.1f" y1="%d" y2="%.1f" stroke="%s" stroke-width="2"><title>%s: %+.1f %%, confidence %.1f %%</title></line>`,
			xm, xm, padT, padT+ph, color, template.HTMLEscapeString(cp.After), 100*cp.Change, 100*cp.Confidence)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="%s">%+.1f %%</text>`, xm+3, padT+12, color, 100*cp.Change)
		edges = append(edges, cp.Index)
	}
	edges = append(edges, n)
	for s := 0; s+1 < len(edges); s++ {
		vals := make([]float64, 0, edges[s+1]-edges[s])
		for _, p := range a.Points[edges[s]:edges[s+1]] {
			vals = append(vals, p.Value)
		}
		m := median(vals)
		fmt.Fprintf(&b, `<line class="segment" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#36c" stroke-opacity="0.5" stroke-width="3"/>`, x(edges[s]), x(edges[s+1]-1), y(m), y(m))
	}
	var pts []string
	for i, p := range a.Points {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(p.Value)))
	}
	fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#333" stroke-width="1"/>`, strings.Join(pts, " "))
	for i, p := range a.Points {
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="#333"><title>%s: %s</title></circle>`, x(i), y(p.Value), template.HTMLEscapeString(p.Run), FormatValue(a.Unit, p.Value))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func fmtNum(v float64) string {
	switch {
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

var page = template.Must(template.New("history").Funcs(template.FuncMap{
	"pct":   func(v float64) string { return fmt.Sprintf("%+.1f %%", 100*v) },
	"conf":  func(v float64) string { return fmt.Sprintf("%.1f %%", 100*v) },
	"value": func(unit string, v float64) string { return FormatValue(unit, v) },
	"inc":   func(i int) int { return i + 1 },
	"short": short,
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>duckbench history: {{.A.Metric}}</title>
<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}.bad{color:#d22;font-weight:bold}.ok{color:#2a7}</style>
</head><body>
<h1>duckbench history: {{.A.Metric}} over {{len .A.Points}} runs</h1>
<p class="{{if .A.NewestRegression}}bad{{else}}ok{{end}}">{{.Verdict}}</p>
{{.Chart}}
<p>E-Divisive means (Matteson &amp; James 2014) with a permutation test: α {{.A.Alpha}}, {{.A.Permutations}} permutations, segments of at least {{.A.MinSegment}} runs. Solid markers: change points (red: regression); dashed: the spec's hash changed; blue bars: segment medians.</p>
{{if .A.ChangePoints}}<h2>Change points</h2>
<table><tr><th>before</th><th>after</th><th>change</th><th>median before → after</th><th>confidence</th><th>what changed</th></tr>
{{range .A.ChangePoints}}<tr><td>{{.Before}}</td><td>{{.After}}</td><td{{if .Regression}} class="bad"{{end}}>{{pct .Change}}</td><td>{{value $.A.Unit .MedianBefore}} → {{value $.A.Unit .MedianAfter}}</td><td>{{conf .Confidence}}</td><td>{{range .Changed}}{{.}}<br>{{end}}</td></tr>
{{end}}</table>{{end}}
<h2>Runs</h2>
<table><tr><th>#</th><th>run</th><th>{{.A.Metric}}</th><th>spec hash</th><th>labels</th></tr>
{{range $i, $p := .A.Points}}<tr><td>{{inc $i}}</td><td>{{$p.Run}}</td><td>{{value $.A.Unit $p.Value}}</td><td>{{short $p.SpecHash}}</td><td>{{range $k, $v := $p.Labels}}{{$k}}={{$v}} {{end}}</td></tr>
{{end}}</table>
</body></html>
`))

// WriteHTML writes a self-contained HTML report: the trend chart with the
// change points marked, the change points and the runs.
func WriteHTML(w io.Writer, a *Analysis) error {
	if err := page.Execute(w, struct {
		A       *Analysis
		Verdict string
		Chart   template.HTML
	}{a, a.verdict(), SVG(a)}); err != nil {
		return fmt.Errorf("write history HTML: %w", err)
	}
	return nil
}
