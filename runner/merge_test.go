package runner

import (
	"testing"
	"time"

	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
)

// serverReport is a report of n requests, split over servers as given.
func serverReport(t *testing.T, split map[string]uint64, lat time.Duration) *load.Report {
	t.Helper()
	rep := &load.Report{StartedAt: time.Unix(0, 0)}
	for _, name := range []string{"app1", "app2", results.Unattributed} {
		n := split[name]
		if n == 0 {
			continue
		}
		h := load.NewHistogram()
		if err := h.RecordValues(lat.Microseconds(), int64(n)); err != nil {
			t.Fatal(err)
		}
		enc, _ := load.EncodeHistogram(h)
		rep.Servers = append(rep.Servers, results.ServerLatency{Server: name, Histogram: enc,
			Summary: results.Summary{Requests: n, Success: n, DurationSeconds: 1, StatusCodes: map[string]uint64{"200": n}}})
		rep.Summary.Requests += n
		rep.Summary.Success += n
	}
	rep.Summary.DurationSeconds = 1
	rep.Histogram = rep.Servers[0].Histogram
	return rep
}

func TestMergeKeepsServersSummingToTotal(t *testing.T) {
	reps := []*load.Report{
		serverReport(t, map[string]uint64{"app1": 60, "app2": 40}, time.Millisecond),
		serverReport(t, map[string]uint64{"app1": 30, "app2": 20, results.Unattributed: 5}, 4*time.Millisecond),
	}
	var r results.Result
	merge(&r, reps, time.Unix(0, 0))
	var sum uint64
	for _, s := range r.Servers {
		sum += s.Summary.Requests
	}
	if sum != r.Summary.Requests || sum != 155 {
		t.Errorf("merged servers sum to %d; want Summary.Requests %d = 155", sum, r.Summary.Requests)
	}
	if len(r.Servers) != 3 || r.Servers[0].Server != "app1" || r.Servers[0].Summary.Requests != 90 {
		t.Fatalf("Servers = %+v; want app1 (90), app2, unattributed", r.Servers)
	}
	// app1: 60 at 1 ms, 30 at 4 ms: p50 1 ms, p90 4 ms off the merged histogram.
	if q := r.Servers[0].Summary.Latency; q.P50 > 0.00101 || q.P90 < 0.00399 || q.P90 > 0.00401 {
		t.Errorf("merged app1 latency = %+v; want p50 1 ms, p90 4 ms", q)
	}
}
