//go:build integration

package load

import (
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/groundtruth"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

// TestGroundTruthPerServer: the seed spec's haproxy.cfg, rendered as a run
// renders it, in front of two calibrated backends that hold every request
// for exactly 1 ms and 10 ms and name nobody (no X-Served-By of their
// own: only HAProxy's header attributes them). 100 req/s for 5 s. Every
// response must land with the server that gave it: per-server requests sum
// to the total, nothing unattributed, no response of the 10 ms server faster
// than 10 ms, the 1 ms server's p90 under 10 ms, and each server's p50 its
// real hold plus the path's floor (0-3 ms on a shared 2-core machine; 1.2-1.4 ms seen at load 4); the
// difference of the two p50s, where the floor cancels, within 1 ms of the
// difference of the real holds.
func TestGroundTruthPerServer(t *testing.T) {
	const fast, slow = time.Millisecond, 10 * time.Millisecond
	backends := []*groundtruth.Backend{groundtruth.StartBackend(t, fast), groundtruth.StartBackend(t, slow)}

	s, err := spec.Load("../examples/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	hp, _, cfg := groundtruth.StartRenderedHAProxy(t, s, backends[0].Addr, backends[1].Addr)
	if !strings.Contains(string(cfg), "http-response set-header X-Served-By %s") {
		t.Fatalf("rendered haproxy.cfg lacks the X-Served-By line:\n%s", cfg)
	}
	attack(t, hp.URL, 50, time.Second) // warm the connections
	for _, be := range backends {
		be.MedianHold() // reset
	}

	rep := attack(t, hp.URL, 100, 5*time.Second)
	holds := []float64{backends[0].MedianHold().Seconds(), backends[1].MedianHold().Seconds()}
	sum := rep.Summary
	if sum.Requests != 500 || sum.Errors != 0 {
		t.Fatalf("requests %d, errors %d; want 500 and 0", sum.Requests, sum.Errors)
	}
	by := map[string]results.ServerLatency{}
	var total uint64
	for _, sl := range rep.Servers {
		by[sl.Server] = sl
		total += sl.Summary.Requests
	}
	if total != sum.Requests || len(rep.Servers) != 2 {
		t.Fatalf("Servers = %d buckets with %d requests; want app1 and app2 summing to %d (none unattributed)", len(rep.Servers), total, sum.Requests)
	}
	a1, a2 := by["app1"].Summary, by["app2"].Summary
	if d := int64(a1.Requests) - int64(a2.Requests); d < -2 || d > 2 {
		t.Errorf("app1 %d, app2 %d requests; want an even round-robin split", a1.Requests, a2.Requests)
	}
	t.Logf("GROUNDTRUTH per-server (100 req/s, 5 s, roundrobin): app1 hold %.3fms → p50 %.3fms p99 %.3fms service p50 %.3fms (%d req); app2 hold %.3fms → p50 %.3fms p99 %.3fms service p50 %.3fms (%d req); total p50 %.3fms",
		holds[0]*1e3, a1.Latency.P50*1e3, a1.Latency.P99*1e3, a1.ServiceTime.P50*1e3, a1.Requests,
		holds[1]*1e3, a2.Latency.P50*1e3, a2.Latency.P99*1e3, a2.ServiceTime.P50*1e3, a2.Requests, sum.Latency.P50*1e3)
	// HdrHistogram at 3 significant digits reports a bucket's lowest value:
	// up to 8 µs under 10 ms.
	if a2.Latency.Min < slow.Seconds()-10e-6 {
		t.Errorf("app2 min = %.3fms; want ≥ 10ms (a faster response was attributed to the 10 ms server)", a2.Latency.Min*1e3)
	}
	if a1.Latency.P90 >= slow.Seconds() {
		t.Errorf("app1 p90 = %.3fms; want < 10ms (the 10 ms server's responses were attributed to the 1 ms server)", a1.Latency.P90*1e3)
	}
	for i, q := range []results.Summary{a1, a2} {
		for _, v := range []struct {
			name string
			p50  float64
		}{{"p50", q.Latency.P50}, {"service p50", q.ServiceTime.P50}} {
			if floor := v.p50 - holds[i]; floor < -10e-6 || floor > 0.003 {
				t.Errorf("app%d %s = %.3fms; want its real hold %.3fms + 0-3ms", i+1, v.name, v.p50*1e3, holds[i]*1e3)
			}
		}
	}
	if got, want := a2.Latency.P50-a1.Latency.P50, holds[1]-holds[0]; got < want-0.001 || got > want+0.001 {
		t.Errorf("p50(app2) − p50(app1) = %.3fms; want the holds' difference %.3fms ± 1ms", got*1e3, want*1e3)
	}
}
