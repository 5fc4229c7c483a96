package load

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/duckbench/duckbench/results"
)

// Histogram range: latencies in microseconds from 1µs to one hour, 3
// significant digits. An intended-time latency includes the wait for a
// late send, so the range reaches far past any request timeout.
const (
	HistMin     = 1
	HistMax     = 3_600_000_000
	HistSigFigs = 3
)

// MaxTimeout is the longest load.timeout accepted: a request that waited
// for a free worker until the attack's end and then for its own timeout
// still fits the histogram for attacks up to HistMax − 2·MaxTimeout long.
const MaxTimeout = 10 * time.Minute

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

// micros is d in the histogram's range; over is true when d lay beyond it
// and was recorded at the top (the caller counts it).
func micros(d time.Duration) (us int64, over bool) {
	us = d.Microseconds()
	switch {
	case us < HistMin:
		return HistMin, false
	case us > HistMax:
		return HistMax, true
	}
	return us, false
}

// maxCode bounds the status-code array; anything above lands in the last slot.
const maxCode = 1000

// maxErrorKinds bounds the distinct error messages kept.
const maxErrorKinds = 32

// stats are the totals of a set of results. Only the consumer goroutine
// touches them. Successes and failures have separate histograms: a fast
// 503 must not make p99 look good, a slow timeout must not hide in the
// success figures.
type stats struct {
	hist, svc, fail   *hdrhistogram.Histogram
	overRange, unsent uint64
	requests, success uint64
	bytesIn, bytesOut uint64
	codes             [maxCode]uint64
	errKinds          map[string]uint64
}

func newStats() *stats {
	return &stats{hist: NewHistogram(), svc: NewHistogram(), fail: NewHistogram()}
}

func (s *stats) add(r *result, ok bool) {
	us, over := micros(r.Latency)
	if over {
		s.overRange++
	}
	s.requests++
	if ok {
		s.success++
		_ = s.hist.RecordValue(us)
		sv, _ := micros(r.service)
		_ = s.svc.RecordValue(sv)
	} else {
		_ = s.fail.RecordValue(us)
		s.addError(&r.Result)
	}
	if r.unsent {
		s.unsent++
	}
	s.bytesIn += r.BytesIn
	s.bytesOut += r.BytesOut
	c := int(r.Code)
	if c >= maxCode {
		c = maxCode - 1
	}
	s.codes[c]++
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

// summary sums s up over an attack window of window; basis says what the
// latency is timed from (with BasisService there is no separate service time).
func (s *stats) summary(targetRate float64, window time.Duration, basis string) results.Summary {
	out := results.Summary{
		Requests: s.requests, Success: s.success, Errors: s.requests - s.success,
		BytesIn: s.bytesIn, BytesOut: s.bytesOut,
		TargetRate:   targetRate,
		LatencyBasis: basis,
		Latency:      Quantiles(s.hist),
		OverRange:    s.overRange,
		Unsent:       s.unsent,
		StatusCodes:  map[string]uint64{},
	}
	results.FillAllRequests(&out, s.hist)
	if basis == results.BasisIntended && s.svc.TotalCount() > 0 {
		q := Quantiles(s.svc)
		out.ServiceTime = &q
	}
	if s.fail.TotalCount() > 0 {
		q := Quantiles(s.fail)
		out.FailureLatency = &q
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
	}
	// One definition everywhere (a trial, merged trials, a second):
	// throughput = successes / attack window.
	out.DurationSeconds = window.Seconds()
	if window > 0 {
		out.Rate = float64(s.requests) / window.Seconds()
		out.Throughput = float64(s.success) / window.Seconds()
	}
	return out
}

// window holds one second of the timeline while results for it may still
// arrive; its histograms are reused second after second.
type window struct {
	sec       int // -1: free
	hist, svc *hdrhistogram.Histogram
	count     uint64
	success   uint64
	errors    uint64
	codes     map[uint16]uint64
	cpuLag    time.Duration // worst lag of a hit that found a free worker
}

func (w *window) reset(sec int) {
	w.sec = sec
	w.hist.Reset()
	w.svc.Reset()
	w.count, w.success, w.errors, w.cpuLag = 0, 0, 0, 0
	clear(w.codes)
}

// timeline bins results by the second they were due in (for rate max: the
// second they were sent in). A second is closed once no result for it can
// still arrive — every hit due in it was sent, and a request timeout has
// passed since — or at the end of the run.
type timeline struct {
	secs    []results.Second
	sent    []uint64 // requests sent per second (by actual send time)
	ring    []window
	closed  int // secs[:closed] are final
	pacer   *Pacer
	dur     time.Duration
	lagSat  time.Duration
	satSecs int // seconds with a CPU-bound schedule lag past lagSat
	// keep: each closed second's histograms are kept encoded in hists and
	// svcHists (ShardData.Seconds).
	keep            bool
	hists, svcHists []string
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
	t := &timeline{secs: make([]results.Second, n), sent: make([]uint64, n), ring: make([]window, ringN), pacer: p, dur: dur, lagSat: lagSat}
	for i := range t.ring {
		t.ring[i] = window{sec: -1, hist: newSecondHistogram(), svc: newSecondHistogram(), codes: map[uint16]uint64{}}
	}
	for i := range t.secs {
		t.secs[i].T = i
	}
	return t
}

// newSecondHistogram is a per-second histogram: 2 significant digits are
// plenty for a timeline point and keep the ring small.
func newSecondHistogram() *hdrhistogram.Histogram { return hdrhistogram.New(HistMin, HistMax, 2) }

func (t *timeline) clampSec(at time.Duration) int {
	sec := int(at / time.Second)
	return max(0, min(sec, len(t.secs)-1))
}

// add records a result due `at` after the attack began and sent `sentAt`
// after it; cpuLag is its lag behind schedule when it did not wait for a
// worker (0 otherwise).
func (t *timeline) add(r *result, at, sentAt time.Duration, ok bool, cpuLag time.Duration) {
	if !r.unsent {
		t.sent[t.clampSec(sentAt)]++
	}
	sec := t.clampSec(at)
	if sec < t.closed { // later than the ring allowed: fold into the oldest open second
		if t.closed >= len(t.secs) {
			return
		}
		sec = t.closed
	}
	w := &t.ring[sec%len(t.ring)]
	if w.sec != sec {
		t.closeThrough(sec - len(t.ring))
		w.reset(sec)
	}
	us, _ := micros(r.Latency)
	w.count++
	if ok {
		w.success++
		_ = w.hist.RecordValue(us)
		sv, _ := micros(r.service)
		_ = w.svc.RecordValue(sv)
	} else {
		w.errors++
	}
	w.codes[r.Code]++
	w.cpuLag = max(w.cpuLag, cpuLag)
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
			continue // nothing due that second
		}
		s.Throughput = float64(w.success) / span
		s.Errors = w.errors
		if w.success > 0 {
			s.P50 = float64(w.hist.ValueAtQuantile(50)) / 1e6
			s.P99 = float64(w.hist.ValueAtQuantile(99)) / 1e6
			s.Max = float64(w.hist.Max()) / 1e6
			if !t.pacer.Max() {
				s.ServiceP50 = float64(w.svc.ValueAtQuantile(50)) / 1e6
				s.ServiceP99 = float64(w.svc.ValueAtQuantile(99)) / 1e6
			}
		}
		s.StatusCodes = make(map[string]uint64, len(w.codes))
		for c, n := range w.codes {
			s.StatusCodes[strconv.Itoa(int(c))] = n
		}
		if t.keep && w.success > 0 {
			t.hists[t.closed], _ = EncodeHistogram(w.hist)
			t.svcHists[t.closed], _ = EncodeHistogram(w.svc)
		}
		s.ScheduleLagSeconds = max(s.ScheduleLagSeconds, w.cpuLag.Seconds())
		if !t.pacer.Max() && w.cpuLag > t.lagSat {
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
	for i := range t.secs {
		from := time.Duration(i) * time.Second
		span := (min(from+time.Second, t.dur) - from).Seconds()
		if span <= 0 {
			span = 1
		}
		t.secs[i].AchievedRate = float64(t.sent[i]) / span
	}
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

// DecodeHistogramString decodes an encoded histogram (Report.Histogram).
func DecodeHistogramString(enc string) (*hdrhistogram.Histogram, error) {
	h, err := hdrhistogram.Decode([]byte(enc))
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	return h, nil
}
