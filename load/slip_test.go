package load

import (
	"math"
	"slices"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/duckbench/duckbench/spec"
)

// monitor is a consumer with a scheduler whose state a test sets by hand.
func monitor(t *testing.T, w spec.Workload) *consumer {
	t.Helper()
	a, err := New(w, "http://127.0.0.1:6301")
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now().Add(-5 * time.Second)
	c := newConsumer(a, began)
	c.sch = newScheduler(a, began)
	return c
}

// TestWhy: the cause of a slip comes from the requests still in flight,
// never from the ones completed in the last tick (before a stall those are
// the quick ones).
func TestWhy(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name      string
		maxW      int             // load.max_workers (0: sized)
		workers   int             // busy workers (0: hard cap)
		ages      []time.Duration // of the requests in flight
		blocked   time.Duration   // how long the current wait for a worker has lasted (0: none)
		lastReply time.Duration   // age of the last response
		want      string
	}{
		{"workers free: the generator's CPU", 0, 10, []time.Duration{3 * ms}, 0, ms, causeCPU},
		{"a configured cap, the server as usual", 16, 16, []time.Duration{20 * ms, 10 * ms, ms}, 5 * ms, ms, causeCap},
		{"quick replies, then one request in flight 0.7 s: the server stalled", 16, 16,
			[]time.Duration{700 * ms, 690 * ms, 680 * ms}, 600 * ms, 1 * ms, causeSUT},
		{"every worker of the machine's hard cap busy, however quick", 0, 0, []time.Duration{20 * ms}, 5 * ms, ms, causeSUT},
		{"nothing answered since the wait began", 16, 16, nil, 300 * ms, 400 * ms, causeSUT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := monitor(t, spec.Workload{Rate: 1000, Duration: spec.Duration(10 * time.Second), MaxWorkers: tt.maxW})
			for range 16 {
				c.stalls.addBaseline(5 * ms) // threshold: max(100 ms, 10 × 5 ms)
			}
			now := time.Now()
			n := uint64(tt.workers)
			if n == 0 {
				n = c.a.hardCap
			}
			for i := range n {
				c.sch.ws[i] = &workerState{}
			}
			c.sch.workers.Store(n)
			for i, age := range tt.ages {
				c.sch.ws[i].inFlight.Store(now.Add(-age).UnixNano())
			}
			if tt.blocked > 0 {
				c.sch.blockedSince.Store(now.Add(-tt.blocked).UnixNano())
			}
			c.lastEnd = now.Add(-tt.lastReply)
			if got := c.why(now, time.Second, c.sch.takeWorstAge(now)); got != tt.want {
				t.Errorf("why = %q; want %q (stall threshold %v)", got, tt.want, c.stalls.threshold())
			}
		})
	}
}

// freezeStream is the results of a constant-rate attack with unlimited
// workers against a server with a fixed service time that holds every
// request arriving in a freeze until the freeze ends, in the order their
// responses end; the burst at a thaw ends all at once, and comes
// latest-sent first when lastFirst.
func freezeStream(began time.Time, rate float64, d, service time.Duration, freezes [][2]time.Duration, lastFirst bool) []*result {
	var out []*result
	for i := 0; float64(i) < rate*d.Seconds(); i++ {
		due := time.Duration(float64(i) / rate * 1e9)
		end := due + service
		for _, f := range freezes {
			if due >= f[0] && due < f[1] {
				end = f[1] + service
			}
		}
		r := &result{Result: vegeta.Result{Seq: uint64(i), Code: 200, Timestamp: began.Add(due), Latency: end - due},
			sent: began.Add(due), service: end - due}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b *result) int {
		if c := a.sent.Add(a.service).Compare(b.sent.Add(b.service)); c != 0 || !lastFirst {
			return c
		}
		return b.sent.Compare(a.sent)
	})
	return out
}

// TestStallsOnARobustBaseline: a 2 s freeze, then a 1 s one. The first
// freeze's victims must not raise the threshold past the second (with the
// cumulative mean at 50 req/s it was 1.62 s), and the same freezes give
// the same stalls at 50 and at 800 req/s, whichever answer of the burst
// at the thaw comes first (the last one sent in the freeze waited only a
// moment: the stall is seen through the earlier ones).
func TestStallsOnARobustBaseline(t *testing.T) {
	const service = 5 * time.Millisecond
	freezes := [][2]time.Duration{{2 * time.Second, 4 * time.Second}, {6 * time.Second, 7 * time.Second}}
	for _, c := range []struct {
		rate      float64
		lastFirst bool
	}{{50, false}, {800, false}, {50, true}, {800, true}} {
		rate := c.rate
		began := time.Now()
		f := &stallFinder{began: began, paced: true}
		for _, r := range freezeStream(began, rate, 9*time.Second, service, freezes, c.lastFirst) {
			f.add(r, true)
		}
		got := f.result()
		if len(got) != len(freezes) {
			t.Fatalf("%g req/s: stalls %+v; want %d (the freezes)", rate, got, len(freezes))
		}
		for i, fz := range freezes {
			// A stall runs from the last answer before the freeze to the
			// first after it: the freeze ± one request interval, + service.
			slack := 1/rate + 2*service.Seconds()
			wantStart, wantDur := fz[0].Seconds(), (fz[1] - fz[0]).Seconds()
			if math.Abs(got[i].StartSeconds-wantStart) > slack || math.Abs(got[i].DurationSeconds-wantDur) > slack {
				t.Errorf("%g req/s: stall %d = %+v; want start %gs, duration %gs (± %.3fs)", rate, i, got[i], wantStart, wantDur, slack)
			}
			// Every hit due in the freeze waited through it (and those due
			// in the service time after it).
			if want := rate * wantDur; math.Abs(float64(got[i].Requests)-want) > rate*service.Seconds()+2 {
				t.Errorf("%g req/s (latest first %v): stall %d: %d requests; want %.0f", rate, c.lastFirst, i, got[i].Requests, want)
			}
		}
		if th := f.threshold(); th != StallMin {
			t.Errorf("%g req/s: threshold after the freezes = %v; want %v (10 × 5 ms is below it)", rate, th, StallMin)
		}
	}
}

// TestThroughputOverTheSchedule: a perfect 5 s run at 100 req/s with one
// response 3 s late has a throughput of 100 req/s (it read 63.2 when the
// window ran to the last response) and a drain of 3 s; a hit never sent
// ends no window.
func TestThroughputOverTheSchedule(t *testing.T) {
	const service = 5 * time.Millisecond
	for _, tt := range []struct {
		name      string
		lastLate  time.Duration // the last hit's extra latency
		lastSent  bool
		wantTput  float64
		wantDrain float64
	}{
		{"one response 3 s late", 3 * time.Second, true, 100, 3.0 - 0.01 + service.Seconds()},
		{"one hit never sent, cut off 5 s after its due time", 5 * time.Second, false, 99.8, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := monitor(t, spec.Workload{Rate: 100, Duration: spec.Duration(5 * time.Second)})
			for i := range 500 {
				due := c.began.Add(time.Duration(i) * 10 * time.Millisecond)
				r := &result{Result: vegeta.Result{Seq: uint64(i), Code: 200, Timestamp: due, Latency: service}, sent: due, service: service}
				if i == 499 {
					r.Latency += tt.lastLate
					r.service = r.Latency
					if !tt.lastSent {
						r.Code, r.Error, r.unsent, r.sent, r.service = 0, ErrNotSent, true, time.Time{}, 0
					}
				}
				c.add(r)
			}
			s := c.report(c.began.Add(9 * time.Second)).Summary
			if math.Abs(s.Throughput-tt.wantTput) > 0.01*tt.wantTput || s.DurationSeconds != 5 {
				t.Errorf("Throughput = %.2f over %gs; want %.1f over the scheduled 5s", s.Throughput, s.DurationSeconds, tt.wantTput)
			}
			if math.Abs(s.DrainSeconds-tt.wantDrain) > 1e-6 {
				t.Errorf("DrainSeconds = %.4f; want %.4f", s.DrainSeconds, tt.wantDrain)
			}
		})
	}
}
