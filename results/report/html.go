package report

import (
	"fmt"
	"github.com/duckbench/duckbench/results"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// decodeHistogram decodes r.Histogram (an encoded HdrHistogram of
// microseconds). An empty string gives nil and no error.
func decodeHistogram(encoded string) (*hdrhistogram.Histogram, error) {
	if encoded == "" {
		return nil, nil
	}
	h, err := hdrhistogram.Decode([]byte(encoded))
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	return h, nil
}

type chart struct {
	ID    string
	Title string
	Sub   string
	SVG   template.HTML
	Wide  bool
	bars  bool
	// line draws a line chart at a width; it is kept until the layout
	// decides whether the chart spans both columns.
	line *lineChart
}

type kv struct{ K, V string }

type kpi struct {
	Label, Value, Sub string
	Class             string
}

type reportPage struct {
	R        *results.Result
	Title    string
	Meta     []kv
	KPIs     []kpi
	Warnings []string
	Charts   []chart
	Quant    []kv
	// QuantName names the Quant row; MoreQuant are further rows (service
	// time, failed requests) of the same quantiles.
	QuantName   string
	MoreQuant   []quantRow
	LatencyNote string
	Codes       []kv
	Run         []kv
	Configs     []kv
	Text        string
	// Servers are the rows of the per-server table (client side).
	Servers []serverRow
}

type serverRow struct {
	Server, Requests, Share, Success, P50, P99, P999, Max, ServiceP50 string
}

// WriteHTML writes a self-contained HTML report of r: inline CSS and SVG
// charts (latency over time with fault markers, the latency percentile
// distribution, achieved vs target rate, per-app share, replication delay,
// per-backend share and cache hit ratio, capacity steps), summary tables
// and the SLO verdict. The output depends only on r.
func WriteHTML(w io.Writer, r *results.Result) error {
	p := reportPage{R: r, Title: "duckbench · " + nonEmpty(r.Spec.Name, "run")}
	p.Meta = []kv{{"run", r.ID}, {"status", nonEmpty(r.Status, "unknown")}, {"runtime", r.Runtime}, {"placement", r.PlacementText()}}
	if !r.StartedAt.IsZero() {
		p.Meta = append(p.Meta, kv{"started", r.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC")})
	}
	s := r.Summary
	p.KPIs = []kpi{
		{Label: "requests", Value: fmt.Sprintf("%d", s.Requests), Sub: fmt.Sprintf("in %s", results.FormatSeconds(s.DurationSeconds))},
		{Label: "throughput", Value: fmt.Sprintf("%.1f/s", s.Throughput), Sub: targetSub(r)},
		{Label: "success", Value: results.FormatPercent(s.SuccessRatio), Sub: fmt.Sprintf("%d errors", s.Errors), Class: okClass(s.Errors == 0)},
		{Label: "p50", Value: results.FormatSeconds(s.Latency.P50), Sub: serviceSub(s, func(q results.Quantiles) float64 { return q.P50 })},
		{Label: "p99", Value: results.FormatSeconds(s.Latency.P99), Sub: p99Sub(s)},
		{Label: "max", Value: results.FormatSeconds(s.Latency.Max), Sub: serviceSub(s, func(q results.Quantiles) float64 { return q.Max })},
	}
	if s.ServiceTime != nil {
		p.KPIs[4].Sub = fmt.Sprintf("service %s", results.FormatSeconds(s.ServiceTime.P99))
		if s.Requests > s.Success {
			p.KPIs[4].Sub += " · " + p99Sub(s)
		}
	}
	if r.SLO != nil {
		v := kpi{Label: "SLO", Value: "PASS", Class: "good", Sub: fmt.Sprintf("%d checks", len(r.SLO.Checks))}
		if !r.SLO.Pass {
			v.Value, v.Class = "FAIL", "bad"
		}
		p.KPIs = append(p.KPIs, v)
	}
	p.Warnings = runWarnings(r)
	p.Charts = runCharts(r)
	if hasServers(r) {
		p.Servers = serverRows(r)
	}

	l := s.Latency
	p.Quant = []kv{{"min", results.FormatSeconds(l.Min)}, {"mean", results.FormatSeconds(l.Mean)}, {"p50", results.FormatSeconds(l.P50)},
		{"p90", results.FormatSeconds(l.P90)}, {"p99", results.FormatSeconds(l.P99)}, {"p99.9", results.FormatSeconds(l.P999)},
		{"p99.99", results.FormatSeconds(l.P9999)}, {"max", results.FormatSeconds(l.Max)}}
	p.QuantName = "successes"
	row := func(name string, q results.Quantiles) quantRow {
		return quantRow{K: name, V: []string{results.FormatLatency(q.Min), results.FormatLatency(q.Mean), results.FormatLatency(q.P50), results.FormatLatency(q.P90),
			results.FormatLatency(q.P99), results.FormatLatency(q.P999), results.FormatLatency(q.P9999), results.FormatLatency(q.Max)}}
	}
	if s.Requests > s.Success {
		p.MoreQuant = append(p.MoreQuant, row("all requests (failures slowest)", results.Latency(s)))
	}
	if s.ServiceTime != nil {
		p.MoreQuant = append(p.MoreQuant, row("service time", *s.ServiceTime))
	}
	if s.FailureLatency != nil {
		p.MoreQuant = append(p.MoreQuant, row("failed", *s.FailureLatency))
	}
	switch s.LatencyBasis {
	case results.BasisIntended:
		p.LatencyNote = "Latency runs from each request's intended send time (the schedule) to the end of its response, so a stall shows in it; service time runs from the actual send. Failed requests are apart."
	case results.BasisService:
		p.LatencyNote = "Rate max has no schedule: latency runs from the actual send."
	case results.BasisSentV1:
		p.LatencyNote = "A schema 1 record: latency was timed from the actual send, over all requests; a stall of the server may be missing from it."
	}
	for _, k := range sortedKeys(s.StatusCodes) {
		p.Codes = append(p.Codes, kv{k, fmt.Sprintf("%d (%s)", s.StatusCodes[k], results.FormatPercent(results.Ratio(float64(s.StatusCodes[k]), float64(s.Requests))))})
	}
	for _, k := range sortedKeys(s.ErrorKinds) {
		p.Codes = append(p.Codes, kv{k, fmt.Sprintf("%d", s.ErrorKinds[k])})
	}
	pl := r.Plan
	rate := fmt.Sprintf("%g req/s", pl.Rate)
	if pl.Rate < 0 {
		rate = "max"
	}
	p.Run = []kv{
		{"spec", strings.TrimSpace(r.Spec.Name + " " + r.Spec.Path)}, {"spec hash", r.Spec.Hash},
		{"shape / rate", pl.Shape + " / " + rate}, {"duration", results.FormatSeconds(pl.DurationSeconds)},
		{"workers / max / connections", fmt.Sprintf("%d / %d / %d", pl.Workers, pl.MaxWorkers, pl.Connections)},
		{"targets", strings.Join(pl.Targets, ", ")}, {"keys", fmt.Sprintf("%s (seed %d)", pl.KeyDistribution, pl.Seed)},
		{"duckbench", r.Duckbench},
		{"host", fmt.Sprintf("%s · %s/%s · %d CPUs · %s %s", r.Host.Hostname, r.Host.OS, r.Host.Arch, r.Host.CPUs, r.Host.Go, r.Host.Kernel)},
	}
	if pl.Repeat > 1 {
		p.Run = append(p.Run, kv{"repeat", fmt.Sprintf("%d trials", pl.Repeat)})
	}
	if g := s.Generator; g != nil {
		p.Run = append(p.Run, kv{"generator", results.FormatGenerator(g)})
	}
	for _, k := range sortedKeys(r.Spec.ConfigHashes) {
		p.Configs = append(p.Configs, kv{k, r.Spec.ConfigHashes[k]})
	}
	return reportTmpl.Execute(w, p)
}

// runWarnings are the report's warnings: saturation, stalls, a run that
// did not complete.
func runWarnings(r *results.Result) []string {
	var w []string
	if r.GeneratorSaturated {
		w = append(w, "The load generator could not keep up with the schedule (short of CPU or workers): latency and throughput describe the generator, not the server's capacity.")
	}
	for _, sh := range results.GeneratorShares(r) {
		w = append(w, upperFirst(sh.Warning())+".")
	}
	if r.SUTBound {
		w = append(w, "The system under test could not keep up (the schedule slipped while every worker waited on it): latency counts from each request's intended send time, so the wait is in it.")
	}
	for _, st := range r.Stalls {
		w = append(w, fmt.Sprintf("Stall at %.2fs: the system under test answered nothing for %s; %d requests waited through it.",
			st.StartSeconds, results.FormatSeconds(st.DurationSeconds), st.Requests))
	}
	if r.Status != "" && r.Status != results.StatusCompleted {
		msg := "This run is " + r.Status
		if r.Error != "" {
			msg += ": " + r.Error
		}
		w = append(w, msg+".")
	}
	return w
}

// runCharts are the report's charts, those with no data left out, sized
// for the page's two-column grid.
func runCharts(r *results.Result) []chart {
	var cs []chart
	cs = append(cs, latencyOverTime(r), percentileChart(r), rateChart(r), appShareChart(r))
	if hasServers(r) {
		cs = append(cs, serverPercentileChart(r))
	}
	if hasReplicationTimeline(r) || len(r.Replication) > 0 {
		cs = append(cs, replicationChart(r))
	}
	if len(r.Backends) > 0 {
		cs = append(cs, backendShareChart(r))
	}
	if len(r.Caches) > 0 || len(r.Keyspace) > 0 {
		cs = append(cs, cacheChart(r))
	}
	if r.Capacity != nil {
		cs = append(cs, capacityCharts(r)...)
	}
	// An odd line chart at the end takes the full width; bar charts would
	// only grow taller, so they keep their cell.
	if last := len(cs) - 1; len(cs)%2 == 1 && !cs[last].bars {
		cs[last].Wide = true
	}
	for i := range cs {
		if lc := cs[i].line; lc != nil {
			if cs[i].Wide {
				lc.W, lc.H = 1160, 280
			}
			cs[i].SVG = lc.SVG()
		}
	}
	return cs
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func okClass(ok bool) string {
	if ok {
		return "good"
	}
	return "bad"
}

func targetSub(r *results.Result) string {
	if r.Summary.TargetRate > 0 {
		return fmt.Sprintf("target %.0f/s (%s)", r.Summary.TargetRate, results.FormatPercent(results.Ratio(r.Summary.Rate, r.Summary.TargetRate)))
	}
	if r.Plan.Rate < 0 {
		return "target max"
	}
	return ""
}

func ms(v float64) float64 { return v * 1000 }

type quantRow struct {
	K string
	V []string
}

// serviceSub names the service-time figure beside a primary one.
// p99Sub is the p99 card's note: p99.9, and when requests failed the p99
// of all requests, which the verdicts judge (the card is of successes).
func p99Sub(s results.Summary) string {
	if s.Requests > s.Success {
		return "all requests " + results.FormatLatency(results.Latency(s).P99)
	}
	return "p99.9 " + results.FormatSeconds(s.Latency.P999)
}

func serviceSub(s results.Summary, f func(results.Quantiles) float64) string {
	if s.ServiceTime == nil {
		return latencyBasisShort(s.LatencyBasis)
	}
	return "service " + results.FormatSeconds(f(*s.ServiceTime))
}

func latencyBasisShort(b string) string {
	switch b {
	case results.BasisService:
		return "from the send (rate max)"
	case results.BasisSentV1:
		return "from the send (schema 1)"
	}
	return ""
}

// stallBands shades the stalls on a time chart.
func stallBands(r *results.Result) []band {
	var out []band
	for _, st := range r.Stalls {
		out = append(out, band{From: st.StartSeconds, To: st.StartSeconds + st.DurationSeconds,
			Label: fmt.Sprintf("stall %s", results.FormatSeconds(st.DurationSeconds)), Color: "#b91c1c"})
	}
	return out
}

func eventMarkers(r *results.Result) []vmarker {
	var out []vmarker
	for _, e := range r.Events {
		color := "#64748b"
		switch e.Kind {
		case "fault":
			color = "#dc2626"
		case "recovery":
			color = "#16a34a"
		case "saturation":
			color = "#ea580c"
		case "overload":
			color = "#b91c1c"
		case "stall":
			continue // shaded as a band
		}
		label := e.Kind
		if e.Action != "" {
			label = e.Action
		}
		if e.Kind == "overload" || e.Kind == "saturation" {
			label = e.Kind + " " + e.Action
		}
		if e.Target != "" {
			label += " " + e.Target
		}
		out = append(out, vmarker{X: e.AtSeconds, Label: label, Color: color})
	}
	return out
}

func latencyOverTime(r *results.Result) chart {
	var t, p50, p99, mx, sp99 []float64
	svc := false
	for _, s := range r.Timeline {
		t = append(t, float64(s.T))
		p50 = append(p50, ms(s.P50))
		p99 = append(p99, ms(s.P99))
		mx = append(mx, ms(s.Max))
		sp99 = append(sp99, ms(s.ServiceP99))
		svc = svc || s.ServiceP99 > 0
	}
	ser := []series{
		{Name: "p50", Color: palette[0], X: t, Y: p50},
		{Name: "p99", Color: palette[4], X: t, Y: p99},
		{Name: "max", Color: "#94a3b8", X: t, Y: mx, Width: 1.2},
	}
	sub := "per second, by intended send time; vertical lines are events, shaded spans stalls"
	if svc {
		ser = append(ser, series{Name: "service p99", Color: palette[4], X: t, Y: sp99, Dash: true, Width: 1.4})
	} else if r.Summary.LatencyBasis != results.BasisIntended {
		sub = "per second; vertical lines are events"
	}
	return chart{ID: "latency-time", Title: "Latency over time", Sub: sub,
		line: &lineChart{XLabel: "time since start (s)", YLabel: "latency (ms)", Series: ser,
			Markers: eventMarkers(r), Bands: stallBands(r), Empty: "no timeline"}}
}

// percentileChart plots latency against the percentile on the usual
// HdrHistogram axis: x = log10(1/(1−q)), so 90 %, 99 %, 99.9 % are evenly
// spaced.
func percentileChart(r *results.Result) chart {
	c := chart{ID: "percentiles", Title: "Latency by percentile", Sub: "from the recorded HdrHistogram; log-scaled percentile axis"}
	lc := lineChart{XLabel: "percentile", YLabel: "latency (ms)", Empty: "no histogram recorded"}
	h, err := decodeHistogram(r.Histogram)
	if err != nil {
		lc.Empty = "histogram unreadable"
	}
	if h != nil && h.TotalCount() > 0 {
		top := math.Min(6, math.Max(1, math.Ceil(math.Log10(float64(h.TotalCount())))))
		curve := func(h *hdrhistogram.Histogram) (xs, ys []float64) { return percentileCurve(h, top) }
		name := "latency"
		if r.Summary.LatencyBasis == results.BasisIntended {
			name = "latency (from intended send)"
		}
		xs, ys := curve(h)
		lc.Series = []series{{Name: name, Color: palette[0], X: xs, Y: ys, Width: 2.2}}
		if sh, err := decodeHistogram(r.ServiceHistogram); err == nil && sh != nil && sh.TotalCount() > 0 {
			xs, ys := curve(sh)
			lc.Series = append(lc.Series, series{Name: "service time (from actual send)", Color: palette[4], X: xs, Y: ys, Width: 1.8, Dash: true})
		}
		labels := []string{"0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"}
		for i := 0; i <= int(top); i++ {
			lc.XTicks = append(lc.XTicks, tick{float64(i), labels[i]})
		}
		// Reference lines for the stored quantiles make the curve easy to read.
		c.Sub += fmt.Sprintf(" · %d samples", h.TotalCount())
	}
	c.line = &lc
	return c
}

// percentileCurve is h's latency (ms) against x = log10(1/(1−q)) up to
// x = top, ending at the maximum.
func percentileCurve(h *hdrhistogram.Histogram, top float64) (xs, ys []float64) {
	for i := 0; i <= int(top*40); i++ {
		x := float64(i) / 40
		q := 100 * (1 - math.Pow(10, -x))
		xs = append(xs, x)
		ys = append(ys, float64(h.ValueAtQuantile(q))/1000)
	}
	return append(xs, top), append(ys, float64(h.Max())/1000)
}

// serverPercentileChart draws one percentile curve per server that
// answered, each from its own HdrHistogram: a slow server shows apart.
func serverPercentileChart(r *results.Result) chart {
	c := chart{ID: "server-percentiles", Title: "Latency by percentile, per server",
		Sub: "client side, by X-Served-By; successes, timed as the run's latency; log-scaled percentile axis"}
	lc := lineChart{XLabel: "percentile", YLabel: "latency (ms)", Empty: "no per-server histogram recorded"}
	var most int64
	for i, s := range r.Servers {
		h, err := decodeHistogram(s.Histogram)
		if err != nil || h == nil || h.TotalCount() == 0 {
			continue
		}
		most = max(most, h.TotalCount())
		top := math.Min(6, math.Max(1, math.Ceil(math.Log10(float64(h.TotalCount())))))
		xs, ys := percentileCurve(h, top)
		lc.Series = append(lc.Series, series{Name: fmt.Sprintf("%s (%d)", s.Server, h.TotalCount()),
			Color: palette[i%len(palette)], X: xs, Y: ys, Width: 1.8})
	}
	top := math.Min(6, math.Max(1, math.Ceil(math.Log10(float64(max(most, 1))))))
	labels := []string{"0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"}
	for i := 0; i <= int(top); i++ {
		lc.XTicks = append(lc.XTicks, tick{float64(i), labels[i]})
	}
	c.line = &lc
	return c
}

// serverRows are the per-server table's rows.
func serverRows(r *results.Result) []serverRow {
	var out []serverRow
	for _, s := range r.Servers {
		q, none := s.Summary.Latency, s.Summary.Success == 0
		row := serverRow{Server: s.Server, Requests: fmt.Sprintf("%d", s.Summary.Requests),
			Share:   results.FormatPercent(results.Ratio(float64(s.Summary.Requests), float64(r.Summary.Requests))),
			Success: results.FormatPercent(s.Summary.SuccessRatio),
			P50:     secondsOrDash(q.P50, none), P99: secondsOrDash(q.P99, none), P999: secondsOrDash(q.P999, none),
			Max: secondsOrDash(q.Max, none), ServiceP50: "-"}
		if st := s.Summary.ServiceTime; st != nil && !none {
			row.ServiceP50 = results.FormatSeconds(st.P50)
		}
		out = append(out, row)
	}
	return out
}

func rateChart(r *results.Result) chart {
	var t, target, achieved, errs, thr []float64
	hasThr := false
	for _, s := range r.Timeline {
		t = append(t, float64(s.T))
		target = append(target, s.TargetRate)
		achieved = append(achieved, s.AchievedRate)
		errs = append(errs, float64(s.Errors))
		thr = append(thr, s.Throughput)
		hasThr = hasThr || s.Throughput > 0
	}
	ss := []series{{Name: "sent", Color: palette[0], X: t, Y: achieved}}
	if hasThr {
		ss = append(ss, series{Name: "successes (by due second)", Color: palette[2], X: t, Y: thr, Width: 1.4})
	}
	if r.Plan.Rate >= 0 {
		ss = append([]series{{Name: "target", Color: "#64748b", X: t, Y: target, Dash: true}}, ss...)
	}
	ss = append(ss, series{Name: "errors", Color: palette[1], X: t, Y: errs, Width: 1.4})
	return chart{ID: "rate", Title: "Achieved vs target rate", Sub: "requests per second, errors per second",
		line: &lineChart{XLabel: "time since start (s)", YLabel: "requests / s", Series: ss, Markers: eventMarkers(r), Bands: stallBands(r), Empty: "no timeline"}}
}

func appShareChart(r *results.Result) chart {
	var bars []bar
	for i, k := range sortedKeys(r.AppShare) {
		bars = append(bars, bar{Label: k, Value: r.AppShare[k], Text: results.FormatPercent(r.AppShare[k]), Color: palette[i%len(palette)]})
	}
	return chart{bars: true, ID: "app-share", Title: "Per-app share", Sub: "client side, from X-Served-By",
		SVG: barChart{Max: 1, Bars: bars, Empty: "no X-Served-By header seen"}.SVG()}
}

func hasReplicationTimeline(r *results.Result) bool {
	for _, s := range r.Timeline {
		if len(s.ReplicationDelay) > 0 {
			return true
		}
	}
	return false
}

func replicationChart(r *results.Result) chart {
	names := map[string]bool{}
	for _, s := range r.Timeline {
		for k := range s.ReplicationDelay {
			names[k] = true
		}
	}
	var ss []series
	for i, name := range sortedKeys(names) {
		var t, d []float64
		for _, s := range r.Timeline {
			if v, ok := s.ReplicationDelay[name]; ok {
				t = append(t, float64(s.T))
				d = append(d, ms(v))
			}
		}
		ss = append(ss, series{Name: name, Color: palette[(i+2)%len(palette)], X: t, Y: d, Dots: len(t) < 40})
	}
	sub := "worst heartbeat delay per second"
	var parts []string
	for _, rep := range r.Replication {
		parts = append(parts, fmt.Sprintf("%s p99 %s", rep.Replica, results.FormatSeconds(rep.DelayP99Seconds)))
	}
	if len(parts) > 0 {
		sub += " · " + strings.Join(parts, ", ")
	}
	return chart{ID: "replication", Title: "Replication delay", Sub: sub,
		line: &lineChart{XLabel: "time since start (s)", YLabel: "delay (ms)", Series: ss, Markers: eventMarkers(r), Empty: "no per-second replication samples"}}
}

func backendShareChart(r *results.Result) chart {
	var bars []bar
	for i, b := range r.Backends {
		exp := results.ExpectedShareOf(r.Backends, b)
		bars = append(bars, bar{Label: b.Backend + "/" + b.Server, Value: b.ShareRatio, Ref: exp,
			Text: fmt.Sprintf("%s · %d", results.FormatPercent(b.ShareRatio), b.Requests), Color: palette[i%len(palette)]})
	}
	var skews []string
	sk := results.ShareSkew(r)
	for _, k := range sortedKeys(sk) {
		skews = append(skews, fmt.Sprintf("%s skew %s", k, results.FormatPercent(sk[k])))
	}
	return chart{bars: true, ID: "backend-share", Title: "Per-backend server share", Sub: "server side (HAProxy); tick = expected share · " + strings.Join(skews, ", "),
		SVG: barChart{Max: 1, Bars: bars}.SVG()}
}

func cacheChart(r *results.Result) chart {
	var bars []bar
	for _, c := range r.Caches {
		bars = append(bars, bar{Label: "haproxy " + c.Backend, Value: c.HitRatio, Color: palette[5],
			Text: fmt.Sprintf("%s of %d", results.FormatPercent(c.HitRatio), c.Lookups)})
	}
	for _, k := range r.Keyspace {
		bars = append(bars, bar{Label: "redis " + k.Node, Value: k.HitRatio, Color: palette[3],
			Text: fmt.Sprintf("%s of %d", results.FormatPercent(k.HitRatio), k.Hits+k.Misses)})
	}
	return chart{bars: true, ID: "cache", Title: "Cache hit ratio", Sub: "HAProxy cache per backend, Redis keyspace per node",
		SVG: barChart{Max: 1, Bars: bars}.SVG()}
}

func capacityCharts(r *results.Result) []chart {
	c := r.Capacity
	steps := append([]results.CapacityStep(nil), c.Steps...)
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].Rate < steps[j].Rate })
	var rate, p99, succ []float64
	for _, st := range steps {
		rate = append(rate, st.Rate)
		p99 = append(p99, ms(st.Summary.Latency.P99))
		succ = append(succ, st.Summary.SuccessRatio*100)
	}
	sub := fmt.Sprintf("found %.1f req/s in [%.1f, %s) for %s", c.Rate, c.LowGood, highBad(c.HighBad), c.SLO)
	mk := []vmarker{{X: c.Rate, Label: "capacity", Color: "#16a34a"}}
	return []chart{
		{ID: "capacity-p99", Title: "Capacity: p99 by rate", Sub: sub, line: &lineChart{XLabel: "target rate (req/s)", YLabel: "p99 (ms)",
			Series: []series{{Name: "p99", Color: palette[4], X: rate, Y: p99, Dots: true}}, Markers: mk}},
		{ID: "capacity-success", Title: "Capacity: success by rate", Sub: "each step is a short open-loop trial, sorted by rate", line: &lineChart{XLabel: "target rate (req/s)", YLabel: "success (%)",
			YMax: 100, Series: []series{{Name: "success", Color: palette[2], X: rate, Y: succ, Dots: true}}, Markers: mk}},
	}
}

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"secs": results.FormatSeconds, "pct": results.FormatPercent, "bytes": formatBytes,
	"f1": func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"expected": func(r *results.Result, b results.ServerStats) string {
		return results.FormatPercent(results.ExpectedShareOf(r.Backends, b))
	},
	"evtext":    eventText,
	"worstRepl": worstReplicationP99, "idleTitle": func() string { return replicationIdleTitle },
	"genCores":    genCores,
	"agentCores":  func(a results.AgentStats) string { c, _ := agentGenerator(a); return c },
	"agentPerCPU": func(a results.AgentStats) string { _, r := agentGenerator(a); return r },
}).Parse(reportHTML))

// upperFirst capitalises the first letter of a sentence.
func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
