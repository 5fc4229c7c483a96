// Package resultstest builds the synthetic run records that the tests of
// results and of its renderers (results/report) share.
package resultstest

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

// NewHist is a histogram of microseconds up to a minute, as the load
// generator keeps.
func NewHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, 60_000_000, 3) }

// QuantilesOf reads the summary quantiles of h (microseconds) in seconds.
func QuantilesOf(h *hdrhistogram.Histogram) results.Quantiles {
	us := func(v int64) float64 { return float64(v) / 1e6 }
	return results.Quantiles{
		Min: us(h.Min()), Mean: math.Round(h.Mean()) / 1e6,
		P50: us(h.ValueAtQuantile(50)), P90: us(h.ValueAtQuantile(90)), P99: us(h.ValueAtQuantile(99)),
		P999: us(h.ValueAtQuantile(99.9)), P9999: us(h.ValueAtQuantile(99.99)), Max: us(h.Max()),
	}
}

// Encode is h in the record's encoding (compressed HdrHistogram V2).
func Encode(t testing.TB, h *hdrhistogram.Histogram) string {
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Fixture builds a realistic 10-second run at 500 req/s: the server
// stalls for 0.6 s at 2 s (requests due meanwhile wait for its end: their
// intended-time latency grows, their service time does not), app2 is
// killed at 4 s and back at 7 s, replica-2 falls behind meanwhile.
func Fixture(t testing.TB) *results.Result { return BuildFixture(t, true) }

// BuildFixture is Fixture, with or without the stall (the comparison
// tests want a run whose p99 a small regression moves).
func BuildFixture(t testing.TB, stall bool) *results.Result {
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 11, 27, 12, 1, 2, 0, time.UTC)
	stallFrom, stallTo := 2.0, 2.6
	if !stall {
		stallTo = stallFrom
	}
	var stalled uint64
	all, svcAll, failAll := NewHist(), NewHist(), NewHist()
	codes := map[string]uint64{}
	var timeline []results.Second
	var served [2]uint64
	srvHist, srvSvc := [2]*hdrhistogram.Histogram{NewHist(), NewHist()}, [2]*hdrhistogram.Histogram{NewHist(), NewHist()}
	var srvErr [2]uint64
	var errs, bytesIn uint64
	for sec := 0; sec < 10; sec++ {
		fault := sec >= 4 && sec < 7
		h, sh := NewHist(), NewHist()
		sc := map[string]uint64{}
		n := 500 - rng.IntN(3)
		var secErr uint64
		for i := 0; i < n; i++ {
			app, lat, failed := fixtureRequest(rng, i, fault)
			if failed {
				sc["503"]++
				secErr++
			}
			primary := lat
			if due := float64(sec) + float64(i)/float64(n); due >= stallFrom && due < stallTo {
				primary += (stallTo - due) * 1e6
				stalled++
			}
			if failed {
				failAll.RecordValue(int64(primary))
				srvErr[app]++
			} else {
				srvHist[app].RecordValue(int64(primary))
				srvSvc[app].RecordValue(int64(lat))
				h.RecordValue(int64(primary))
				all.RecordValue(int64(primary))
				sh.RecordValue(int64(lat))
				svcAll.RecordValue(int64(lat))
			}
			served[app]++
			bytesIn += 320
		}
		sc["200"] += uint64(n) - secErr
		for k, v := range sc {
			codes[k] += v
		}
		errs += secErr
		q, sq := QuantilesOf(h), QuantilesOf(sh)
		d1 := 0.0004 + rng.Float64()*0.0003
		d2 := 0.0005 + rng.Float64()*0.0004
		if fault {
			d2 = 0.004 + rng.Float64()*0.006
		}
		share := map[string]float64{"web/app1": 0.5, "web/app2": 0.5}
		if fault {
			share = map[string]float64{"web/app1": 1}
		}
		timeline = append(timeline, results.Second{
			T: sec, TargetRate: 500, AchievedRate: float64(n), Throughput: float64(uint64(n) - secErr),
			P50: q.P50, P99: q.P99, Max: q.Max, ServiceP50: sq.P50, ServiceP99: sq.P99,
			Errors: secErr, StatusCodes: sc, ScheduleLagSeconds: 0.0002,
			ReplicationDelay:     map[string]float64{"replica-1": round6(d1), "replica-2": round6(d2)},
			ReplicationOffsetLag: map[string]int64{"replica-1": 0, "replica-2": int64(d2 * 2e6)},
			ServerShare:          share,
		})
	}
	total := uint64(all.TotalCount()) + errs
	svcQ, failQ := QuantilesOf(svcAll), QuantilesOf(failAll)
	sum := results.Summary{
		Requests: total, Success: total - errs, Errors: errs,
		SuccessRatio: float64(total-errs) / float64(total),
		Throughput:   round6(float64(total-errs) / 10), Rate: round6(float64(total) / 10), TargetRate: 500,
		DurationSeconds: 10, BytesIn: bytesIn, BytesOut: 0,
		LatencyBasis: results.BasisIntended, Latency: QuantilesOf(all), ServiceTime: &svcQ, FailureLatency: &failQ,
		StatusCodes: codes,
	}
	results.FillAllRequests(&sum, all)
	r := &results.Result{
		SchemaVersion: results.SchemaVersion, ID: results.NewID(start, "seed"),
		Spec: results.SpecInfo{Name: "seed", Path: "examples/seed.yaml", Hash: "3f1a9c0d2b7e4f6a8c1d0e9b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f",
			ConfigHashes: map[string]string{"haproxy.cfg": "9b1c…e2", "redis-master.conf": "77aa…01", "redis-replica-1.conf": "5c3d…9f", "redis-replica-2.conf": "e41b…07"}},
		Duckbench: "v0.1.0-test",
		Host:      results.HostInfo{Hostname: "bench-1", OS: "linux", Arch: "amd64", CPUs: 2, Go: "go1.26.8", Kernel: "6.1.0"},
		Runtime:   "local", StartedAt: start, EndedAt: start.Add(10 * time.Second), Status: "completed",
		Plan: results.LoadPlan{Shape: "constant", Rate: 500, DurationSeconds: 10, Workers: 10, MaxWorkers: 64, Connections: 64,
			Targets: []string{"GET /item/{key}"}, KeyDistribution: "zipf", Seed: 42},
		Summary:  sum,
		Trials:   []results.Trial{{Index: 1, Summary: sum}},
		Timeline: timeline,
		Targets:  []results.TargetStats{{Name: "GET /item/{key}", Summary: sum}},
		AppShare: map[string]float64{
			"app1": round6(float64(served[0]) / float64(total)), "app2": round6(float64(served[1]) / float64(total))},
		Histogram:        Encode(t, all),
		ServiceHistogram: Encode(t, svcAll),
		SUTBound:         stall,
		Events: []results.Event{
			{AtSeconds: 2, Kind: "stall", Action: "start", Message: "system under test answered nothing for 600ms while requests waited"},
			{AtSeconds: 4, Kind: "fault", Target: "app2", Action: "kill", Message: "stopped app2"},
			{AtSeconds: 7, Kind: "recovery", Target: "app2", Action: "start", Message: "app2 back up"},
		},
	}
	for i, name := range []string{"app1", "app2"} {
		r.Servers = append(r.Servers, fixtureServer(t, name, served[i], srvErr[i], srvHist[i], srvSvc[i]))
	}
	addFixtureProbes(r, served, errs, total)
	if stall {
		r.Stalls = []results.Stall{{StartSeconds: stallFrom, DurationSeconds: stallTo - stallFrom, Requests: stalled}}
	} else {
		r.Events = r.Events[1:]
	}
	// The generator's cost of the run and of its one trial: 0.155 of a
	// core, under results.GeneratorShareWarn.
	r.Summary.Generator = results.NewGeneratorCost(1.12, 0.43, 10.02, r.Summary.Requests-r.Summary.Unsent)
	r.Trials[0].Summary.Generator = r.Summary.Generator
	r.SLO = results.EvaluateSLO(spec.SLO{P99: spec.Duration(50 * time.Millisecond), Success: 0.999,
		MaxReplicationDelay: spec.Duration(5 * time.Millisecond)}, r)
	return r
}

// fixtureRequest draws the i-th request of a second of the fixture run:
// the app that served it, its service time in µs and whether it failed
// (while app2 is down, app1 takes its requests, slower, 1 % failing).
func fixtureRequest(rng *rand.Rand, i int, fault bool) (app int, lat float64, failed bool) {
	lat = math.Exp(rng.NormFloat64()*0.35) * 2500 // µs, median 2.5ms
	if rng.Float64() < 0.01 {
		lat *= 4 + rng.Float64()*4 // a slow tail
	}
	app = i % 2
	if fault && app == 1 {
		app = 0
		lat *= 1.6
		if rng.Float64() < 0.01 {
			lat = 5000 + rng.Float64()*2000
			failed = true
		}
	}
	return app, lat, failed
}

// fixtureServer is one server's figures in the fixture run: n requests
// over its 10 s, errs of them 503s, latencies in hist and svc.
func fixtureServer(t testing.TB, name string, n, errs uint64, hist, svc *hdrhistogram.Histogram) results.ServerLatency {
	ok := n - errs
	sq := QuantilesOf(svc)
	ss := results.Summary{Requests: n, Success: ok, Errors: errs, SuccessRatio: round6(float64(ok) / float64(n)),
		Throughput: round6(float64(ok) / 10), Rate: round6(float64(n) / 10), DurationSeconds: 10, BytesIn: 320 * n,
		LatencyBasis: results.BasisIntended, Latency: QuantilesOf(hist), ServiceTime: &sq,
		StatusCodes: map[string]uint64{"200": ok}}
	if errs > 0 {
		ss.StatusCodes["503"] = errs
	}
	results.FillAllRequests(&ss, hist)
	return results.ServerLatency{Server: name, Summary: ss, Histogram: Encode(t, hist), ServiceHistogram: Encode(t, svc)}
}

// addFixtureProbes fills what the probes would have seen in the fixture run.
func addFixtureProbes(r *results.Result, served [2]uint64, errs, total uint64) {
	r.Replication = []results.ReplicaStats{
		{Replica: "replica-1", DelayP50Seconds: 0.00055, DelayP99Seconds: 0.00071, DelayMaxSeconds: 0.0009, MaxOffsetLagBytes: 412, MaxAckAgeSeconds: 1, HeartbeatSamples: 100},
		{Replica: "replica-2", DelayP50Seconds: 0.0007, DelayP99Seconds: 0.0094, DelayMaxSeconds: 0.0101, MaxOffsetLagBytes: 20480, MaxAckAgeSeconds: 1, HeartbeatSamples: 100},
	}
	r.Backends = []results.ServerStats{
		{Backend: "web", Server: "app1", Requests: served[0], ShareRatio: round6(float64(served[0]) / float64(total)), ExpectedShare: 0.5,
			Responses: map[string]uint64{"2xx": served[0] - errs, "5xx": errs}},
		{Backend: "web", Server: "app2", Requests: served[1], ShareRatio: round6(float64(served[1]) / float64(total)), ExpectedShare: 0.5,
			DownSeconds: 3, Responses: map[string]uint64{"2xx": served[1]}},
	}
	r.Caches = []results.CacheStats{{Backend: "web", Lookups: total, Hits: total * 31 / 100, HitRatio: 0.31}}
	r.Keyspace = []results.KeyspaceStats{{Node: "master", Hits: 3200, Misses: 800, HitRatio: 0.8}}
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// SynthRun is a run of a server whose latency is lognormal with median
// 4ms·scale: seconds of 200 requests each, in trials, each trial with a
// drift of about 1.5 % (a noisy machine) drawn from seed.
func SynthRun(t testing.TB, name string, seed uint64, scale float64, trials, seconds int) *results.Result {
	rng := rand.New(rand.NewPCG(seed, seed*7+3))
	all := NewHist()
	var timeline []results.Second
	var tr []results.Trial
	for k := 0; k < trials; k++ {
		drift := 1 + rng.NormFloat64()*0.015
		th := NewHist()
		for s := 0; s < seconds; s++ {
			h := NewHist()
			n := 200
			for i := 0; i < n; i++ {
				v := int64(4000 * scale * drift * math.Exp(rng.NormFloat64()*0.3))
				h.RecordValue(v)
				th.RecordValue(v)
				all.RecordValue(v)
			}
			q := QuantilesOf(h)
			rate := 200 * (1 + rng.NormFloat64()*0.005)
			timeline = append(timeline, results.Second{T: len(timeline), TargetRate: 200, AchievedRate: round6(rate), P50: q.P50, P99: q.P99, Max: q.Max})
		}
		n := uint64(th.TotalCount())
		ts := results.Summary{Requests: n, Success: n, SuccessRatio: 1, Throughput: round6(200 * (1 + rng.NormFloat64()*0.005)),
			Rate: 200, TargetRate: 200, DurationSeconds: float64(seconds), Latency: QuantilesOf(th), StatusCodes: map[string]uint64{"200": n}}
		tr = append(tr, results.Trial{Index: k + 1, Summary: ts})
	}
	n := uint64(all.TotalCount())
	return &results.Result{
		SchemaVersion: results.SchemaVersion, ID: results.NewID(time.Date(2026, 11, 27, 10, 0, int(seed%60), 0, time.UTC), name),
		Spec:   results.SpecInfo{Name: name, Hash: "abc"},
		Status: "completed",
		Summary: results.Summary{Requests: n, Success: n, SuccessRatio: 1, Throughput: 200, Rate: 200, TargetRate: 200,
			DurationSeconds: float64(seconds * trials), Latency: QuantilesOf(all), StatusCodes: map[string]uint64{"200": n}},
		Trials: tr, Timeline: timeline,
	}
}

// LoadFixture reads results/testdata/TestFixture.json, the golden copy of
// Fixture that results' TestFixture keeps in step.
func LoadFixture(t testing.TB) *results.Result {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	r, err := results.Load(filepath.Join(filepath.Dir(file), "..", "testdata", "TestFixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Confirmed is the fixture as a capacity search whose step at
// 1,000 req/s failed once (a freeze) and passed its two confirmations, and
// whose 2,000 req/s failure was confirmed; the replication of the attack
// windows and of the idle time apart.
func Confirmed(t testing.TB) *results.Result {
	r := LoadFixture(t)
	repl := func(p99 float64) []results.ReplicaStats {
		return []results.ReplicaStats{{Replica: "replica-1", DelayP50Seconds: p99 / 2, DelayP99Seconds: p99, DelayMaxSeconds: p99, HeartbeatSamples: 50}}
	}
	ok := func(rate, p99 float64) results.Summary {
		// 3 s steps, the generator at 3,500 requests per CPU-second.
		return results.Summary{Rate: rate, Throughput: rate, SuccessRatio: 1, Latency: results.Quantiles{P99: p99},
			Generator: results.NewGeneratorCost(rate*3/3500*0.8, rate*3/3500*0.2, 3, uint64(rate*3))}
	}
	r.Capacity = &results.Capacity{SLO: "p99<20ms", Rate: 1500, LowGood: 1500, HighBad: 2000, Steps: []results.CapacityStep{
		{Rate: 500, Outcome: "pass", Why: "SLO met", Summary: ok(500, 0.005), Replication: repl(0.001)},
		{Rate: 1000, Outcome: "pass", Why: "SLO met", Summary: ok(1000, 0.008), Replication: repl(0.0012), Trials: []results.CapacityTrial{
			{Outcome: "fail", Why: "SLO broken: p99 < 20ms (observed 160ms)", Summary: ok(1000, 0.16), Replication: repl(0.0011)},
			{Outcome: "pass", Why: "SLO met", Summary: ok(1000, 0.007), Replication: repl(0.0013)},
			{Outcome: "pass", Why: "SLO met", Summary: ok(1000, 0.008), Replication: repl(0.0012)},
		}},
		{Rate: 2000, Outcome: "fail", Why: "SLO broken: p99 < 20ms (observed 60ms)", Summary: ok(2000, 0.06), Replication: repl(0.004), Trials: []results.CapacityTrial{
			{Outcome: "fail", Why: "SLO broken: p99 < 20ms (observed 70ms)", Summary: ok(2000, 0.07), Replication: repl(0.005)},
			{Outcome: "fail", Why: "SLO broken: p99 < 20ms (observed 60ms)", Summary: ok(2000, 0.06), Replication: repl(0.004)},
		}},
		{Rate: 1500, Outcome: "pass", Why: "SLO met", Summary: ok(1500, 0.011)},
	}}
	r.ReplicationIdle = []results.ReplicaStats{{Replica: "replica-1", DelayP50Seconds: 0.0004, DelayP99Seconds: 0.0006, DelayMaxSeconds: 0.0007, HeartbeatSamples: 180}}
	return r
}

// SynthSweep is a capacity sweep of maxconn 2, 8 and an invalid 0x over
// rounds rounds: variant #2 holds 4× the load of #1, with a ±4 % wobble
// from round to round; each search steps 50, 100, 200, … and bisects.
func SynthSweep(rounds int, scale float64) *results.Sweep {
	sw := &results.Sweep{ID: "20261201T120000Z-sweep-seed", StartedAt: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC),
		Spec:   results.ABSide{Spec: "seed", Path: "examples/seed.yaml", Hash: "abc"},
		Vary:   []results.SweepAxis{{Path: "haproxy.backends[0].servers[*].maxconn", Values: []string{"2", "8", "0x"}}},
		Design: results.DesignGrid, Mode: results.SweepCapacity, SLO: "p99<50ms", Rounds: rounds, Status: results.StatusCompleted}
	for _, v := range sw.Vary[0].Values {
		sw.Variants = append(sw.Variants, results.SweepVariant{Values: []string{v}, Label: results.VariantLabel(sw.Vary, []string{v})})
	}
	sw.Variants[2].Invalid = "haproxy.backends[0].servers[0].maxconn: cannot parse \"0x\" as an integer (seed.yaml)"
	seq := 0
	for r, round := range results.RoundOrder(2, rounds) {
		for _, vi := range round {
			seq++
			knee := 80 * (1 + 0.04*float64((seq*7)%5-2)/2)
			if vi == 1 {
				knee *= scale
			}
			c := &results.SweepSearch{}
			for rate := 50.0; ; rate *= 2 {
				p99 := 0.004 * rate / knee
				if rate > knee {
					c.Steps = append(c.Steps, results.SweepStep{Rate: rate, Outcome: "fail", P99: 0.2})
					c.HighBad = rate
					break
				}
				c.Steps = append(c.Steps, results.SweepStep{Rate: rate, Outcome: "pass", P99: results.Seconds(p99)})
				c.LowGood = rate
			}
			mid := (c.LowGood + c.HighBad) / 2
			if mid <= knee {
				c.LowGood = mid
				c.Steps = append(c.Steps, results.SweepStep{Rate: mid, Outcome: "pass", P99: 0.004})
			} else {
				c.HighBad = mid
				c.Steps = append(c.Steps, results.SweepStep{Rate: mid, Outcome: "fail", P99: 0.2})
			}
			c.LowGood = math.Floor(knee) // the bisection's last good rate
			c.Rate = c.LowGood
			sw.Runs = append(sw.Runs, results.SweepRun{Seq: seq, Round: r + 1, Variant: vi, ID: "run" + string(rune('a'+seq-1)),
				Status: results.StatusCompleted, Capacity: c, Summary: results.Summary{Requests: 100, Success: 100},
				Servers: []results.ServerP99{{Server: "app1", Requests: 50, P99: results.Seconds(0.004 * float64(seq))}, {Server: "app2", Requests: 50, P99: 0.010}}})
		}
	}
	results.AnalyzeSweep(sw)
	return sw
}
