package load

import (
	"bytes"
	"flag"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestWriteText(t *testing.T) {
	q := results.Quantiles{Min: 0.0001, Mean: 0.002, P50: 0.0015, P90: 0.003, P99: 0.008, P999: 0.02, P9999: 0.045, Max: 0.05}
	rep := &Report{
		Plan: results.LoadPlan{Rate: 500, Workers: 4, MaxWorkers: 512, WorkersUsed: 71, Connections: 512},
		Summary: results.Summary{
			Requests: 5000, Success: 4990, Errors: 10, SuccessRatio: 0.998, Throughput: 498.2, Rate: 500.1,
			TargetRate: 500, DurationSeconds: 10, DrainSeconds: 0.012, BytesIn: 10000, Latency: q,
			StatusCodes: map[string]uint64{"200": 4990, "503": 10}, ErrorKinds: map[string]uint64{"503": 10},
		},
		Targets: []results.TargetStats{
			{Name: "GET /kv/{key}", Summary: results.Summary{Requests: 4000, SuccessRatio: 1, Latency: q}},
			{Name: "POST /kv/{key}", Summary: results.Summary{Requests: 1000, SuccessRatio: 0.99, Latency: q}},
		},
		AppShare: map[string]float64{"app1": 0.501, "app2": 0.499},
		Servers: []results.ServerLatency{
			{Server: "app1", Summary: results.Summary{Requests: 2500, SuccessRatio: 1, Latency: q}},
			{Server: "app2", Summary: results.Summary{Requests: 2490, SuccessRatio: 1, Latency: q}},
			{Server: results.Unattributed, Summary: results.Summary{Requests: 10}},
		},
		Saturated:             true,
		SaturationCause:       SaturationCap,
		MaxScheduleLagSeconds: 0.25,
		Events:                []results.Event{{AtSeconds: 3, Kind: "saturation", Action: "start", Message: "load generator 250ms behind schedule"}},
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, rep); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".golden"), buf.Bytes(), *update)
}

func FuzzTargeter(f *testing.F) {
	f.Add("/kv/{key}", "GET", "http://h:1/kv/k12")
	f.Add("/a/{key}/b/{key}", "POST", "http://h:1/a/k1/b/k2")
	f.Add("{key}", "GET", "http://h:1k")
	f.Add("/%zz", "GET", "")
	f.Fuzz(func(t *testing.T, path, method, url string) {
		w := spec.Workload{Targets: []spec.Target{{Path: path, Method: method}, {Path: "/x"}}}
		tg, err := newTargeter(w, "http://h:1")
		if err != nil {
			return
		}
		_ = tg.index(method, url)
		var v vegeta.Target
		if err := tg.Next(&v); err != nil {
			t.Fatal(err)
		}
		if i := tg.index(v.Method, v.URL); i < 0 || i >= len(tg.targets) {
			t.Fatalf("index(%q, %q) = %d", v.Method, v.URL, i)
		}
	})
}
