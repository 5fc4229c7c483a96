package remotewrite

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/prompb"
)

// receiver is a fake remote-write endpoint that decodes what it gets.
type receiver struct {
	mu   sync.Mutex
	reqs []prompb.WriteRequest
	fail int // answer 503 to this many requests first
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.fail > 0 {
		rc.fail--
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	if r.Header.Get("Content-Encoding") != "snappy" {
		http.Error(w, "not snappy", http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(r.Body)
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var wr prompb.WriteRequest
	if err := wr.Unmarshal(raw); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.reqs = append(rc.reqs, wr)
	w.WriteHeader(http.StatusNoContent)
}

func testRegistry() (*prometheus.Registry, prometheus.Histogram) {
	reg := prometheus.NewRegistry()
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "duckbench_test_seconds", Help: "h",
		Buckets: []float64{0.01, 0.1}, NativeHistogramBucketFactor: 1.1})
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "duckbench_test_total", Help: "c"}, []string{"code"})
	other := prometheus.NewCounter(prometheus.CounterOpts{Name: "go_other_total", Help: "not ours"})
	reg.MustRegister(h, c, other)
	for _, v := range []float64{0.005, 0.05, 0.5} {
		h.Observe(v)
	}
	c.WithLabelValues("200").Add(3)
	return reg, h
}

func TestConvert(t *testing.T) {
	reg, _ := testRegistry()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	ts := Convert(mfs, DefaultPrefix, map[string]string{"run": "r1", "code": "ignored"}, time.UnixMilli(1000))
	// The counter's own code=200 wins over the extra label; the histogram has none.
	got := map[string]prompb.TimeSeries{}
	for _, s := range ts {
		got[labelsKey(s.Labels)] = s
		for _, l := range s.Labels {
			if l.Name == "__name__" && l.Value == "go_other_total" {
				t.Errorf("Convert kept %v; want only the %s families", s.Labels, DefaultPrefix)
			}
		}
	}
	want := []struct {
		labels []prompb.Label
		value  float64
	}{
		{[]prompb.Label{{Name: "__name__", Value: "duckbench_test_total"}, {Name: "code", Value: "200"}, {Name: "run", Value: "r1"}}, 3},
		{[]prompb.Label{{Name: "__name__", Value: "duckbench_test_seconds_bucket"}, {Name: "code", Value: "ignored"}, {Name: "le", Value: "0.01"}, {Name: "run", Value: "r1"}}, 1},
		{[]prompb.Label{{Name: "__name__", Value: "duckbench_test_seconds_bucket"}, {Name: "code", Value: "ignored"}, {Name: "le", Value: "0.1"}, {Name: "run", Value: "r1"}}, 2},
		{[]prompb.Label{{Name: "__name__", Value: "duckbench_test_seconds_bucket"}, {Name: "code", Value: "ignored"}, {Name: "le", Value: "+Inf"}, {Name: "run", Value: "r1"}}, 3},
		{[]prompb.Label{{Name: "__name__", Value: "duckbench_test_seconds_count"}, {Name: "code", Value: "ignored"}, {Name: "run", Value: "r1"}}, 3},
		{[]prompb.Label{{Name: "__name__", Value: "duckbench_test_seconds_sum"}, {Name: "code", Value: "ignored"}, {Name: "run", Value: "r1"}}, 0.555},
	}
	for _, w := range want {
		s, ok := got[labelsKey(w.labels)]
		if !ok {
			t.Errorf("Convert: no series %v", w.labels)
			continue
		}
		if len(s.Samples) != 1 || s.Samples[0].Value != w.value || s.Samples[0].Timestamp != 1000 {
			t.Errorf("Convert: %v = %v; want one sample %v at 1000", w.labels, s.Samples, w.value)
		}
	}
	nat, ok := got[labelsKey([]prompb.Label{{Name: "__name__", Value: "duckbench_test_seconds"}, {Name: "code", Value: "ignored"}, {Name: "run", Value: "r1"}})]
	if !ok || len(nat.Histograms) != 1 {
		t.Fatalf("Convert: no native histogram series (got %d series)", len(ts))
	}
	h := nat.Histograms[0]
	var n int64
	var buckets int64
	for _, d := range h.PositiveDeltas {
		n += d
		buckets += n
	}
	if h.GetCountInt() != 3 || buckets != 3 || h.Schema != 3 {
		t.Errorf("native histogram: count %d, bucket total %d, schema %d; want 3, 3, 3 (factor 1.1)", h.GetCountInt(), buckets, h.Schema)
	}
}

func TestWriterRetriesAndSends(t *testing.T) {
	rc := &receiver{fail: 2}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	reg, h := testRegistry()
	w := Start(context.Background(), reg, Options{URL: srv.URL, Interval: 20 * time.Millisecond, Labels: map[string]string{"run": "r1"}})
	time.Sleep(150 * time.Millisecond)
	h.Observe(0.2) // the final gathering at Close must carry it
	st := w.Close()
	if st.Retries < 2 || st.Sent == 0 || st.Dropped != 0 {
		t.Errorf("stats = %+v; want ≥ 2 retries, some sent, none dropped", st)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.reqs) != st.Sent {
		t.Errorf("receiver got %d requests; Writer says it sent %d", len(rc.reqs), st.Sent)
	}
	last := rc.reqs[len(rc.reqs)-1]
	for _, s := range last.Timeseries {
		if len(s.Histograms) == 1 && s.Histograms[0].GetCountInt() != 4 {
			t.Errorf("last request's native count = %d; want 4 (the final gathering)", s.Histograms[0].GetCountInt())
		}
	}
}

func TestWriterReceiverDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/api/v1/write"
	ln.Close() // nothing listens: every attempt is refused
	reg, _ := testRegistry()
	w := Start(context.Background(), reg, Options{URL: url, Interval: 5 * time.Millisecond, Queue: 3, FlushTimeout: 100 * time.Millisecond})
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	st := w.Close()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v with the receiver down; want ≤ the flush timeout plus a request", d)
	}
	if st.Sent != 0 || st.Dropped < 3 || st.LastError == "" {
		t.Errorf("stats = %+v; want nothing sent, the overflow and the queue (≥ 3) dropped, an error", st)
	}
}

func TestWriterRejected(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "out of order sample", http.StatusBadRequest)
	}))
	defer srv.Close()
	reg, _ := testRegistry()
	w := Start(context.Background(), reg, Options{URL: srv.URL, Interval: time.Hour})
	st := w.Close()
	if st.Sent != 0 || st.Dropped != 2 || st.Retries != 0 {
		t.Errorf("stats = %+v; want the two gatherings (start, close) dropped without retry", st)
	}
}
