package pushgw

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/duckbench/duckbench/results"
)

func record() *results.Result {
	return &results.Result{ID: "r1", Status: results.StatusCompleted, StartedAt: time.Unix(1700000000, 500e6),
		Summary: results.Summary{Requests: 1000, Success: 990, Errors: 10, SuccessRatio: 0.99, Throughput: 99, TargetRate: 100,
			Latency:    results.Quantiles{P50: 0.002, P90: 0.004, P99: 0.008, Max: 0.05},
			AllLatency: &results.Quantiles{P50: 0.002, P90: 0.004, P99: results.Failed, Max: results.Failed}},
		Capacity: &results.Capacity{Rate: 420},
		SLO:      &results.Verdict{Pass: false, Checks: []results.Check{{Name: "p99", Pass: true}, {Name: "success", Pass: false}}}}
}

func TestRegistry(t *testing.T) {
	want := `
# HELP duckbench_run_all_requests_latency_seconds Latency quantiles of all the run's requests, a failure slower than any success (seconds; +Inf: the quantile falls among the failures). What the verdicts judge.
# TYPE duckbench_run_all_requests_latency_seconds gauge
duckbench_run_all_requests_latency_seconds{quantile="0.5"} 0.002
duckbench_run_all_requests_latency_seconds{quantile="0.9"} 0.004
duckbench_run_all_requests_latency_seconds{quantile="0.99"} +Inf
duckbench_run_all_requests_latency_seconds{quantile="1"} +Inf
# HELP duckbench_run_capacity_rate Capacity search: the highest sustainable rate (req/s).
# TYPE duckbench_run_capacity_rate gauge
duckbench_run_capacity_rate 420
# HELP duckbench_run_check_pass 1 when the SLO check passed.
# TYPE duckbench_run_check_pass gauge
duckbench_run_check_pass{check="p99"} 1
duckbench_run_check_pass{check="success"} 0
# HELP duckbench_run_latency_seconds Latency quantiles of the run's successful requests (seconds; the report's HdrHistogram).
# TYPE duckbench_run_latency_seconds gauge
duckbench_run_latency_seconds{quantile="0.5"} 0.002
duckbench_run_latency_seconds{quantile="0.9"} 0.004
duckbench_run_latency_seconds{quantile="0.99"} 0.008
duckbench_run_latency_seconds{quantile="1"} 0.05
# HELP duckbench_run_requests Requests of the run's attack window.
# TYPE duckbench_run_requests gauge
duckbench_run_requests 1000
# HELP duckbench_run_slo_pass 1 when the run's SLO verdict passed.
# TYPE duckbench_run_slo_pass gauge
duckbench_run_slo_pass 0
# HELP duckbench_run_timestamp_seconds The run's start (Unix seconds).
# TYPE duckbench_run_timestamp_seconds gauge
duckbench_run_timestamp_seconds 1.7000000005e+09
`
	if err := testutil.GatherAndCompare(Registry(record()), strings.NewReader(want),
		AllLatency, Capacity, CheckPass, Latency, Requests, SLOPass, Timestamp); err != nil {
		t.Error(err)
	}
}

func TestPushGrouping(t *testing.T) {
	var gotPath, gotMethod string
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotMethod = r.URL.Path, r.Method
		b, _ := io.ReadAll(r.Body)
		body = string(b)
	}))
	defer srv.Close()
	err := Push(context.Background(), srv.URL, record(), map[string]string{"run": "r1", "spec": "seed", "commit": "abc", "empty": ""})
	if err != nil {
		t.Fatal(err)
	}
	// The push package orders the grouping labels itself.
	pairs := map[string]bool{}
	parts := strings.Split(strings.TrimPrefix(gotPath, "/metrics/"), "/")
	for i := 0; i+1 < len(parts); i += 2 {
		pairs[parts[i]+"="+parts[i+1]] = true
	}
	want := []string{"job=duckbench", "commit=abc", "run=r1", "spec=seed"}
	for _, w := range want {
		if !pairs[w] {
			t.Errorf("Push: path %s lacks %s", gotPath, w)
		}
	}
	if len(pairs) != len(want) || gotMethod != http.MethodPut {
		t.Errorf("Push: %s %s; want PUT with exactly %v (empty labels left out)", gotMethod, gotPath, want)
	}
	if len(body) == 0 {
		t.Error("Push sent an empty body")
	}
}
