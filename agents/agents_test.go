package agents

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

// fakeShard is agent index's report over latencies (µs), all successes,
// over a window of dur from start.
func fakeShard(t *testing.T, index int, lat []int64, start time.Time, dur time.Duration) *Shard {
	t.Helper()
	h := load.NewHistogram()
	sec := hdrhistogram.New(load.HistMin, load.HistMax, 2)
	for _, v := range lat {
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
		_ = sec.RecordValue(v)
	}
	enc, _ := load.EncodeHistogram(h)
	secEnc, _ := load.EncodeHistogram(sec)
	n := uint64(len(lat))
	// Per server: even latencies from app1, odd ones from app2.
	var servers []results.ServerLatency
	for _, name := range []string{"app1", "app2"} {
		sh := load.NewHistogram()
		for _, v := range lat {
			if (v%2 == 0) == (name == "app1") {
				_ = sh.RecordValue(v)
			}
		}
		c := uint64(sh.TotalCount())
		e, _ := load.EncodeHistogram(sh)
		servers = append(servers, results.ServerLatency{Server: name, Histogram: e,
			Summary: results.Summary{Requests: c, Success: c, DurationSeconds: dur.Seconds(), StatusCodes: map[string]uint64{"200": c}}})
	}
	return &Shard{Index: index, Report: &load.Report{
		Summary: results.Summary{Requests: n, Success: n, DurationSeconds: dur.Seconds(),
			StatusCodes: map[string]uint64{"200": n}, Latency: load.Quantiles(h)},
		Histogram: enc,
		Servers:   servers,
		Targets:   []results.TargetStats{{Name: "GET /", Summary: results.Summary{Requests: n, Success: n}}},
		Timeline:  []results.Second{{T: 0, AchievedRate: float64(n)}},
		StartedAt: start,
		Shard: &load.ShardData{TargetHistograms: []string{enc}, Seconds: []string{secEnc},
			Sent: n, FirstSend: start, LastSend: start.Add(dur)},
	}}
}

// TestMergeEqualsWhole: histograms split over agents and merged are the
// histogram of all values, bucket for bucket; counts sum; the rate is over
// the union window, not a sum of the agents' rates.
func TestMergeEqualsWhole(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	whole := load.NewHistogram()
	const n = 3
	split := make([][]int64, n)
	for i := range 30000 {
		v := int64(rng.ExpFloat64()*2000) + 50 // µs, a long tail
		if i%97 == 0 {
			v *= 300
		}
		_ = whole.RecordValue(v)
		k := rng.IntN(n)
		split[k] = append(split[k], v)
	}
	t0 := time.Unix(1_700_000_000, 0)
	p := Plan{Workload: spec.Workload{Rate: 300}, Agents: n, Duration: 10 * time.Second, Target: "http://x", Start: t0}
	var arr []Arrival
	for i := range n {
		// agent 3 started 0.5s late on the same clock: the union window is 10.5s
		start := t0.Add(time.Duration(i/2) * 500 * time.Millisecond)
		arr = append(arr, Arrival{Index: i + 1, Shard: fakeShard(t, i+1, split[i], start, 10*time.Second), Hello: true})
	}
	m, err := Merge(p, arr, MaxClockSkew)
	if err != nil {
		t.Fatalf("Merge() = %v", err)
	}
	if len(m.Missing) != 0 {
		t.Fatalf("Merge().Missing = %v; want none", m.Missing)
	}
	got, err := load.DecodeHistogramString(m.Report.Histogram)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equals(whole) {
		t.Errorf("merged histogram differs from the histogram of all values")
	}
	for _, q := range []float64{50, 90, 99, 99.9, 99.99, 100} {
		if g, w := got.ValueAtQuantile(q), whole.ValueAtQuantile(q); g != w {
			t.Errorf("merged p%v = %d µs; want %d", q, g, w)
		}
	}
	if g, w := m.Report.Summary.Latency, load.Quantiles(whole); g != w {
		t.Errorf("merged Summary.Latency = %+v; want %+v", g, w)
	}
	if g := m.Report.Summary.Requests; g != 30000 {
		t.Errorf("merged requests = %d; want 30000", g)
	}
	if g := m.Report.Summary.DurationSeconds; g != 10.5 {
		t.Errorf("merged window = %vs; want 10.5 (union of the agents' windows)", g)
	}
	if g, w := m.Report.Summary.Rate, 30000/10.5; g != w {
		t.Errorf("merged rate = %v; want %v", g, w)
	}
	if g := m.Report.Targets[0].Summary.Latency; g != load.Quantiles(whole) {
		t.Errorf("merged target latency = %+v; want the whole's", g)
	}
	for _, sv := range m.Report.Servers {
		want := load.NewHistogram()
		for _, part := range split {
			for _, v := range part {
				if (v%2 == 0) == (sv.Server == "app1") {
					_ = want.RecordValue(v)
				}
			}
		}
		got, err := load.DecodeHistogramString(sv.Histogram)
		if err != nil || !got.Equals(want) {
			t.Errorf("server %s: merged histogram differs from the histogram of its values (%v)", sv.Server, err)
		}
		if sv.Summary.Requests != uint64(want.TotalCount()) || sv.Summary.DurationSeconds != 10.5 {
			t.Errorf("server %s: %d requests over %vs; want %d over the union window 10.5s", sv.Server, sv.Summary.Requests, sv.Summary.DurationSeconds, want.TotalCount())
		}
	}
	if len(m.Report.Servers) != 2 {
		t.Errorf("merged servers = %d; want app1 and app2", len(m.Report.Servers))
	}
	if g := m.Report.Timeline[0].AchievedRate; g != 30000 {
		t.Errorf("merged second 0 achieved = %v; want 30000", g)
	}
	var planned uint64
	for _, a := range m.Agents {
		planned += a.PlannedRequests
	}
	if planned != 3000 {
		t.Errorf("planned requests over agents = %d; want 3000 (300/s × 10s)", planned)
	}
}

// TestMergeMissing: a shard without result and one with a clock beyond the
// bound are named and left out.
func TestMergeMissing(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	p := Plan{Workload: spec.Workload{Rate: 30}, Agents: 3, Duration: time.Second, Target: "http://x", Start: t0}
	arr := []Arrival{
		{Index: 1, Shard: fakeShard(t, 1, []int64{100, 200}, t0, time.Second), Hello: true},
		{Index: 2, Err: errString("task failed: exit 137")},
		{Index: 3, Shard: fakeShard(t, 3, []int64{300}, t0, time.Second), Hello: true, ClockOffset: 3 * time.Second},
	}
	m, err := Merge(p, arr, MaxClockSkew)
	if err != nil {
		t.Fatalf("Merge() = %v", err)
	}
	got := strings.Join(m.Missing, "; ")
	for _, want := range []string{"agent 2: task failed: exit 137", "agent 3: clock +3.000s off"} {
		if !strings.Contains(got, want) {
			t.Errorf("Missing = %q; want it to name %q", got, want)
		}
	}
	if g := m.Report.Summary.Requests; g != 2 {
		t.Errorf("merged requests = %d; want 2 (agent 1's only)", g)
	}
	if s := m.Agents[1].Status; s != results.AgentMissing {
		t.Errorf("agent 2 status = %q; want %q", s, results.AgentMissing)
	}
	if s := m.Agents[2].Status; s != results.AgentClock {
		t.Errorf("agent 3 status = %q; want %q", s, results.AgentClock)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// TestWireRoundTrip: a shard printed as lines comes back whole from a
// stream with the lines shuffled, repeated and interleaved with noise; a
// garbled chunk is reported, not merged.
func TestWireRoundTrip(t *testing.T) {
	s := fakeShard(t, 2, []int64{10, 20, 30000}, time.Unix(5, 0), time.Second)
	s.Raw = make([]byte, 20000) // incompressible: several chunks
	for i := range s.Raw {
		s.Raw[i] = byte(rand.N(256))
	}
	var buf bytes.Buffer
	now := time.Now()
	if err := WriteHello(&buf, 2, now.Add(200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := WriteShard(&buf, s); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) < 3 {
		t.Fatalf("WriteShard wrote %d lines; want several chunks", len(lines))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	stream := append([]string{"progress: 1s", "duckbench_agents.2.x@node | " + lines[1]}, lines...)
	rng.Shuffle(len(stream), func(i, j int) { stream[i], stream[j] = stream[j], stream[i] })
	c := NewCollector(3)
	for _, l := range stream {
		c.Line(l, now)
	}
	got, off, hello, err := c.Received(2)
	if err != nil || got == nil || !hello {
		t.Fatalf("Received(2) = %v, hello %v, %v; want the shard", got, hello, err)
	}
	if off != 200*time.Millisecond {
		t.Errorf("clock offset = %v; want 200ms", off)
	}
	if !bytes.Equal(got.Raw, s.Raw) || got.Report.Histogram != s.Report.Histogram {
		t.Errorf("shard changed in transit")
	}
	if c.Done() {
		t.Errorf("Done() = true with 1 of 3 agents; want false")
	}

	bad := NewCollector(3)
	for i, l := range lines {
		if i == 2 {
			l = l[:len(l)-5] + "AAAAA"
		}
		bad.Line(l, now)
	}
	if got, _, _, err := bad.Received(2); got != nil || err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("garbled: Received(2) = %v, %v; want a checksum error", got, err)
	}
}

// TestPlanRoundTrip: the plan survives its environment encoding; bad ones
// are refused.
func TestPlanRoundTrip(t *testing.T) {
	p := Plan{Workload: spec.Workload{Rate: 123.5, Targets: []spec.Target{{Path: "/k/{key}", Weight: 2}}}, Target: "http://haproxy:80", Agents: 3,
		Start: time.Unix(100, 5).UTC(), Duration: 8 * time.Second, Seed: 7, KeyOffset: 9, Raw: true}
	enc, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodePlan(enc)
	if err != nil {
		t.Fatalf("DecodePlan() = %v", err)
	}
	if got.Workload.Rate != p.Workload.Rate || got.Start != p.Start || got.Duration != p.Duration || got.Agents != 3 ||
		len(got.Workload.Targets) != 1 || got.Workload.Targets[0].Path != "/k/{key}" || !got.Raw {
		t.Errorf("DecodePlan(Encode(p)) = %+v; want %+v", got, p)
	}
	if _, err := DecodePlan("e30="); err == nil { // {}
		t.Errorf("DecodePlan({}) = nil error; want one")
	}
	if Seed(7, 1) == Seed(7, 2) || Seed(7, 1) != Seed(7, 1) {
		t.Errorf("Seed: want distinct per agent and stable")
	}
}

// TestRunShards runs 3 agents in process against a test server: their
// requests sum to the unsharded schedule's, and the merge counts them all.
func TestRunShards(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	p := Plan{Workload: spec.Workload{Rate: 100}, Target: srv.URL, Agents: 3,
		Start: time.Now().Add(300 * time.Millisecond), Duration: 1500 * time.Millisecond}
	want, err := PlannedHits(p)
	if err != nil || want != 150 {
		t.Fatalf("PlannedHits() = %d, %v; want 150", want, err)
	}
	arr := make([]Arrival, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hello := time.Now() // before the start, as an agent's hello
			s, err := Run(context.Background(), p, i+1, nil)
			arr[i] = Arrival{Index: i + 1, Shard: s, Err: err, Hello: true, HelloAt: hello}
		}()
	}
	wg.Wait()
	m, err := Merge(p, arr, MaxClockSkew)
	if err != nil || len(m.Missing) > 0 {
		t.Fatalf("Merge() = %v, missing %v", err, m.Missing)
	}
	var sum uint64
	for _, a := range m.Agents {
		if a.Requests != a.PlannedRequests {
			t.Errorf("agent %d: %d requests; want its planned %d", a.Index, a.Requests, a.PlannedRequests)
		}
		sum += a.Requests
	}
	if g := m.Report.Summary.Requests; g != sum || g != want {
		t.Errorf("merged requests = %d; want the agents' sum %d = planned %d", g, sum, want)
	}
	for _, e := range m.Report.Events {
		if strings.Contains(e.Message, "late") {
			t.Errorf("event %q on agents that started on time", e.Message)
		}
	}
	// An agent that announced itself 2s after the start is reported.
	arr[1].HelloAt = p.Start.Add(2 * time.Second)
	m, err = Merge(p, arr, MaxClockSkew)
	if err != nil || !slices.ContainsFunc(m.Report.Events, func(e results.Event) bool {
		return strings.Contains(e.Message, "agent 2: started 2s after the common start")
	}) {
		t.Errorf("Merge() with a late agent 2: %v, events %+v; want a late-start warning", err, m.Report.Events)
	}
	if _, err := Run(context.Background(), p, 4, nil); err == nil {
		t.Errorf("Run(index 4 of 3) = nil error; want ErrBadIndex")
	}
}

// TestIntersectStalls: a stall of the run is one every agent saw; one
// agent's stall alone is not.
func TestIntersectStalls(t *testing.T) {
	st := func(from, dur float64, req uint64) results.Stall {
		return results.Stall{StartSeconds: from, DurationSeconds: dur, Requests: req}
	}
	got := intersectStalls([][]results.Stall{
		{st(1, 2, 10), st(6, 1, 3)},  // 1-3, 6-7
		{st(2, 2, 20)},               // 2-4
		{st(0.5, 2, 5), st(8, 1, 1)}, // 0.5-2.5, 8-9
	})
	want := []results.Stall{st(2, 0.5, 35)}
	if !slices.Equal(got, want) {
		t.Errorf("intersectStalls = %+v; want %+v", got, want)
	}
	if got := intersectStalls([][]results.Stall{{st(1, 1, 1)}, nil}); len(got) != 0 {
		t.Errorf("intersectStalls with an agent without stalls = %+v; want none", got)
	}
}
