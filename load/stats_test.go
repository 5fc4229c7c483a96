package load

import (
	"math"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/duckbench/duckbench/spec"
)

func TestQuantilesKnownSamples(t *testing.T) {
	h := NewHistogram()
	for us := int64(1); us <= 100000; us++ { // 1µs … 100ms, uniform
		if err := h.RecordValue(us); err != nil {
			t.Fatal(err)
		}
	}
	q := Quantiles(h)
	within := func(name string, got, want float64) {
		if math.Abs(got-want)/want > 0.001 { // 3 significant digits
			t.Errorf("%s = %v; want %v (±0.1%%)", name, got, want)
		}
	}
	within("min", q.Min, 1e-6)
	within("p50", q.P50, 0.050)
	within("p90", q.P90, 0.090)
	within("p99", q.P99, 0.099)
	within("p99.9", q.P999, 0.0999)
	within("p99.99", q.P9999, 0.09999)
	within("max", q.Max, 0.100)
	within("mean", q.Mean, 0.0500005)

	enc, err := EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	back, err := hdrhistogram.Decode([]byte(enc))
	if err != nil {
		t.Fatalf("Decode(EncodeHistogram) = %v", err)
	}
	if !back.Equals(h) {
		t.Error("decoded histogram differs from the original")
	}
}

func TestMicrosCountsOverRange(t *testing.T) {
	if got, over := micros(0); got != 1 || over {
		t.Errorf("micros(0) = %d, %v; want 1, false", got, over)
	}
	if got, over := micros(2 * time.Minute); got != 120_000_000 || over {
		t.Errorf("micros(2m) = %d, %v; want 120000000, false", got, over)
	}
	if got, over := micros(2 * time.Hour); got != HistMax || !over {
		t.Errorf("micros(2h) = %d, %v; want %d, true", got, over, HistMax)
	}
	s := newStats()
	s.add(&result{Result: vegeta.Result{Code: 200, Latency: 2 * time.Hour}}, true)
	s.add(&result{Result: vegeta.Result{Code: 200, Latency: time.Millisecond}}, true)
	if sum := s.summary(0, time.Second, "intended"); sum.OverRange != 1 || math.Abs(sum.Latency.Max-float64(HistMax)/1e6) > 0.001*float64(HistMax)/1e6 {
		t.Errorf("summary: OverRange %d, max %v; want 1 and the range's top", sum.OverRange, sum.Latency.Max)
	}
}

func TestNewRejectsTimeoutPastRange(t *testing.T) {
	_, err := New(spec.Workload{Rate: 10, Timeout: spec.Duration(2 * time.Hour)}, "http://127.0.0.1:1")
	if err == nil || !strings.Contains(err.Error(), "load.timeout") {
		t.Errorf("New(timeout 2h) = %v; want a load.timeout error", err)
	}
}

func TestErrorKind(t *testing.T) {
	r := &vegeta.Result{Method: "GET", Error: `Get "http://127.0.0.1:9/kv/k1": dial tcp 127.0.0.1:9: connect: connection refused`}
	if got, want := errorKind(r), "dial tcp 127.0.0.1:9: connect: connection refused"; got != want {
		t.Errorf("errorKind = %q; want %q", got, want)
	}
}

// BenchmarkRecord measures the consumer's hot path: one result into the
// totals, the timeline, the app share and per-target stats.
func BenchmarkRecord(b *testing.B) {
	w := mix()
	w.Rate = 1000
	a, err := New(w, "http://127.0.0.1:6301")
	if err != nil {
		b.Fatal(err)
	}
	c := newConsumer(a, time.Now())
	names := []string{"app1", "app2"}
	r := &result{Result: vegeta.Result{Code: 200, Method: "GET", URL: "http://127.0.0.1:6301/kv/k17"}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r.Seq = uint64(i)
		r.Timestamp = c.began.Add(time.Duration(i%8000) * time.Millisecond)
		r.Latency = time.Duration(200+i%5000) * time.Microsecond
		r.sent, r.service = r.Timestamp, r.Latency
		r.servedBy = names[i&1]
		c.add(r)
		i++
	}
}

func BenchmarkRecordMetrics(b *testing.B) {
	a, err := New(spec.Workload{Rate: 1000}, "http://127.0.0.1:6301", WithMetrics(NewMetrics()))
	if err != nil {
		b.Fatal(err)
	}
	c := newConsumer(a, time.Now())
	r := &result{Result: vegeta.Result{Code: 200, Method: "GET", URL: "http://127.0.0.1:6301/kv/k17"}, servedBy: "app1"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r.Seq = uint64(i)
		r.Timestamp = c.began.Add(time.Duration(i%8000) * time.Millisecond)
		r.Latency = time.Duration(200+i%5000) * time.Microsecond
		r.sent, r.service = r.Timestamp, r.Latency
		c.add(r)
		i++
	}
}
