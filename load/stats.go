package load

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/duckbench/duckbench/results"
)

// Histogram range: latencies in microseconds from 1µs to 60s, 3 significant
// digits.
const (
	HistMin     = 1
	HistMax     = 60_000_000
	HistSigFigs = 3
)

// NewHistogram returns an empty latency histogram with duckbench's range.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(HistMin, HistMax, HistSigFigs)
}

// EncodeHistogram is the V2 compressed, base64 form of h.
func EncodeHistogram(h *hdrhistogram.Histogram) (string, error) {
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	return string(b), err
}

// Quantiles reads results.Quantiles (seconds) off a microsecond histogram.
func Quantiles(h *hdrhistogram.Histogram) results.Quantiles {
	if h.TotalCount() == 0 {
		return results.Quantiles{}
	}
	v := h.ValueAtPercentiles([]float64{50, 90, 99, 99.9, 99.99})
	s := func(us int64) float64 { return float64(us) / 1e6 }
	return results.Quantiles{
		Min: s(h.Min()), Mean: h.Mean() / 1e6, Max: s(h.Max()),
		P50: s(v[50]), P90: s(v[90]), P99: s(v[99]), P999: s(v[99.9]), P9999: s(v[99.99]),
	}
}

// micros clamps a latency into the histogram's range.
func micros(d time.Duration) int64 {
	us := d.Microseconds()
	switch {
	case us < HistMin:
		return HistMin
	case us > HistMax:
		return HistMax
	}
	return us
}

// maxCode bounds the status-code array; anything above lands in the last slot.
const maxCode = 1000

// maxErrorKinds bounds the distinct error messages kept.
const maxErrorKinds = 32

// stats are the totals of a set of results. Only the consumer goroutine
// touches them.
type stats struct {
	hist              *hdrhistogram.Histogram
	requests, success uint64
	bytesIn, bytesOut uint64
	codes             [maxCode]uint64
	errKinds          map[string]uint64
	first, last       time.Time // earliest and latest start
	lastEnd           time.Time
}

func newStats() *stats { return &stats{hist: NewHistogram()} }

func (s *stats) add(r *vegeta.Result, us int64, bytesIn uint64, ok bool) {
	_ = s.hist.RecordValue(us)
	s.requests++
	if ok {
		s.success++
	} else {
		s.addError(r)
	}
	s.bytesIn += bytesIn
	s.bytesOut += r.BytesOut
	c := int(r.Code)
	if c >= maxCode {
		c = maxCode - 1
	}
	s.codes[c]++
	if s.first.IsZero() || r.Timestamp.Before(s.first) {
		s.first = r.Timestamp
	}
	if r.Timestamp.After(s.last) {
		s.last = r.Timestamp
	}
	if end := r.Timestamp.Add(r.Latency); end.After(s.lastEnd) {
		s.lastEnd = end
	}
}

func (s *stats) addError(r *vegeta.Result) {
	k := errorKind(r)
	if s.errKinds == nil {
		s.errKinds = map[string]uint64{}
	}
	if _, ok := s.errKinds[k]; !ok && len(s.errKinds) >= maxErrorKinds {
		k = "other"
	}
	s.errKinds[k]++
}

// errorKind strips the per-request part (`Get "http://…/k12": `) off an
// error so that the same failure counts once.
func errorKind(r *vegeta.Result) string {
	e := r.Error
	if e == "" {
		return strconv.Itoa(int(r.Code))
	}
	if m := len(r.Method); len(e) > m+2 && strings.EqualFold(e[:m], r.Method) && e[m:m+2] == " \"" {
		if i := strings.Index(e, "\": "); i >= 0 {
			e = e[i+3:]
		}
	}
	// dial errors carry ephemeral local ports: "dial tcp 127.0.0.1:4321->…".
	if i := strings.Index(e, "read tcp "); i >= 0 {
		if j := strings.LastIndex(e, ": "); j > i {
			e = e[:i] + "read tcp: " + e[j+2:]
		}
	}
	return e
}

func (s *stats) summary(targetRate float64) results.Summary {
	out := results.Summary{
		Requests: s.requests, Success: s.success, Errors: s.requests - s.success,
		BytesIn: s.bytesIn, BytesOut: s.bytesOut,
		TargetRate:  targetRate,
		Latency:     Quantiles(s.hist),
		StatusCodes: map[string]uint64{},
	}
	for c, n := range s.codes {
		if n > 0 {
			out.StatusCodes[strconv.Itoa(c)] = n
		}
	}
	if len(s.errKinds) > 0 {
		out.ErrorKinds = make(map[string]uint64, len(s.errKinds))
		for k, v := range s.errKinds {
			out.ErrorKinds[k] = v
		}
	}
	if s.requests > 0 {
		out.SuccessRatio = float64(s.success) / float64(s.requests)
		// As vegeta: rate over the span of starts, throughput until the
		// last response.
		span := s.last.Sub(s.first).Seconds()
		out.DurationSeconds = span
		if span > 0 {
			out.Rate = float64(s.requests) / span
		}
		if all := s.lastEnd.Sub(s.first).Seconds(); all > 0 {
			out.Throughput = float64(s.success) / all
		}
	}
	return out
}

// window holds one second of the timeline while results for it may still
// arrive; its histogram is reused second after second.
type window struct {
	sec    int // -1: free
	hist   *hdrhistogram.Histogram
	count  uint64
	errors uint64
	codes  map[uint16]uint64
	maxLag time.Duration
}

func (w *window) reset(sec int) {
	w.sec = sec
	w.hist.Reset()
	w.count, w.errors, w.maxLag = 0, 0, 0
	clear(w.codes)
}

// timeline bins results by the second their request started in. A second is
// closed once no result for it can still arrive (its end plus the request
// timeout), or at the end of the run.
type timeline struct {
	secs    []results.Second
	ring    []window
	closed  int // secs[:closed] are final
	pacer   *Pacer
	dur     time.Duration
	lagSat  time.Duration
	satSecs int
}

func newTimeline(p *Pacer, dur, timeout, lagSat time.Duration) *timeline {
	n := int(math.Ceil(dur.Seconds()))
	if n < 1 {
		n = 1
	}
	ringN := int(timeout/time.Second) + 3
	if ringN > n {
		ringN = n
	}
	t := &timeline{secs: make([]results.Second, n), ring: make([]window, ringN), pacer: p, dur: dur, lagSat: lagSat}
	for i := range t.ring {
		t.ring[i] = window{sec: -1, hist: NewHistogram(), codes: map[uint16]uint64{}}
	}
	for i := range t.secs {
		t.secs[i].T = i
	}
	return t
}

// add records a result that started `at` after the attack began, with
// schedule lag `lag`.
func (t *timeline) add(at time.Duration, us int64, code uint16, ok bool, lag time.Duration) {
	sec := int(at / time.Second)
	if sec >= len(t.secs) {
		sec = len(t.secs) - 1
	}
	if sec < t.closed { // later than the timeout allowed: fold into the oldest open second
		if t.closed >= len(t.secs) {
			return
		}
		sec = t.closed
	}
	if sec < 0 {
		sec = 0
	}
	w := &t.ring[sec%len(t.ring)]
	if w.sec != sec {
		t.closeThrough(sec - len(t.ring))
		w.reset(sec)
	}
	_ = w.hist.RecordValue(us)
	w.count++
	if !ok {
		w.errors++
	}
	w.codes[code]++
	if lag > w.maxLag {
		w.maxLag = lag
	}
}

// closeThrough finalizes every second up to and including last.
func (t *timeline) closeThrough(last int) {
	if last >= len(t.secs) {
		last = len(t.secs) - 1
	}
	for ; t.closed <= last; t.closed++ {
		s := &t.secs[t.closed]
		from := time.Duration(t.closed) * time.Second
		to := min(from+time.Second, t.dur)
		span := (to - from).Seconds()
		if span <= 0 {
			span = 1
		}
		s.TargetRate = (t.pacer.Hits(to) - t.pacer.Hits(from)) / span
		w := &t.ring[t.closed%len(t.ring)]
		if w.sec != t.closed {
			continue // nothing started that second
		}
		s.AchievedRate = float64(w.count) / span
		s.Errors = w.errors
		if w.count > 0 {
			s.P50 = float64(w.hist.ValueAtQuantile(50)) / 1e6
			s.P99 = float64(w.hist.ValueAtQuantile(99)) / 1e6
			s.Max = float64(w.hist.Max()) / 1e6
		}
		s.StatusCodes = make(map[string]uint64, len(w.codes))
		for c, n := range w.codes {
			s.StatusCodes[strconv.Itoa(int(c))] = n
		}
		s.ScheduleLagSeconds = max(s.ScheduleLagSeconds, w.maxLag.Seconds())
		if !t.pacer.Max() && w.maxLag > t.lagSat {
			t.satSecs++
		}
		w.sec = -1
	}
}

// noteLag raises the schedule lag of second sec to at least lag (the live
// monitor's view, which also covers seconds where no hit went out).
func (t *timeline) noteLag(sec int, lag time.Duration) {
	if sec >= 0 && sec < len(t.secs) {
		t.secs[sec].ScheduleLagSeconds = max(t.secs[sec].ScheduleLagSeconds, lag.Seconds())
	}
}

// finish closes every second and trims the timeline to `upTo` (a run cut short).
func (t *timeline) finish(upTo time.Duration) []results.Second {
	t.closeThrough(len(t.secs) - 1)
	n := int(math.Ceil(upTo.Seconds()))
	if n < len(t.secs) && n >= 0 {
		if n == 0 {
			n = 1
		}
		t.secs = t.secs[:n]
	}
	return t.secs
}

// shares turns counts into ratios.
func shares(m map[string]uint64) map[string]float64 {
	if len(m) == 0 {
		return nil
	}
	var total uint64
	for _, v := range m {
		total += v
	}
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[k] = float64(v) / float64(total)
	}
	return out
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
