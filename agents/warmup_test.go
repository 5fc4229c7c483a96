package agents

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/duckbench/duckbench/spec"
)

// TestRunWarmsUpBeforeTheStart: with load.warmup each agent sends its
// share of the starting rate for the warm-up, ending WarmupGap before the
// common start, and reports only the measured schedule. Expected counts
// come from the plan (rate × time) and the server's own arrival clock.
func TestRunWarmsUpBeforeTheStart(t *testing.T) {
	var mu sync.Mutex
	var arrivals []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		now := time.Now()
		mu.Lock()
		arrivals = append(arrivals, now)
		mu.Unlock()
	}))
	defer srv.Close()
	const rate, warmup = 100, 600 * time.Millisecond
	p := Plan{Workload: spec.Workload{Rate: rate, Warmup: spec.Duration(warmup)}, Target: srv.URL, Agents: 2,
		Start: time.Now().Add(300*time.Millisecond + warmup).Truncate(time.Millisecond), Duration: 500 * time.Millisecond}
	var wg sync.WaitGroup
	var reported [2]uint64
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Run(context.Background(), p, i+1, nil)
			if err != nil {
				t.Errorf("Run(agent %d) = %v", i+1, err)
				return
			}
			reported[i] = s.Report.Summary.Requests
		}()
	}
	wg.Wait()
	var before, after int
	for _, a := range arrivals {
		if a.Before(p.Start) {
			before++
		} else {
			after++
		}
	}
	// Warm-up: 2 agents × 50 req/s × 0.6 s = 60; vegeta also sends a hit
	// at the warm-up's last instant, so 60 to 62.
	if want := int(rate * warmup.Seconds()); before < want-2 || before > want+2 {
		t.Errorf("%d requests arrived before the common start; want %d to %d (rate × warmup, ± 2 for the pacer's ends)", before, want-2, want+2)
	}
	const measured = rate / 2 // rate × 0.5 s
	if reported[0]+reported[1] != measured || after != measured {
		t.Errorf("agents reported %d requests, the server saw %d from the start; want %d each (the measured schedule only)", reported[0]+reported[1], after, measured)
	}
}

func TestWarmupBefore(t *testing.T) {
	start := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		warmup time.Duration
		now    time.Time
		want   time.Duration
	}{
		{"on time: all of it", 5 * time.Second, start.Add(-20 * time.Second), 5 * time.Second},
		{"late: what is left", 5 * time.Second, start.Add(-2 * time.Second), 2*time.Second - WarmupGap},
		{"too late: none", 5 * time.Second, start.Add(-WarmupGap), 0},
		{"after the start: none", 5 * time.Second, start.Add(time.Second), 0},
		{"no warm-up", 0, start.Add(-20 * time.Second), 0},
	} {
		if got := warmupBefore(start, tc.warmup, tc.now); got != tc.want {
			t.Errorf("%s: warmupBefore(start, %v, start%+v) = %v; want %v", tc.name, tc.warmup, tc.now.Sub(start), got, tc.want)
		}
	}
}
