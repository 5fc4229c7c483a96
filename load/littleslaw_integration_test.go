//go:build integration

package load

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/groundtruth"
	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

// TestGroundTruthSlowServerNoLimit: a backend that holds every request
// 300 ms, with no concurrency limit in it or in HAProxy, at 400 req/s. By
// Little's law it needs 400 × 0.3 = 120 requests in flight, more than the
// initial worker cap (64: it once read 64 / 0.3 s = 213 req/s and "the
// system under test could not keep up", p99 2.9 s). The generator must
// grow to what the server needs: p99 ≤ 0.35 s (the bound: the
// backend's own hold plus the path), neither SUT-bound nor generator-capped.
// A busy machine's path alone can pass 0.35 s at the tail: an independent
// client (hey, paced to the same rate) runs side by side, and the bound is
// the higher of 0.35 s and its p99 plus the gap measured between the two
// on this machine (see heyMargin).
func TestGroundTruthSlowServerNoLimit(t *testing.T) {
	const (
		service = 300 * time.Millisecond
		rate    = 400.0
	)
	be := groundtruth.StartBackend(t, service)
	hp := groundtruth.StartHAProxy(t, be.Addr, 0)
	hey := testenv.RequireBinary(t, "hey", "hey")
	heyP99 := make(chan float64, 1)
	go func() { heyP99 <- heyTail(t, hey, hp.URL, rate, 4*time.Second) }()
	rep := attack(t, hp.URL, rate, 4*time.Second)
	hold := be.MedianHold()
	s := rep.Summary
	need := rate * hold.Seconds()
	ref := <-heyP99
	bound := math.Max(0.35, ref+heyMargin)
	t.Logf("GROUNDTRUTH slow server: backend held %v (median); Little's law %.0f in flight; workers used %d (max %d); p50 %s p99 %s service p99 %s; hey p99 %s side by side; bound %s; SUT-bound %v, saturated %v %q",
		hold, need, rep.Plan.WorkersUsed, rep.Plan.MaxWorkers, results.FormatSeconds(s.Latency.P50), results.FormatSeconds(s.Latency.P99),
		results.FormatSeconds(s.ServiceTime.P99), results.FormatSeconds(ref), results.FormatSeconds(bound), rep.SUTBound, rep.Saturated, rep.SaturationCause)
	if hold > service*11/10 {
		t.Fatalf("the backend held %v for %v: the machine is too starved for this ground truth to mean anything", hold, service)
	}
	if s.Success != uint64(rate*4) {
		t.Errorf("successes %d; want all %d scheduled", s.Success, int(rate*4))
	}
	if s.Latency.P99 > bound {
		t.Errorf("p99 = %s; want ≤ %s (0.35 s, or hey's p99 %s + %s side by side; the backend held %v)",
			results.FormatSeconds(s.Latency.P99), results.FormatSeconds(bound), results.FormatSeconds(ref), results.FormatSeconds(heyMargin), hold)
	}
	// A generator short of CPU (a starved machine) is "unknown", never the
	// server's fault nor the worker cap's.
	if rep.SUTBound || rep.SaturationCause == SaturationCap {
		t.Errorf("SUT-bound %v, saturated %v (%q); want neither (events %+v)", rep.SUTBound, rep.Saturated, rep.SaturationCause, rep.Events)
	}
	if used := float64(rep.Plan.WorkersUsed); used < need {
		t.Errorf("workers used %.0f; want at least %.0f (Little's law)", used, need)
	}
}

// freezeRate is the rate of TestGroundTruthTwoFreezes: 800 req/s as the
// issue asks, DUCKBENCH_FREEZE_RATE to measure a machine's limit.
func freezeRate(t *testing.T) float64 {
	if v := os.Getenv("DUCKBENCH_FREEZE_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("DUCKBENCH_FREEZE_RATE: %v", err)
		}
		return r
	}
	return 800
}

// checkStalls wants one recorded stall per backend freeze (its own log):
// start within 0.1 s, duration within 10 % (the first answer after the
// thaw ends it; on a busy machine the backlog takes a moment).
func checkStalls(t *testing.T, rep *Report, fz []groundtruth.Span) {
	t.Helper()
	var long []results.Stall
	for _, st := range rep.Stalls {
		if st.DurationSeconds > 0.3 {
			long = append(long, st)
		}
	}
	if len(long) != len(fz) {
		t.Fatalf("stalls %+v; want %d, one per freeze %v", rep.Stalls, len(fz), fz)
	}
	for i, f := range fz {
		f0, d := f.From.Sub(rep.StartedAt).Seconds(), f.To.Sub(f.From).Seconds()
		t.Logf("GROUNDTRUTH freeze %d: backend froze at %.3fs for %.3fs; stall recorded at %.3fs for %.3fs, %d requests",
			i+1, f0, d, long[i].StartSeconds, long[i].DurationSeconds, long[i].Requests)
		if !within(long[i].StartSeconds, f0, 0.1) || !within(long[i].DurationSeconds, d, 0.1*d) {
			t.Errorf("stall %d %+v; want start %.3fs ± 0.1s, duration %.3fs ± 10%%", i+1, long[i], f0, d)
		}
	}
}

// TestGroundTruthTwoFreezes: two 0.7 s freezes of a 5 ms backend at
// 800 req/s. Both are stalls of the server; a slip in them is the server's
// (the requests in flight are up to 0.7 s old), so the run is never
// generator-saturated and no event blames the generator's cap. (It once
// read "generator_saturated: raise load.max_workers": the cause was taken
// from the quick responses completed before each freeze.)
func TestGroundTruthTwoFreezes(t *testing.T) {
	const (
		service = 5 * time.Millisecond
		freeze  = 700 * time.Millisecond
	)
	rate := freezeRate(t)
	be := groundtruth.StartBackend(t, service)
	hp := groundtruth.StartHAProxy(t, be.Addr, 0)
	start := time.Now().Add(200 * time.Millisecond)
	for _, at := range []time.Duration{1500 * time.Millisecond, 3500 * time.Millisecond} {
		time.AfterFunc(time.Until(start.Add(at)), be.Freeze)
		time.AfterFunc(time.Until(start.Add(at+freeze)), be.Thaw)
	}
	rep := attack(t, hp.URL, rate, 5*time.Second, WithStartAt(start))
	s := rep.Summary
	t.Logf("GROUNDTRUTH two freezes at %g req/s: requests %d, successes %d, workers used %d, max lag %.3fs, saturated %v %q, SUT-bound %v, events %+v",
		rate, s.Requests, s.Success, rep.Plan.WorkersUsed, rep.MaxScheduleLagSeconds, rep.Saturated, rep.SaturationCause, rep.SUTBound, rep.Events)
	checkStalls(t, rep, be.Freezes())
	if rep.Saturated {
		t.Errorf("generator saturated (%q); want not: the slips were the server's", rep.SaturationCause)
	}
	for _, e := range rep.Events {
		if e.Kind == "saturation" && e.Action == "start" {
			t.Errorf("event %+v; want no slip blamed on the generator", e)
		}
	}
}

// TestGroundTruthLaterShorterFreeze: a 2 s freeze, then a 1 s one, at
// 50 req/s. The first freeze's victims must not raise the stall threshold
// past the second (with the cumulative mean it was 1.62 s): both are
// recorded.
func TestGroundTruthLaterShorterFreeze(t *testing.T) {
	const service = 5 * time.Millisecond
	be := groundtruth.StartBackend(t, service)
	hp := groundtruth.StartHAProxy(t, be.Addr, 0)
	start := time.Now().Add(200 * time.Millisecond)
	for _, f := range [][2]time.Duration{{time.Second, 2 * time.Second}, {4500 * time.Millisecond, time.Second}} {
		time.AfterFunc(time.Until(start.Add(f[0])), be.Freeze)
		time.AfterFunc(time.Until(start.Add(f[0]+f[1])), be.Thaw)
	}
	rep := attack(t, hp.URL, 50, 7*time.Second, WithStartAt(start))
	checkStalls(t, rep, be.Freezes())
}

// TestGroundTruthLateResponseDrain: a 5 s run at 100 req/s against a 5 ms
// backend that holds the last request 3 s longer. The throughput is the
// schedule's (500 successes / 5 s, within 1 %; it once read 63.2 req/s,
// "achieved 63 %"), and the drain is when the backend let the late request
// go (its own log) after the schedule's end (pinned by the test with
// WithStartAt), plus the service time and the way back (≤ 50 ms).
func TestGroundTruthLateResponseDrain(t *testing.T) {
	const (
		service = 5 * time.Millisecond
		rate    = 100.0
		dur     = 5 * time.Second
	)
	be := groundtruth.StartBackend(t, service)
	hp := groundtruth.StartHAProxy(t, be.Addr, 0)
	start := time.Now().Add(300 * time.Millisecond)
	// The last hit is due at 4.99 s: arm the delay 5 ms before it.
	time.AfterFunc(time.Until(start.Add(dur-15*time.Millisecond)), func() { be.DelayNext(3 * time.Second) })
	a, err := New(spec.Workload{Rate: rate, Duration: spec.Duration(dur)}, hp.URL, WithStartAt(start))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	lates := be.LateHolds()
	if len(lates) != 1 {
		t.Fatalf("late holds %v; want one", lates)
	}
	wantDrain := lates[0].To.Sub(start.Add(dur)).Seconds() + service.Seconds()
	s := rep.Summary
	t.Logf("GROUNDTRUTH late response: expected throughput %.1f req/s ±1%%, drain %.3fs (+ ≤ 50ms); measured %.2f req/s over %gs, drain %.3fs",
		rate, wantDrain, s.Throughput, s.DurationSeconds, s.DrainSeconds)
	if s.Success != uint64(rate*dur.Seconds()) || !within(s.Throughput, rate, 0.01*rate) {
		t.Errorf("successes %d, throughput %.2f; want %d and %.0f ± 1%%", s.Success, s.Throughput, int(rate*dur.Seconds()), rate)
	}
	if s.DrainSeconds < wantDrain-0.002 || s.DrainSeconds > wantDrain+0.05 {
		t.Errorf("drain %.3fs; want %.3fs (+ ≤ 50ms)", s.DrainSeconds, wantDrain)
	}
}

// heyMargin is how far duckbench's intended-time p99 may lie above the p99
// of hey running side by side at the same rate: on the 2-core dev machine
// at load 8-12, duckbench − hey ranged from −49 ms to +5 ms in 12 runs
// (2026-12-05); with the worker cap of 64 it was about +2.5 s.
const heyMargin = 0.05

// heyTail runs hey (an independent client, the binary bin) against url at about rate for
// d, with as many workers as 2 × rate × 0.3 s so that its own pacing keeps
// up with a 300 ms server, and returns the p99 of its response times.
func heyTail(t *testing.T, bin, url string, rate float64, d time.Duration) float64 {
	workers := int(math.Ceil(2 * rate * 0.3))
	out, err := exec.Command(bin, "-z", d.String(), "-c", strconv.Itoa(workers),
		"-q", strconv.FormatFloat(rate/float64(workers), 'f', 3, 64), "-o", "csv", url+"/kv/k1").Output()
	if err != nil {
		t.Errorf("hey: %v", err)
		return math.Inf(1)
	}
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Errorf("hey csv: %v (%d rows)", err, len(rows))
		return math.Inf(1)
	}
	var lat []float64
	for _, r := range rows[1:] {
		if v, err := strconv.ParseFloat(r[0], 64); err == nil {
			lat = append(lat, v)
		}
	}
	sort.Float64s(lat)
	return lat[int(math.Ceil(0.99*float64(len(lat))))-1]
}
