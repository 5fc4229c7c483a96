package report

import (
	"fmt"
	"github.com/duckbench/duckbench/results"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// sweepRows is the table of a sweep: a header and one row per variant.
func sweepRows(sw *results.Sweep) [][]string {
	head := []string{"#"}
	axes := varied(sw)
	for _, j := range axes {
		head = append(head, sw.Vary[j].Path)
	}
	head = append(head, "runs")
	if sw.Mode == results.SweepCapacity {
		head = append(head, "capacity", fmt.Sprintf("%s CI", confLabel(sw)), "rounds", "bracket")
	}
	head = append(head, "p99 (all)"+rateLabel(sw.CommonRate))
	if sw.Mode == results.SweepRate {
		head = append(head, fmt.Sprintf("%s CI", confLabel(sw)))
	}
	head = append(head, "success")
	servers := false
	for _, v := range sw.Variants {
		servers = servers || (v.Stats != nil && len(v.Stats.Servers) > 0)
	}
	if servers {
		at := " (at capacity)"
		if sw.Mode == results.SweepRate {
			at = ""
		}
		head = append(head, "p99 per server"+at)
	}
	head = append(head, "vs baseline")
	rows := [][]string{head}
	for i, v := range sw.Variants {
		row := []string{strconv.Itoa(i + 1)}
		for _, j := range axes {
			row = append(row, v.Values[j])
		}
		st := v.Stats
		switch {
		case v.Invalid != "":
			row = append(row, "invalid: "+firstLine(v.Invalid))
			rows = append(rows, row)
			continue
		case st == nil:
			row = append(row, "0", "no run finished")
			rows = append(rows, row)
			continue
		}
		runs := strconv.Itoa(st.Runs)
		if st.Censored > 0 {
			runs += fmt.Sprintf(" (%d censored)", st.Censored)
		}
		row = append(row, runs)
		if sw.Mode == results.SweepCapacity {
			c := st.Capacity
			hi := "none"
			if st.HighBad > 0 {
				hi = fmtRate(st.HighBad)
			}
			if c == nil {
				row = append(row, "censored", "-", "-", "["+fmtRate(st.LowGood)+", "+hi+")")
			} else {
				row = append(row, fmtRate(c.Median)+" req/s", ciText(c, fmtRate), fmtRate(c.Min)+"–"+fmtRate(c.Max), "["+fmtRate(st.LowGood)+", "+hi+")")
			}
		}
		row = append(row, estText(st.P99, results.FormatLatency))
		if sw.Mode == results.SweepRate {
			row = append(row, ciText(st.P99, results.FormatLatency))
		}
		row = append(row, estText(st.Success, results.FormatPercent))
		if servers {
			var parts []string
			for _, sv := range st.Servers {
				parts = append(parts, sv.Server+" "+results.FormatLatency(float64(sv.P99)))
			}
			row = append(row, nonEmpty(strings.Join(parts, " "), "-"))
		}
		row = append(row, vsBaseline(sw, i))
		rows = append(rows, row)
	}
	return rows
}

// varied are the indexes of the axes with more than one value (all of
// them when none has); the others are settings every variant shares.
func varied(sw *results.Sweep) []int {
	var out []int
	for j, a := range sw.Vary {
		if len(a.Values) > 1 {
			out = append(out, j)
		}
	}
	if len(out) == 0 {
		for j := range sw.Vary {
			out = append(out, j)
		}
	}
	return out
}

func confLabel(sw *results.Sweep) string {
	return strconv.FormatFloat((1-sw.Alpha)*100, 'g', 3, 64) + "%"
}

func rateLabel(r float64) string {
	if r <= 0 {
		return ""
	}
	return " @ " + fmtRate(r) + " req/s"
}

func fmtRate(r float64) string { return strconv.FormatFloat(r, 'g', 6, 64) }

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func estText(e *results.Estimate, f func(float64) string) string {
	if e == nil {
		return "-"
	}
	return f(e.Median)
}

func ciText(e *results.Estimate, f func(float64) string) string {
	switch {
	case e == nil:
		return "-"
	case e.Lo == nil:
		return fmt.Sprintf("unbounded (%d rounds)", e.N)
	}
	return "[" + f(*e.Lo) + ", " + f(*e.Hi) + "]" + levelNote(e)
}

// levelNote names an interval's level when it is not the column's (too
// few rounds for that).
func levelNote(e *results.Estimate) string {
	if e.Confidence >= 0.95-1e-9 {
		return ""
	}
	return " (" + strconv.FormatFloat(math.Floor(e.Confidence*1000)/10, 'f', -1, 64) + "%)"
}

// vsBaseline is variant i's change against the baseline: the
// Hodges–Lehmann shift, its interval, p and the verdict.
func vsBaseline(sw *results.Sweep, i int) string {
	if i == 0 {
		return "baseline"
	}
	st := sw.Variants[i].Stats
	s := st.VsBaseline
	if s == nil {
		return "-"
	}
	f := results.FormatLatency
	if sw.Mode == results.SweepCapacity {
		f = func(v float64) string { return fmtRate(v) }
	}
	sign := func(v float64) string {
		if v > 0 {
			return "+" + f(v)
		}
		return f(v)
	}
	out := sign(s.Shift)
	if sw.Mode == results.SweepRate && s.Shift == 0 && results.IsFailed(st.P99.Median) {
		out = "p99 failed"
	}
	if sw.Mode == results.SweepCapacity {
		out += " req/s"
	}
	if s.ShiftLo != nil {
		out += " [" + sign(*s.ShiftLo) + ", " + sign(*s.ShiftHi) + "]"
	}
	verdict := "~"
	switch {
	case st.Better:
		verdict = "better"
	case st.Worse:
		verdict = "worse"
	}
	if sw.Comparisons() > 1 {
		return out + " p=" + results.FormatP(s.P) + " (Holm " + results.FormatP(st.PAdjusted) + ") " + verdict
	}
	return out + " p=" + results.FormatP(s.P) + " " + verdict
}

// sweepHeader is the sweep's one-paragraph description.
func sweepHeader(sw *results.Sweep) string {
	what := "capacity search under SLO " + sw.SLO
	if sw.Mode == results.SweepRate {
		what = "fixed-rate runs"
		if sw.Rate > 0 {
			what += " at " + fmtRate(sw.Rate) + " req/s"
		}
	}
	valid := 0
	for _, v := range sw.Variants {
		if v.Invalid == "" {
			valid++
		}
	}
	h := fmt.Sprintf("sweep %s of %s (%s): %s; %s design, %d variant(s) (%d valid) × %d round(s), %d run(s) done, %s",
		sw.ID, sw.Spec.Path, sw.Spec.Spec, what, sw.Design, len(sw.Variants), valid, sw.Rounds, len(sw.Runs), sw.Status)
	var fixed []string
	for _, a := range sw.Vary {
		if len(a.Values) == 1 && len(sw.Vary) > 1 {
			fixed = append(fixed, a.Path+"="+a.Values[0])
		}
	}
	if len(fixed) > 0 {
		h += "; every variant with " + strings.Join(fixed, ", ")
	}
	return h
}

// sweepFooter is the answer: the best variant and its verdict, and what
// cut the sweep short.
func sweepFooter(sw *results.Sweep) []string {
	var lines []string
	if sw.Best >= 0 {
		v := sw.Variants[sw.Best]
		var fig string
		if sw.Mode == results.SweepCapacity {
			fig = fmtRate(v.Stats.Capacity.Median) + " req/s"
		} else {
			fig = "p99 " + results.FormatLatency(v.Stats.P99.Median)
		}
		lines = append(lines, fmt.Sprintf("best: #%d %s (%s), %s", sw.Best+1, v.Label, fig, sw.BestVerdict))
	} else {
		lines = append(lines, "best: none (no variant finished a run with a measured capacity)")
	}
	for i, v := range sw.Variants {
		if v.Stats != nil && v.Stats.Censored > 0 {
			lines = append(lines, fmt.Sprintf("censored searches of #%d %s (reported, not samples): %s", i+1, v.Label, strings.Join(v.Stats.CensoredWhy, "; ")))
		}
	}
	if sw.TimedOut {
		lines = append(lines, "--max-time reached: runs not started are missing")
	}
	if sw.Error != "" {
		lines = append(lines, "error: "+sw.Error)
	}
	for i, v := range sw.Variants {
		if v.Invalid != "" {
			lines = append(lines, fmt.Sprintf("invalid #%d %s: %s", i+1, v.Label, v.Invalid))
		}
	}
	return lines
}

// WriteSweepText writes the sweep's table and answer for a terminal.
func WriteSweepText(w io.Writer, sw *results.Sweep) error {
	fmt.Fprintln(w, sweepHeader(sw))
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, r := range sweepRows(sw) {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	_, err := fmt.Fprintln(w, strings.Join(sweepFooter(sw), "\n"))
	return err
}

// WriteSweepMarkdown writes the sweep for a pull-request comment.
func WriteSweepMarkdown(w io.Writer, sw *results.Sweep) error {
	fmt.Fprintf(w, "### duckbench sweep `%s`\n\n%s\n\n", mdEscape(sw.ID), mdEscape(sweepHeader(sw)))
	rows := sweepRows(sw)
	for i, r := range rows {
		cells := make([]string, len(r))
		for j, c := range r {
			cells[j] = mdEscape(c)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
		if i == 0 {
			fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", len(r)))
		}
	}
	fmt.Fprintln(w)
	for _, l := range sweepFooter(sw) {
		fmt.Fprintf(w, "- %s\n", mdEscape(l))
	}
	_, err := fmt.Fprintf(w, "\n<sub>Each variant ran on a fresh stack, round-robin over the variants each round (order reversed every other round). The run is the unit of evidence: intervals are of the median over rounds, p is Mann–Whitney against the baseline (#1), significant below %g.</sub>\n", sw.Alpha)
	return err
}

// WriteSweepHTML writes the sweep's report: capacity per variant with each
// round's bracket and the interval over rounds, p99 at the common rate per
// variant, the table, and a link to every run's report.
func WriteSweepHTML(w io.Writer, sw *results.Sweep) error {
	type link struct{ Text, Href string }
	v := struct {
		Sweep  *results.Sweep
		Charts []template.HTML
		Text   string
		Runs   []link
	}{Sweep: sw}
	// A half-variant margin each side keeps every round's dot inside.
	ticks := []tick{{V: 0.5}}
	for i := range sw.Variants {
		ticks = append(ticks, tick{V: float64(i + 1), Label: "#" + strconv.Itoa(i+1)})
	}
	ticks = append(ticks, tick{V: float64(len(sw.Variants)) + 0.5})
	if sw.Mode == results.SweepCapacity {
		v.Charts = append(v.Charts, template.HTML("<h2>capacity per variant</h2>")+capacityChart(sw, ticks).SVG())
	}
	var bars []bar
	for i, vr := range sw.Variants {
		if vr.Stats == nil || vr.Stats.P99 == nil {
			continue
		}
		p := vr.Stats.P99
		val := p.Median * 1000
		if results.IsFailed(p.Median) {
			val = 0 // no bar: the text says failed
		}
		bars = append(bars, bar{Label: "#" + strconv.Itoa(i+1) + " " + vr.Label, Value: val,
			Text: results.FormatLatency(p.Median), Color: palette[i%len(palette)]})
	}
	title := "p99 of all requests per variant" + rateLabel(sw.CommonRate) + " (median over rounds)"
	v.Charts = append(v.Charts, template.HTML("<h2>"+esc(title)+"</h2>")+barChart{Bars: bars, Empty: "no common rate", Note: "median over rounds; intervals in the table"}.SVG())
	var b strings.Builder
	if err := WriteSweepText(&b, sw); err != nil {
		return err
	}
	v.Text = b.String()
	for _, r := range sw.Runs {
		label := sw.Variants[r.Variant].Label
		v.Runs = append(v.Runs, link{Text: fmt.Sprintf("run %d, round %d, #%d %s: %s", r.Seq, r.Round, r.Variant+1, label, r.Status), Href: r.ID + "/report.html"})
	}
	t, err := template.New("sweep").Parse(sweepHTML)
	if err != nil {
		return err
	}
	return t.Execute(w, v)
}

// capacityChart draws per variant each round's capacity (a dot) and
// bracket (a grey bar from the last good to the first bad rate), and the
// median with its confidence interval (black).
func capacityChart(sw *results.Sweep, ticks []tick) lineChart {
	var ser []series
	named := map[string]bool{}
	name := func(n string) string { // name each kind once, for the legend
		if named[n] {
			return ""
		}
		named[n] = true
		return n
	}
	nRounds := max(sw.Rounds, 1)
	for _, r := range sw.Runs {
		if !r.Counted(sw.Mode) || r.Capacity.HighBad == 0 {
			continue
		}
		x := float64(r.Variant+1) + 0.3*(float64(r.Round)-0.5-float64(nRounds)/2)/float64(nRounds)
		ser = append(ser, series{Name: name("bracket"), Color: "#94a3b8", Width: 4,
			X: []float64{x, x}, Y: []float64{r.Capacity.LowGood, r.Capacity.HighBad}})
	}
	dots := series{Name: "per round", Color: palette[0], Dots: true, NoLine: true}
	for _, r := range sw.Runs {
		if r.Counted(sw.Mode) {
			x := float64(r.Variant+1) + 0.3*(float64(r.Round)-0.5-float64(nRounds)/2)/float64(nRounds)
			dots.X, dots.Y = append(dots.X, x), append(dots.Y, r.Capacity.Rate)
		}
	}
	med := series{Name: "median", Color: "#0f172a", Dots: true, NoLine: true}
	for i, v := range sw.Variants {
		if v.Stats == nil || v.Stats.Capacity == nil {
			continue
		}
		c := v.Stats.Capacity
		x := float64(i + 1)
		med.X, med.Y = append(med.X, x), append(med.Y, c.Median)
		if c.Lo != nil {
			ser = append(ser, series{Name: name("CI of median"), Color: "#0f172a", Width: 1.5,
				X: []float64{x, x}, Y: []float64{*c.Lo, *c.Hi}})
		}
	}
	ser = append(ser, dots, med)
	return lineChart{XLabel: "variant", YLabel: "capacity (req/s)", XTicks: ticks, Series: ser, Empty: "no capacity found"}
}

const sweepHTML = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>duckbench sweep {{.Sweep.ID}}</title>
` + manyRunsStyle + `</head><body>
<h1>duckbench sweep {{.Sweep.ID}}</h1>
<p>Spec <code>{{.Sweep.Spec.Path}}</code>, {{.Sweep.Design}} design, {{len .Sweep.Variants}} variant(s), {{.Sweep.Rounds}} round(s); each dot is one run.</p>
<div class="grid">{{range .Charts}}<div>{{.}}</div>{{end}}</div>
<pre>{{.Text}}</pre>
<h2>Runs</h2>
<ul>{{range .Runs}}<li><a href="{{.Href}}">{{.Text}}</a></li>{{end}}</ul>
</body></html>
`

// WriteSweepFiles writes sweep.json and report.html into dir and returns
// their paths.
func WriteSweepFiles(dir string, sw *results.Sweep) (jsonPath, htmlPath string, err error) {
	if sw.SchemaVersion == 0 {
		sw.SchemaVersion = results.SchemaVersion
	}
	return writeRecordFiles(dir, "sweep", sw, func(w io.Writer) error { return WriteSweepHTML(w, sw) })
}
