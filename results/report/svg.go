package report

import (
	"fmt"
	"github.com/duckbench/duckbench/results"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Charts are drawn as inline SVG in Go so the report is one file, needs no
// script or CDN, and renders the same bytes for the same record.

var palette = []string{"#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"}

type series struct {
	Name  string
	Color string
	X, Y  []float64
	Dash  bool
	Dots  bool
	Width float64
	// NoLine draws the dots only (points that are not a series in x).
	NoLine bool
}

type vmarker struct {
	X     float64
	Label string
	Color string
}

// band shades [From, To] on the x axis (a stall).
type band struct {
	From, To float64
	Label    string
	Color    string
}

type tick struct {
	V     float64
	Label string
}

type lineChart struct {
	W, H    int
	XLabel  string
	YLabel  string
	XFmt    func(float64) string
	YFmt    func(float64) string
	XTicks  []tick // fixed ticks (else nice ticks)
	YMax    float64
	Series  []series
	Markers []vmarker
	Bands   []band
	Empty   string
}

const (
	padL, padR, padT, padB = 64.0, 30.0, 28.0, 44.0
)

func num(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

func esc(s string) string { return html.EscapeString(s) }

// niceTicks returns about n round tick values covering [lo, hi].
func niceTicks(lo, hi float64, n int) []float64 {
	if hi <= lo {
		hi = lo + 1
	}
	span := niceNum(hi-lo, false)
	step := niceNum(span/float64(n-1), true)
	start := math.Floor(lo/step) * step
	var out []float64
	for v := start; v <= hi+step*0.5; v += step {
		out = append(out, math.Round(v/step)*step)
		if len(out) > 20 {
			break
		}
	}
	return out
}

func niceNum(x float64, round bool) float64 {
	if x <= 0 {
		return 1
	}
	exp := math.Floor(math.Log10(x))
	f := x / math.Pow(10, exp)
	var nf float64
	if round {
		switch {
		case f < 1.5:
			nf = 1
		case f < 3:
			nf = 2
		case f < 7:
			nf = 5
		default:
			nf = 10
		}
	} else {
		switch {
		case f <= 1:
			nf = 1
		case f <= 2:
			nf = 2
		case f <= 5:
			nf = 5
		default:
			nf = 10
		}
	}
	return nf * math.Pow(10, exp)
}

func fmtTick(v float64) string {
	if v == 0 {
		return "0"
	}
	a := math.Abs(v)
	switch {
	case a >= 1e6:
		return results.TrimZeros(fmt.Sprintf("%.1f", v/1e6)) + "M"
	case a >= 1e4:
		return results.TrimZeros(fmt.Sprintf("%.1f", v/1e3)) + "k"
	case a >= 10:
		return results.TrimZeros(fmt.Sprintf("%.0f", v))
	case a >= 1:
		return results.TrimZeros(fmt.Sprintf("%.1f", v))
	case a >= 0.01:
		return results.TrimZeros(fmt.Sprintf("%.2f", v))
	}
	return results.TrimZeros(fmt.Sprintf("%.4f", v))
}

func (c lineChart) SVG() template.HTML {
	if c.W == 0 {
		c.W, c.H = 560, 260
	}
	xf, yf := c.XFmt, c.YFmt
	if xf == nil {
		xf = fmtTick
	}
	if yf == nil {
		yf = fmtTick
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" xmlns="http://www.w3.org/2000/svg">`, c.W, c.H)
	pw, ph := float64(c.W)-padL-padR, float64(c.H)-padT-padB

	xmin, xmax := math.Inf(1), math.Inf(-1)
	ymax := 0.0
	points := 0
	for _, s := range c.Series {
		for i := range s.X {
			if isBad(s.X[i]) || isBad(s.Y[i]) {
				continue
			}
			xmin, xmax = math.Min(xmin, s.X[i]), math.Max(xmax, s.X[i])
			ymax = math.Max(ymax, s.Y[i])
			points++
		}
	}
	if points == 0 {
		msg := c.Empty
		if msg == "" {
			msg = "no data"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="empty" text-anchor="middle">%s</text></svg>`, c.W/2, c.H/2, esc(msg))
		return template.HTML(b.String())
	}
	var xt []tick
	if len(c.XTicks) > 0 {
		xt = c.XTicks
		xmin = math.Min(xmin, xt[0].V)
		xmax = math.Max(xmax, xt[len(xt)-1].V)
	} else {
		for _, v := range niceTicks(xmin, xmax, 7) {
			if v >= xmin-1e-9 && v <= xmax+1e-9 {
				xt = append(xt, tick{v, xf(v)})
			}
		}
	}
	if xmax == xmin {
		xmax = xmin + 1
	}
	if c.YMax > 0 {
		ymax = c.YMax
	}
	yt := niceTicks(0, ymax, 5)
	ytop := yt[len(yt)-1]
	if ytop <= 0 {
		ytop = 1
	}
	px := func(x float64) float64 { return padL + (x-xmin)/(xmax-xmin)*pw }
	py := func(y float64) float64 { return padT + ph - y/ytop*ph }

	// Grid and axes.
	b.WriteString(`<g class="grid">`)
	for _, v := range yt {
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(padL), num(py(v)), num(padL+pw), num(py(v)))
	}
	b.WriteString(`</g><g class="axis">`)
	for _, v := range yt {
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="end">%s</text>`, num(padL-6), num(py(v)+4), esc(yf(v)))
	}
	for _, t := range xt {
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(px(t.V)), num(padT+ph), num(px(t.V)), num(padT+ph+4))
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle">%s</text>`, num(px(t.V)), num(padT+ph+17), esc(t.Label))
	}
	fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(padL), num(padT+ph), num(padL+pw), num(padT+ph))
	fmt.Fprintf(&b, `<text class="label" x="%s" y="%d" text-anchor="middle">%s</text>`, num(padL+pw/2), c.H-6, esc(c.XLabel))
	fmt.Fprintf(&b, `<text class="label" transform="translate(14 %s) rotate(-90)" text-anchor="middle">%s</text>`, num(padT+ph/2), esc(c.YLabel))
	b.WriteString(`</g>`)

	c.writeBandsAndMarkers(&b, px, xmin, xmax, ph, pw)

	// Series.
	for _, s := range c.Series {
		w := s.Width
		if w == 0 {
			w = 1.8
		}
		var pts []string
		for i := range s.X {
			if isBad(s.X[i]) || isBad(s.Y[i]) {
				continue
			}
			pts = append(pts, num(px(s.X[i]))+","+num(py(math.Min(s.Y[i], ytop))))
		}
		dash := ""
		if s.Dash {
			dash = ` stroke-dasharray="6 4"`
		}
		if !s.NoLine {
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="%s"%s stroke-linejoin="round" points="%s"><title>%s</title></polyline>`,
				s.Color, num(w), dash, strings.Join(pts, " "), esc(s.Name))
		}
		if s.Dots {
			for i := range s.X {
				if isBad(s.X[i]) || isBad(s.Y[i]) {
					continue
				}
				fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="3.5" fill="%s"><title>%s: %s, %s</title></circle>`,
					num(px(s.X[i])), num(py(math.Min(s.Y[i], ytop))), s.Color, esc(s.Name), esc(xf(s.X[i])), esc(yf(s.Y[i])))
			}
		}
	}
	c.writeLegend(&b)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// writeLegend draws the legend: top-left, one row.
func (c lineChart) writeLegend(b *strings.Builder) {
	x := padL
	for _, s := range c.Series {
		if s.Name == "" { // unnamed: one of several drawn alike, named once
			continue
		}
		dash := ""
		if s.Dash {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(b, `<g class="legend"><line x1="%s" y1="12" x2="%s" y2="12" stroke="%s" stroke-width="3"%s/><text x="%s" y="16">%s</text></g>`,
			num(x), num(x+18), s.Color, dash, num(x+22), esc(s.Name))
		x += 30 + 7*float64(len([]rune(s.Name)))
	}
}

func isBad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }

type bar struct {
	Label string
	Value float64
	Ref   float64 // expected value marker; 0 = none
	Text  string  // value label
	Color string
}

type barChart struct {
	W     int
	Max   float64 // full scale
	Bars  []bar
	Empty string
	Note  string
}

func (c barChart) SVG() template.HTML {
	if c.W == 0 {
		c.W = 560
	}
	const rowH, labelW, textW = 28.0, 130.0, 130.0
	h := int(rowH*float64(len(c.Bars)) + 34)
	if len(c.Bars) == 0 {
		h = 80
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" xmlns="http://www.w3.org/2000/svg">`, c.W, h)
	if len(c.Bars) == 0 {
		msg := c.Empty
		if msg == "" {
			msg = "no data"
		}
		fmt.Fprintf(&b, `<text x="%d" y="44" class="empty" text-anchor="middle">%s</text></svg>`, c.W/2, esc(msg))
		return template.HTML(b.String())
	}
	max := c.Max
	for _, br := range c.Bars {
		max = math.Max(max, math.Max(br.Value, br.Ref))
	}
	if max <= 0 {
		max = 1
	}
	bw := float64(c.W) - labelW - textW
	for i, br := range c.Bars {
		y := 8 + rowH*float64(i)
		color := br.Color
		if color == "" {
			color = palette[i%len(palette)]
		}
		fmt.Fprintf(&b, `<text class="axis" x="%s" y="%s" text-anchor="end">%s</text>`, num(labelW-8), num(y+15), esc(br.Label))
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="20" rx="3" fill="#eef2f7"/>`, num(labelW), num(y+1), num(bw))
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="20" rx="3" fill="%s"><title>%s: %s</title></rect>`,
			num(labelW), num(y+1), num(math.Max(0, br.Value/max*bw)), color, esc(br.Label), esc(br.Text))
		if br.Ref > 0 {
			rx := labelW + br.Ref/max*bw
			fmt.Fprintf(&b, `<line class="ref" x1="%s" y1="%s" x2="%s" y2="%s"><title>expected %s</title></line>`,
				num(rx), num(y-2), num(rx), num(y+24), esc(results.FormatPercent(br.Ref)))
		}
		fmt.Fprintf(&b, `<text class="value" x="%s" y="%s">%s</text>`, num(labelW+bw+8), num(y+15), esc(br.Text))
	}
	if c.Note != "" {
		fmt.Fprintf(&b, `<text class="note" x="%s" y="%d">%s</text>`, num(labelW), h-6, esc(c.Note))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// writeBandsAndMarkers draws the shaded bands (stalls) and the event
// markers, under the series.
func (c lineChart) writeBandsAndMarkers(b *strings.Builder, px func(float64) float64, xmin, xmax, ph, pw float64) {
	// Bands (stalls) under the markers and series.
	for _, bd := range c.Bands {
		from, to := math.Max(bd.From, xmin), math.Min(bd.To, xmax)
		if to <= from {
			continue
		}
		fmt.Fprintf(b, `<g class="band"><rect x="%s" y="%s" width="%s" height="%s" fill="%s" fill-opacity="0.15"><title>%s</title></rect>`,
			num(px(from)), num(padT), num(math.Max(px(to)-px(from), 1)), num(ph), bd.Color, esc(bd.Label))
		fmt.Fprintf(b, `<text x="%s" y="%s" style="fill:%s" text-anchor="start">%s</text></g>`, num(px(from)+3), num(padT+ph-6), bd.Color, esc(bd.Label))
	}

	// Event markers; labels of markers close together go one row lower
	// each, so that they do not overprint.
	lastX, row := math.Inf(-1), 0
	for _, m := range c.Markers {
		if m.X < xmin || m.X > xmax {
			continue
		}
		x := px(m.X)
		if x-lastX < 90 {
			row++
		} else {
			row = 0
		}
		lastX = x
		fmt.Fprintf(b, `<g class="marker"><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`, num(x), num(padT), num(x), num(padT+ph), m.Color)
		tx, anchor := x+3, "start"
		if x > padL+pw*0.8 { // keep the label inside the plot
			tx, anchor = x-3, "end"
		}
		fmt.Fprintf(b, `<text x="%s" y="%s" style="fill:%s" text-anchor="%s">%s</text></g>`, num(tx), num(padT+10+float64(row%4)*12), m.Color, anchor, esc(m.Label))
	}
}
