package results

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Failed is the value of a latency quantile over all requests that falls
// among the failed requests: a failed request met no latency objective, so
// it counts as slower than any success (Gil Tene's rule). It is +Inf in Go
// and the string "failed" in JSON (JSON has no infinity).
var Failed = math.Inf(1)

// IsFailed reports whether a latency figure is Failed.
func IsFailed(v float64) bool { return math.IsInf(v, 1) }

// failedJSON is how a Failed quantile is written in JSON.
const failedJSON = "failed"

// DefaultSuccess is the success term an SLO of capacity and sweep gets
// when it sets none: the searches' outputs name it.
const DefaultSuccess = 0.999

// AllRequestQuantiles are the quantiles over all requests of a set whose
// successes' latencies (microseconds) are in h and whose requests number
// requests (h.TotalCount() of them succeeded, the rest failed): the
// failures rank above every success, so a quantile whose rank falls among
// them is Failed, and so are the mean and the max when any request failed.
// No requests give zero quantiles.
func AllRequestQuantiles(h *hdrhistogram.Histogram, requests uint64) Quantiles {
	ok := uint64(0)
	if h != nil {
		ok = uint64(h.TotalCount())
	}
	if requests == 0 {
		return Quantiles{}
	}
	requests = max(requests, ok)
	at := func(q float64) float64 {
		rank := uint64(math.Ceil(q*float64(requests) - 1e-9)) // the rank-th smallest, 1-based
		rank = max(rank, 1)
		if rank > ok {
			return Failed
		}
		// hdrhistogram takes the value whose cumulative count reaches
		// round(p/100 · total): p for exactly rank among the successes.
		return float64(h.ValueAtPercentile(100*float64(rank)/float64(ok))) / 1e6
	}
	q := Quantiles{Min: Failed, Mean: Failed, Max: Failed,
		P50: at(0.5), P90: at(0.9), P99: at(0.99), P999: at(0.999), P9999: at(0.9999)}
	if ok > 0 {
		q.Min = float64(h.Min()) / 1e6
	}
	if ok == requests {
		q.Mean, q.Max = h.Mean()/1e6, float64(h.Max())/1e6
	}
	return q
}

// FillAllRequests sets s.AllLatency from the successes' latency histogram
// h of the same requests (s.Requests of them in all).
func FillAllRequests(s *Summary, h *hdrhistogram.Histogram) {
	q := AllRequestQuantiles(h, s.Requests)
	s.AllLatency = &q
}

// Latency reads the latency quantiles every verdict judges: over all
// requests, failures counted slower than any success. exact is false when
// the record predates the all-requests quantiles and some requests failed:
// the success-only quantiles stand in (labelled by the callers).
func Latency(s Summary) Quantiles {
	q, _ := LatencyOf(s)
	return q
}

// LatencyOf is Latency and whether it is exact (see Latency).
func LatencyOf(s Summary) (q Quantiles, exact bool) {
	switch {
	case s.AllLatency != nil:
		return *s.AllLatency, true
	case s.Requests == 0 || s.Success >= s.Requests:
		return s.Latency, true // no failure: the success quantiles are all requests'
	case s.Success == 0:
		return Quantiles{Min: Failed, Mean: Failed, P50: Failed, P90: Failed, P99: Failed, P999: Failed, P9999: Failed, Max: Failed}, true
	}
	return s.Latency, false
}

// fillAllFromHistogram fills the all-requests quantiles of a summary read
// from a record that predates them, from its success histogram.
func fillAllFromHistogram(s *Summary, enc string) {
	if s.AllLatency != nil || enc == "" {
		return
	}
	h, err := hdrhistogram.Decode([]byte(enc))
	if err != nil || uint64(h.TotalCount()) != s.Success {
		return // a histogram that does not hold exactly the successes
	}
	FillAllRequests(s, h)
}

// quantilesJSON is Quantiles as written: a Failed quantile is a string.
type quantilesJSON struct {
	Min   Seconds `json:"min"`
	Mean  Seconds `json:"mean"`
	P50   Seconds `json:"p50"`
	P90   Seconds `json:"p90"`
	P99   Seconds `json:"p99"`
	P999  Seconds `json:"p99_9"`
	P9999 Seconds `json:"p99_99"`
	Max   Seconds `json:"max"`
}

// MarshalJSON writes q, a Failed quantile as "failed".
func (q Quantiles) MarshalJSON() ([]byte, error) {
	return json.Marshal(quantilesJSON{Seconds(q.Min), Seconds(q.Mean), Seconds(q.P50), Seconds(q.P90),
		Seconds(q.P99), Seconds(q.P999), Seconds(q.P9999), Seconds(q.Max)})
}

// UnmarshalJSON reads q, "failed" as Failed.
func (q *Quantiles) UnmarshalJSON(b []byte) error {
	var j quantilesJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*q = Quantiles{float64(j.Min), float64(j.Mean), float64(j.P50), float64(j.P90),
		float64(j.P99), float64(j.P999), float64(j.P9999), float64(j.Max)}
	return nil
}

// Seconds is a latency in seconds that may be Failed: in JSON a number,
// or "failed" for Failed (−Inf, which a difference can give, as
// "-failed"; NaN as null).
type Seconds float64

// MarshalJSON writes v, Failed as "failed".
func (v Seconds) MarshalJSON() ([]byte, error) {
	f := float64(v)
	switch {
	case math.IsInf(f, 1):
		return []byte(`"` + failedJSON + `"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-` + failedJSON + `"`), nil
	case math.IsNaN(f):
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

// UnmarshalJSON reads v as MarshalJSON writes it.
func (v *Seconds) UnmarshalJSON(b []byte) error {
	switch s := string(b); s {
	case "null":
		return nil
	case `"` + failedJSON + `"`:
		*v = Seconds(math.Inf(1))
		return nil
	case `"-` + failedJSON + `"`:
		*v = Seconds(math.Inf(-1))
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("latency %s: want seconds or %q", b, failedJSON)
	}
	*v = Seconds(f)
	return nil
}

// FormatLatency is FormatSeconds, with Failed as "failed".
func FormatLatency(s float64) string {
	switch {
	case IsFailed(s):
		return failedJSON
	case math.IsInf(s, -1):
		return "-" + failedJSON
	}
	return FormatSeconds(s)
}

// The records below may hold a Failed latency: JSON writes it as
// "failed" (Seconds) in place of the number.

// MarshalJSON writes m, a Failed base, new or delta as "failed".
func (m MetricDelta) MarshalJSON() ([]byte, error) {
	type plain MetricDelta
	return json.Marshal(struct {
		plain
		Base  Seconds `json:"base"`
		New   Seconds `json:"new"`
		Delta Seconds `json:"delta"`
	}{plain(m), Seconds(m.Base), Seconds(m.New), Seconds(m.Delta)})
}

// UnmarshalJSON reads m as MarshalJSON writes it.
func (m *MetricDelta) UnmarshalJSON(b []byte) error {
	type plain MetricDelta
	var v struct {
		plain
		Base  Seconds `json:"base"`
		New   Seconds `json:"new"`
		Delta Seconds `json:"delta"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*m = MetricDelta(v.plain)
	m.Base, m.New, m.Delta = float64(v.Base), float64(v.New), float64(v.Delta)
	return nil
}

// MarshalJSON writes e, a Failed median or bound as "failed".
func (e Estimate) MarshalJSON() ([]byte, error) {
	type plain Estimate
	return json.Marshal(struct {
		plain
		Median Seconds  `json:"median"`
		Min    Seconds  `json:"min"`
		Max    Seconds  `json:"max"`
		Lo     *Seconds `json:"lo,omitempty"`
		Hi     *Seconds `json:"hi,omitempty"`
	}{plain(e), Seconds(e.Median), Seconds(e.Min), Seconds(e.Max), (*Seconds)(e.Lo), (*Seconds)(e.Hi)})
}

// UnmarshalJSON reads e as MarshalJSON writes it.
func (e *Estimate) UnmarshalJSON(b []byte) error {
	type plain Estimate
	var v struct {
		plain
		Median Seconds  `json:"median"`
		Min    Seconds  `json:"min"`
		Max    Seconds  `json:"max"`
		Lo     *Seconds `json:"lo,omitempty"`
		Hi     *Seconds `json:"hi,omitempty"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*e = Estimate(v.plain)
	e.Median, e.Min, e.Max, e.Lo, e.Hi = float64(v.Median), float64(v.Min), float64(v.Max), (*float64)(v.Lo), (*float64)(v.Hi)
	return nil
}
