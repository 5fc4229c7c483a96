package results

import (
	"flag"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, 60_000_000, 3) }

func quantiles(h *hdrhistogram.Histogram) Quantiles {
	us := func(v int64) float64 { return float64(v) / 1e6 }
	return Quantiles{
		Min: us(h.Min()), Mean: math.Round(h.Mean()) / 1e6,
		P50: us(h.ValueAtQuantile(50)), P90: us(h.ValueAtQuantile(90)), P99: us(h.ValueAtQuantile(99)),
		P999: us(h.ValueAtQuantile(99.9)), P9999: us(h.ValueAtQuantile(99.99)), Max: us(h.Max()),
	}
}

func encode(t testing.TB, h *hdrhistogram.Histogram) string {
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fixtureRun builds a realistic 10-second run at 500 req/s: the server
// stalls for 0.6 s at 2 s (requests due meanwhile wait for its end: their
// intended-time latency grows, their service time does not), app2 is
// killed at 4 s and back at 7 s, replica-2 falls behind meanwhile.
func fixtureRun(t testing.TB) *Result { return buildFixture(t, true) }

// buildFixture is fixtureRun, with or without the stall (the comparison
// tests want a run whose p99 a small regression moves).
func buildFixture(t testing.TB, stall bool) *Result {
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 11, 27, 12, 1, 2, 0, time.UTC)
	stallFrom, stallTo := 2.0, 2.6
	if !stall {
		stallTo = stallFrom
	}
	var stalled uint64
	all, svcAll, failAll := newHist(), newHist(), newHist()
	codes := map[string]uint64{}
	var timeline []Second
	var served [2]uint64
	srvHist, srvSvc := [2]*hdrhistogram.Histogram{newHist(), newHist()}, [2]*hdrhistogram.Histogram{newHist(), newHist()}
	var srvErr [2]uint64
	var errs, bytesIn uint64
	for sec := 0; sec < 10; sec++ {
		fault := sec >= 4 && sec < 7
		h, sh := newHist(), newHist()
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
		q, sq := quantiles(h), quantiles(sh)
		d1 := 0.0004 + rng.Float64()*0.0003
		d2 := 0.0005 + rng.Float64()*0.0004
		if fault {
			d2 = 0.004 + rng.Float64()*0.006
		}
		share := map[string]float64{"web/app1": 0.5, "web/app2": 0.5}
		if fault {
			share = map[string]float64{"web/app1": 1}
		}
		timeline = append(timeline, Second{
			T: sec, TargetRate: 500, AchievedRate: float64(n), Throughput: float64(uint64(n) - secErr),
			P50: q.P50, P99: q.P99, Max: q.Max, ServiceP50: sq.P50, ServiceP99: sq.P99,
			Errors: secErr, StatusCodes: sc, ScheduleLagSeconds: 0.0002,
			ReplicationDelay:     map[string]float64{"replica-1": round6(d1), "replica-2": round6(d2)},
			ReplicationOffsetLag: map[string]int64{"replica-1": 0, "replica-2": int64(d2 * 2e6)},
			ServerShare:          share,
		})
	}
	total := uint64(all.TotalCount()) + errs
	svcQ, failQ := quantiles(svcAll), quantiles(failAll)
	sum := Summary{
		Requests: total, Success: total - errs, Errors: errs,
		SuccessRatio: float64(total-errs) / float64(total),
		Throughput:   round6(float64(total-errs) / 10), Rate: round6(float64(total) / 10), TargetRate: 500,
		DurationSeconds: 10, BytesIn: bytesIn, BytesOut: 0,
		LatencyBasis: BasisIntended, Latency: quantiles(all), ServiceTime: &svcQ, FailureLatency: &failQ,
		StatusCodes: codes,
	}
	FillAllRequests(&sum, all)
	r := &Result{
		SchemaVersion: SchemaVersion, ID: NewID(start, "seed"),
		Spec: SpecInfo{Name: "seed", Path: "examples/seed.yaml", Hash: "3f1a9c0d2b7e4f6a8c1d0e9b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f",
			ConfigHashes: map[string]string{"haproxy.cfg": "9b1c…e2", "redis-master.conf": "77aa…01", "redis-replica-1.conf": "5c3d…9f", "redis-replica-2.conf": "e41b…07"}},
		Duckbench: "v0.1.0-test",
		Host:      HostInfo{Hostname: "bench-1", OS: "linux", Arch: "amd64", CPUs: 2, Go: "go1.26.8", Kernel: "6.1.0"},
		Runtime:   "local", StartedAt: start, EndedAt: start.Add(10 * time.Second), Status: "completed",
		Plan: LoadPlan{Shape: "constant", Rate: 500, DurationSeconds: 10, Workers: 10, MaxWorkers: 64, Connections: 64,
			Targets: []string{"GET /item/{key}"}, KeyDistribution: "zipf", Seed: 42},
		Summary:  sum,
		Trials:   []Trial{{Index: 1, Summary: sum}},
		Timeline: timeline,
		Targets:  []TargetStats{{Name: "GET /item/{key}", Summary: sum}},
		AppShare: map[string]float64{
			"app1": round6(float64(served[0]) / float64(total)), "app2": round6(float64(served[1]) / float64(total))},
		Histogram:        encode(t, all),
		ServiceHistogram: encode(t, svcAll),
		SUTBound:         stall,
		Events: []Event{
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
		r.Stalls = []Stall{{StartSeconds: stallFrom, DurationSeconds: stallTo - stallFrom, Requests: stalled}}
	} else {
		r.Events = r.Events[1:]
	}
	r.SLO = EvaluateSLO(spec.SLO{P99: spec.Duration(50 * time.Millisecond), Success: 0.999,
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
func fixtureServer(t testing.TB, name string, n, errs uint64, hist, svc *hdrhistogram.Histogram) ServerLatency {
	ok := n - errs
	sq := quantiles(svc)
	ss := Summary{Requests: n, Success: ok, Errors: errs, SuccessRatio: round6(float64(ok) / float64(n)),
		Throughput: round6(float64(ok) / 10), Rate: round6(float64(n) / 10), DurationSeconds: 10, BytesIn: 320 * n,
		LatencyBasis: BasisIntended, Latency: quantiles(hist), ServiceTime: &sq,
		StatusCodes: map[string]uint64{"200": ok}}
	if errs > 0 {
		ss.StatusCodes["503"] = errs
	}
	FillAllRequests(&ss, hist)
	return ServerLatency{Server: name, Summary: ss, Histogram: encode(t, hist), ServiceHistogram: encode(t, svc)}
}

// addFixtureProbes fills what the probes would have seen in the fixture run.
func addFixtureProbes(r *Result, served [2]uint64, errs, total uint64) {
	r.Replication = []ReplicaStats{
		{Replica: "replica-1", DelayP50Seconds: 0.00055, DelayP99Seconds: 0.00071, DelayMaxSeconds: 0.0009, MaxOffsetLagBytes: 412, MaxAckAgeSeconds: 1, HeartbeatSamples: 100},
		{Replica: "replica-2", DelayP50Seconds: 0.0007, DelayP99Seconds: 0.0094, DelayMaxSeconds: 0.0101, MaxOffsetLagBytes: 20480, MaxAckAgeSeconds: 1, HeartbeatSamples: 100},
	}
	r.Backends = []ServerStats{
		{Backend: "web", Server: "app1", Requests: served[0], ShareRatio: round6(float64(served[0]) / float64(total)), ExpectedShare: 0.5,
			Responses: map[string]uint64{"2xx": served[0] - errs, "5xx": errs}},
		{Backend: "web", Server: "app2", Requests: served[1], ShareRatio: round6(float64(served[1]) / float64(total)), ExpectedShare: 0.5,
			DownSeconds: 3, Responses: map[string]uint64{"2xx": served[1]}},
	}
	r.Caches = []CacheStats{{Backend: "web", Lookups: total, Hits: total * 31 / 100, HitRatio: 0.31}}
	r.Keyspace = []KeyspaceStats{{Node: "master", Hits: 3200, Misses: 800, HitRatio: 0.8}}
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// synthRun is a run of a server whose latency is lognormal with median
// 4ms·scale: seconds of 200 requests each, in trials, each trial with a
// drift of about 1.5 % (a noisy machine) drawn from seed.
func synthRun(t testing.TB, name string, seed uint64, scale float64, trials, seconds int) *Result {
	rng := rand.New(rand.NewPCG(seed, seed*7+3))
	all := newHist()
	var timeline []Second
	var tr []Trial
	for k := 0; k < trials; k++ {
		drift := 1 + rng.NormFloat64()*0.015
		th := newHist()
		for s := 0; s < seconds; s++ {
			h := newHist()
			n := 200
			for i := 0; i < n; i++ {
				v := int64(4000 * scale * drift * math.Exp(rng.NormFloat64()*0.3))
				h.RecordValue(v)
				th.RecordValue(v)
				all.RecordValue(v)
			}
			q := quantiles(h)
			rate := 200 * (1 + rng.NormFloat64()*0.005)
			timeline = append(timeline, Second{T: len(timeline), TargetRate: 200, AchievedRate: round6(rate), P50: q.P50, P99: q.P99, Max: q.Max})
		}
		n := uint64(th.TotalCount())
		ts := Summary{Requests: n, Success: n, SuccessRatio: 1, Throughput: round6(200 * (1 + rng.NormFloat64()*0.005)),
			Rate: 200, TargetRate: 200, DurationSeconds: float64(seconds), Latency: quantiles(th), StatusCodes: map[string]uint64{"200": n}}
		tr = append(tr, Trial{Index: k + 1, Summary: ts})
	}
	n := uint64(all.TotalCount())
	return &Result{
		SchemaVersion: SchemaVersion, ID: NewID(time.Date(2026, 11, 27, 10, 0, int(seed%60), 0, time.UTC), name),
		Spec:   SpecInfo{Name: name, Hash: "abc"},
		Status: "completed",
		Summary: Summary{Requests: n, Success: n, SuccessRatio: 1, Throughput: 200, Rate: 200, TargetRate: 200,
			DurationSeconds: float64(seconds * trials), Latency: quantiles(all), StatusCodes: map[string]uint64{"200": n}},
		Trials: tr, Timeline: timeline,
	}
}

// TestFixture keeps testdata/fixture.json in step with fixtureRun; the
// CLI tests and the screenshot test read it.
func TestFixture(t *testing.T) {
	data, err := Marshal(fixtureRun(t))
	if err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".json"), data, *update)
}

func loadFixture(t *testing.T) *Result {
	t.Helper()
	r, err := Load(filepath.Join("testdata", "TestFixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func sortedFloats(v []float64) []float64 {
	out := append([]float64(nil), v...)
	sort.Float64s(out)
	return out
}
