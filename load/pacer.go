package load

import (
	"fmt"
	"math"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/duckbench/duckbench/spec"
)

// Shapes of the request rate over time.
const (
	ShapeConstant = "constant"
	ShapeRamp     = "ramp"
	ShapeSine     = "sine"
	ShapeSteps    = "steps"
)

// shape is a rate curve in seconds: rate(t) req/s, hits(t) its integral
// from 0, and at(n) the inverse of hits (the time hit n is due).
type shape interface {
	rate(t float64) float64
	hits(t float64) float64
	at(n float64) float64
	peak() float64
}

// Pacer paces an attack along a shape. Hit n (0-based) is due at the time
// the shape's integral reaches n, so the first hit goes out at once and
// exactly ceil(hits(duration)) hits are sent. It implements vegeta.Pacer;
// the attack's own workers take hit numbers as tickets (scheduler) and ask
// At for their due times.
type Pacer struct {
	s   shape // nil: as fast as possible
	dur time.Duration
	// stripe, of stripes: this pacer sends only the hits n of the shape
	// with n mod stripes == stripe (one load agent's share; see Stripe).
	stripe, stripes uint64
}

// Stripe makes p pace only hit stripe, stripe+stripes, stripe+2·stripes, …
// of its shape: the shard of load agent stripe (0-based) of stripes. The
// shards' schedules are disjoint and their union is the unsharded schedule
// hit for hit, whatever the shape, so the shards' counts sum exactly to the
// whole (StripeHits); its rate and Hits are the shape's divided by stripes.
func (p *Pacer) Stripe(stripe, stripes int) error {
	if stripes < 1 || stripe < 0 || stripe >= stripes {
		return fmt.Errorf("stripe %d of %d: want 0 <= stripe < stripes", stripe, stripes)
	}
	p.stripe, p.stripes = uint64(stripe), uint64(stripes)
	return nil
}

// StripeHits is how many of the first total hits fall to stripe of
// stripes: the n < total with n mod stripes == stripe. Summed over the
// stripes it is total.
func StripeHits(total uint64, stripe, stripes int) uint64 {
	s, k := uint64(stripe), uint64(stripes)
	if total <= s {
		return 0
	}
	return (total-s-1)/k + 1
}

// div is the stripe count (1 when unstriped).
func (p *Pacer) div() float64 { return float64(max(p.stripes, 1)) }

var _ vegeta.Pacer = (*Pacer)(nil)

// NewPacer builds the pacer of a workload over duration d. A max rate gives
// an unpaced pacer.
func NewPacer(w spec.Workload, d time.Duration) (*Pacer, error) {
	if w.Rate.IsMax() {
		return &Pacer{dur: d}, nil
	}
	s, err := newShape(w, d)
	if err != nil {
		return nil, err
	}
	return &Pacer{s: s, dur: d}, nil
}

func newShape(w spec.Workload, d time.Duration) (shape, error) {
	r := float64(w.Rate)
	switch w.Shape {
	case "", ShapeConstant:
		if r <= 0 {
			return nil, fmt.Errorf("load.rate: must be > 0 or \"max\" (got %v)", r)
		}
		return constant{r}, nil
	case ShapeRamp:
		if r < 0 || w.RampFrom < 0 || (r == 0 && w.RampFrom == 0) {
			return nil, fmt.Errorf("load.ramp_from, load.rate: must be >= 0 and not both 0 (got %v, %v)", w.RampFrom, r)
		}
		return ramp{from: w.RampFrom, k: (r - w.RampFrom) / d.Seconds(), dur: d.Seconds(), to: r}, nil
	case ShapeSine:
		p := w.Period.D().Seconds()
		if r <= 0 || w.Amplitude < 0 || w.Amplitude > r || p <= 0 {
			return nil, fmt.Errorf("load: sine needs rate > 0, 0 <= amplitude <= rate and period > 0 (got rate %v, amplitude %v, period %v)", r, w.Amplitude, w.Period)
		}
		return sine{mean: r, amp: w.Amplitude, period: p}, nil
	case ShapeSteps:
		return newSteps(w.Steps)
	}
	return nil, fmt.Errorf("load.shape: must be constant, ramp, sine or steps (got %q)", w.Shape)
}

// Max reports whether the pacer is unpaced (rate max).
func (p *Pacer) Max() bool { return p.s == nil }

// Pace implements vegeta.Pacer.
func (p *Pacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if p.s == nil {
		return 0, false
	}
	due := p.At(hits)
	if due >= p.dur {
		return 0, true
	}
	return due - elapsed, false // negative: late, send at once
}

// Rate implements vegeta.Pacer: the instantaneous target rate (0 for max).
func (p *Pacer) Rate(elapsed time.Duration) float64 {
	if p.s == nil {
		return 0
	}
	return p.s.rate(elapsed.Seconds()) / p.div()
}

// Hits is the number of hits scheduled in [0, t) (fractional).
func (p *Pacer) Hits(t time.Duration) float64 {
	if p.s == nil || t <= 0 {
		return 0
	}
	return p.s.hits(t.Seconds()) / p.div()
}

// At is the time hit n (0-based) is due; math.MaxInt64 when never.
func (p *Pacer) At(n uint64) time.Duration {
	if p.s == nil {
		return 0
	}
	if p.stripes > 1 {
		n = n*p.stripes + p.stripe
	}
	t := p.s.at(float64(n))
	if math.IsInf(t, 0) || math.IsNaN(t) || t*1e9 >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(t * 1e9)
}

// Peak is the highest target rate of the shape (0 for max).
func (p *Pacer) Peak() float64 {
	if p.s == nil {
		return 0
	}
	return p.s.peak() / p.div()
}

type constant struct{ r float64 }

func (c constant) rate(float64) float64   { return c.r }
func (c constant) hits(t float64) float64 { return c.r * t }
func (c constant) at(n float64) float64   { return n / c.r }
func (c constant) peak() float64          { return c.r }

// ramp is linear from `from` to `to` over dur, then holds `to`.
type ramp struct{ from, k, dur, to float64 }

func (r ramp) rate(t float64) float64 {
	if t >= r.dur {
		return r.to
	}
	return r.from + r.k*t
}

func (r ramp) hits(t float64) float64 {
	if t > r.dur {
		return r.hits(r.dur) + r.to*(t-r.dur)
	}
	return r.from*t + r.k*t*t/2
}

func (r ramp) at(n float64) float64 {
	if n <= 0 {
		return 0
	}
	if end := r.hits(r.dur); n > end {
		return r.dur + (n-end)/r.to // +Inf when to == 0
	}
	// Root of k/2 t² + from t - n = 0 in a form stable for k of any sign.
	return 2 * n / (r.from + math.Sqrt(r.from*r.from+2*r.k*n))
}

func (r ramp) peak() float64 { return math.Max(r.from, r.to) }

// sine has mean rate `mean`, amplitude `amp` and period `period`, starting
// at the mean and rising.
type sine struct{ mean, amp, period float64 }

func (s sine) w() float64 { return 2 * math.Pi / s.period }

func (s sine) rate(t float64) float64 { return s.mean + s.amp*math.Sin(s.w()*t) }

func (s sine) hits(t float64) float64 {
	return s.mean*t + s.amp/s.w()*(1-math.Cos(s.w()*t))
}

func (s sine) at(n float64) float64 {
	if n <= 0 {
		return 0
	}
	// hits(t) lies in [mean t, mean t + 2 amp/w]: a bracket for Newton's method.
	lo, hi := math.Max(0, (n-2*s.amp/s.w())/s.mean), n/s.mean
	t := hi
	for i := 0; i < 60; i++ {
		f := s.hits(t) - n
		if math.Abs(f) < 1e-9 || hi-lo < 1e-12 {
			break
		}
		if f > 0 {
			hi = t
		} else {
			lo = t
		}
		next := t - f/s.rate(t)
		if !(next > lo && next < hi) { // rate 0 or overshoot: bisect
			next = (lo + hi) / 2
		}
		t = next
	}
	return t
}

func (s sine) peak() float64 { return s.mean + s.amp }

// steps is a sequence of constant rates; the last one holds.
type steps struct {
	rates  []float64
	starts []float64 // start time of each step
	cum    []float64 // hits before each step
}

func newSteps(in []spec.Step) (steps, error) {
	if len(in) == 0 {
		return steps{}, fmt.Errorf("load.steps: shape steps needs at least one step")
	}
	var s steps
	var t, h float64
	for i, st := range in {
		if st.Rate < 0 || st.For <= 0 {
			return steps{}, fmt.Errorf("load.steps[%d]: needs rate >= 0 and for > 0 (got %v, %v)", i, st.Rate, st.For)
		}
		s.rates = append(s.rates, st.Rate)
		s.starts = append(s.starts, t)
		s.cum = append(s.cum, h)
		d := st.For.D().Seconds()
		t += d
		h += st.Rate * d
	}
	return s, nil
}

func (s steps) seg(t float64) int {
	i := len(s.starts) - 1
	for i > 0 && s.starts[i] > t {
		i--
	}
	return i
}

func (s steps) rate(t float64) float64 { return s.rates[s.seg(t)] }

func (s steps) hits(t float64) float64 {
	i := s.seg(t)
	return s.cum[i] + s.rates[i]*(t-s.starts[i])
}

func (s steps) at(n float64) float64 {
	last := len(s.rates) - 1
	for i := 0; i < last; i++ {
		if s.rates[i] > 0 && n < s.cum[i+1] {
			return s.starts[i] + (n-s.cum[i])/s.rates[i]
		}
	}
	return s.starts[last] + (n-s.cum[last])/s.rates[last] // +Inf when 0
}

func (s steps) peak() float64 {
	var m float64
	for _, r := range s.rates {
		m = math.Max(m, r)
	}
	return m
}

// stepsTotal is the summed length of the steps.
func stepsTotal(in []spec.Step) time.Duration {
	var d time.Duration
	for _, st := range in {
		d += st.For.D()
	}
	return d
}
