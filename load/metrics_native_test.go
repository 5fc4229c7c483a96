package load

import (
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/duckbench/duckbench/spec"
)

// nativeQuantile is the q-quantile of a native histogram the way
// Prometheus' histogram_quantile reads it: the bucket holding the rank,
// interpolated linearly within it.
func nativeQuantile(h *dto.Histogram, q float64) float64 {
	base := math.Pow(2, math.Pow(2, -float64(h.GetSchema())))
	type bucket struct{ lo, hi, n float64 }
	var bs []bucket
	idx, count := int32(0), int64(0)
	di := 0
	for _, sp := range h.GetPositiveSpan() {
		idx += sp.GetOffset()
		for j := uint32(0); j < sp.GetLength(); j++ {
			count += h.GetPositiveDelta()[di]
			di++
			bs = append(bs, bucket{lo: math.Pow(base, float64(idx-1)), hi: math.Pow(base, float64(idx)), n: float64(count)})
			idx++
		}
	}
	rank := q * float64(h.GetSampleCount())
	var cum float64 = float64(h.GetZeroCount())
	for _, b := range bs {
		if cum+b.n >= rank {
			return b.lo + (b.hi-b.lo)*(rank-cum)/b.n
		}
		cum += b.n
	}
	return math.NaN()
}

// TestMetricsNativeAgreesWithReport: the exported native histogram's p99
// (read as Prometheus reads it) is within 5 % of the report's.
func TestMetricsNativeAgreesWithReport(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		d := time.Duration(rng.ExpFloat64() * 2e6) // mean 2ms, long tail
		mu.Unlock()
		time.Sleep(d)
	}))
	t.Cleanup(srv.Close)
	m := NewMetrics()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m)
	rep := run(t, spec.Workload{Rate: 500, Duration: spec.Duration(2 * time.Second)}, srv.URL, WithMetrics(m))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "duckbench_load_request_duration_seconds" {
			continue
		}
		h := mf.GetMetric()[0].GetHistogram()
		t.Logf("count %d zero %d schema %d sum %v; report %d", h.GetSampleCount(), h.GetZeroCount(), h.GetSchema(), h.GetSampleSum(), rep.Summary.Success)
		if h.GetSampleCount() != rep.Summary.Success {
			t.Errorf("histogram count %d; want the report's %d successes", h.GetSampleCount(), rep.Summary.Success)
		}
		for _, q := range []struct {
			q    float64
			want float64
		}{{0.5, rep.Summary.Latency.P50}, {0.9, rep.Summary.Latency.P90}, {0.99, rep.Summary.Latency.P99}} {
			got := nativeQuantile(h, q.q)
			if math.Abs(got-q.want)/q.want > 0.05 {
				t.Errorf("native p%g = %.4gms; want the report's %.4gms ±5%%", q.q*100, got*1e3, q.want*1e3)
			}
		}
		return
	}
	t.Fatal("no duckbench_load_request_duration_seconds")
}
