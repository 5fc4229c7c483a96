package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/duckbench/duckbench/spec"
)

// twoApps answers like HAProxy in front of two apps: round robin on
// X-Served-By, an optional delay, 503 for paths under /fail.
func twoApps(t *testing.T, delay time.Duration) *httptest.Server {
	t.Helper()
	var n atomic.Uint64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if delay > 0 {
			time.Sleep(delay)
		}
		app := "app1"
		if n.Add(1)%2 == 0 {
			app = "app2"
		}
		w.Header().Set("X-Served-By", app)
		if strings.HasPrefix(r.URL.Path, "/fail") {
			http.Error(w, "nope", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func run(t *testing.T, w spec.Workload, url string, opts ...Option) *Report {
	t.Helper()
	a, err := New(w, url, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	rep, err := a.Run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rep
}

func TestRunTimelineAndShare(t *testing.T) {
	t.Parallel()
	srv := twoApps(t, 0)
	w := spec.Workload{
		Rate: 200, Duration: spec.Duration(2 * time.Second),
		Targets: []spec.Target{{Path: "/kv/{key}", Weight: 3}, {Path: "/fail/{key}", Weight: 1}},
	}
	var ticks int
	rep := run(t, w, srv.URL, WithProgress(func(Progress) { ticks++ }))

	if got := len(rep.Timeline); got != 2 {
		t.Errorf("len(Timeline) = %d; want 2", got)
	}
	// A starved CPU (parallel tests on a small box) may truly saturate the
	// generator; the figures are only exact when it kept up.
	if got := rep.Summary.Requests; got > 400 || got == 0 || (!rep.Saturated && got != 400) {
		t.Errorf("Requests = %d (saturated %v); want 400 (200/s for 2s)", got, rep.Saturated)
	}
	for _, s := range rep.Timeline {
		if s.TargetRate != 200 || (!rep.Saturated && (s.AchievedRate < 180 || s.AchievedRate > 220)) { // sends late by under 100 ms may cross a second
			t.Errorf("second %d: target %v achieved %v; want 200 and about 200", s.T, s.TargetRate, s.AchievedRate)
		}
		if s.P99 <= 0 || s.Max < s.P99 {
			t.Errorf("second %d: p99 %v max %v", s.T, s.P99, s.Max)
		}
	}
	for _, app := range []string{"app1", "app2"} {
		if sh := rep.AppShare[app]; sh < 0.45 || sh > 0.55 {
			t.Errorf("AppShare[%s] = %v; want about 0.5", app, sh)
		}
	}
	if got, want := serverSum(rep.Servers), rep.Summary.Requests; got != want || len(rep.Servers) != 2 {
		t.Errorf("Servers %d buckets with %d requests; want app1 and app2 with %d", len(rep.Servers), got, want)
	}
	if len(rep.Targets) != 2 || rep.Targets[0].Summary.SuccessRatio != 1 || rep.Targets[1].Summary.SuccessRatio != 0 {
		t.Errorf("Targets = %+v; want /kv all good and /fail all 503", rep.Targets)
	}
	if got, want := rep.Targets[0].Summary.Requests+rep.Targets[1].Summary.Requests, rep.Summary.Requests; got != want {
		t.Errorf("per-target requests sum to %d; want %d", got, want)
	}
	if rep.Summary.StatusCodes["503"] != rep.Targets[1].Summary.Requests {
		t.Errorf("StatusCodes = %v", rep.Summary.StatusCodes)
	}
	if rep.Saturated {
		t.Logf("Saturated = true at 200 req/s against a fast target (a busy machine?); events %v", rep.Events)
	}
	if rep.Summary.BytesIn == 0 {
		t.Error("BytesIn = 0; want the Content-Length of the responses")
	}
	if ticks < 1 {
		t.Errorf("progress called %d times; want about 2", ticks)
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Requests", "99.99", "Servers (client side", "app1", "Targets:", "GET /fail/{key}"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("WriteText output lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestRunSaturationDetected(t *testing.T) {
	t.Parallel()
	srv := twoApps(t, 20*time.Millisecond)
	// 1 worker × 50 req/s cannot make 100 req/s, though the server answers
	// well within LatencyBudget: the worker cap is at fault.
	w := spec.Workload{Rate: 100, Duration: spec.Duration(2500 * time.Millisecond), MaxWorkers: 1}
	var live bool
	rep := run(t, w, srv.URL, WithProgress(func(p Progress) { live = live || p.Saturated }))
	if !rep.Saturated {
		t.Fatalf("Saturated = false; want true (max lag %vs)", rep.MaxScheduleLagSeconds)
	}
	if !live {
		t.Error("no progress report said Saturated")
	}
	var start bool
	for _, e := range rep.Events {
		start = start || (e.Kind == "saturation" && e.Action == "start" && strings.Contains(e.Message, "workers busy on quick responses"))
	}
	if !start {
		t.Errorf("Events = %+v; want a saturation start naming busy workers", rep.Events)
	}
	if rep.Timeline[len(rep.Timeline)-1].ScheduleLagSeconds < 0.5 {
		t.Errorf("last second lag = %v; want > 0.5s", rep.Timeline[len(rep.Timeline)-1].ScheduleLagSeconds)
	}
	if rep.SUTBound {
		t.Errorf("SUTBound = true; want false: the server answered in 20ms (events %+v)", rep.Events)
	}
}

// TestRunSUTBoundIsNotSaturation: a server slower than the workers were
// sized for makes every worker wait; that is the server's limit (a true,
// bad figure), not the generator's, and late hits keep their due times.
func TestRunSUTBoundIsNotSaturation(t *testing.T) {
	t.Parallel()
	srv := twoApps(t, 300*time.Millisecond)
	// 64 workers / 0.3 s = 213 req/s < 400 req/s.
	rep := run(t, spec.Workload{Rate: 400, Duration: spec.Duration(2500 * time.Millisecond)}, srv.URL)
	if !rep.SUTBound || rep.Saturated {
		t.Fatalf("SUTBound = %v, Saturated = %v; want true, false (events %+v)", rep.SUTBound, rep.Saturated, rep.Events)
	}
	var overload bool
	for _, e := range rep.Events {
		overload = overload || (e.Kind == "overload" && e.Action == "start")
	}
	if !overload {
		t.Errorf("Events = %+v; want an overload start", rep.Events)
	}
	// Every scheduled hit is accounted for, sent late or not at all.
	if got := rep.Summary.Requests; got != 1000 {
		t.Errorf("Requests = %d; want all 1000 scheduled", got)
	}
	// Intended-time latency grows with the backlog: well past the 0.3 s
	// service time, which the service time figure still shows.
	if st := rep.Summary.ServiceTime; st == nil || st.P50 < 0.29 || st.P50 > 0.4 {
		t.Errorf("ServiceTime = %+v; want p50 about 0.3s", st)
	}
	if rep.Summary.Latency.P99 < 1 {
		t.Errorf("Latency.P99 = %v; want > 1s (requests waited for workers)", rep.Summary.Latency.P99)
	}
}

func TestRunRawReadBackByVegeta(t *testing.T) {
	t.Parallel()
	srv := twoApps(t, 0)
	var raw bytes.Buffer
	rep := run(t, spec.Workload{Rate: 50, Duration: spec.Duration(time.Second)}, srv.URL, WithRaw(&raw))
	dec := vegeta.NewDecoder(&raw)
	var n uint64
	for {
		var r vegeta.Result
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if r.Code != 200 || r.BytesIn != 2 || r.Latency <= 0 || !strings.HasPrefix(r.URL, srv.URL+"/kv/k") {
			t.Errorf("decoded %+v", r)
		}
		n++
	}
	if n != rep.Summary.Requests || n == 0 || (!rep.Saturated && n != 50) {
		t.Errorf("decoded %d results; report says %d; want 50", n, rep.Summary.Requests)
	}
}

func TestRunCancelReturnsPartialReport(t *testing.T) {
	t.Parallel()
	srv := twoApps(t, 0)
	a, err := New(spec.Workload{Rate: 100, Duration: spec.Duration(30 * time.Second)}, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	rep, err := a.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run took %v after cancel; want prompt", d)
	}
	if !rep.Interrupted || rep.Summary.Requests < 100 || rep.Summary.Requests > 200 {
		t.Errorf("Interrupted = %v, Requests = %d; want true and about 150", rep.Interrupted, rep.Summary.Requests)
	}
	if got := len(rep.Timeline); got != 2 {
		t.Errorf("len(Timeline) = %d; want 2 for a run cut at 1.5s", got)
	}
	if _, err := a.Run(context.Background()); !errors.Is(err, ErrAlreadyRun) {
		t.Errorf("second Run = %v; want ErrAlreadyRun", err)
	}
}

func TestRunMaxRate(t *testing.T) {
	t.Parallel()
	srv := twoApps(t, 0)
	rep := run(t, spec.Workload{Rate: spec.RateMax, Duration: spec.Duration(500 * time.Millisecond), Connections: 4}, srv.URL)
	if rep.Plan.Rate != -1 || rep.Plan.Workers != 4 || rep.Plan.Connections != 4 {
		t.Errorf("Plan = %+v; want rate -1 with 4 workers and connections", rep.Plan)
	}
	if rep.Summary.Requests == 0 || rep.Saturated || rep.Summary.TargetRate != 0 {
		t.Errorf("Summary = %+v, Saturated = %v", rep.Summary, rep.Saturated)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	srv := twoApps(t, 0)
	m := NewMetrics()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(m); err != nil {
		t.Fatal(err)
	}
	rep := run(t, spec.Workload{Rate: 40, Duration: spec.Duration(1200 * time.Millisecond),
		Targets: []spec.Target{{Path: "/fail"}}}, srv.URL, WithMetrics(m))
	want := fmt.Sprintf(`
# HELP duckbench_load_requests_total Requests sent by the load generator, by HTTP status code (0: no response).
# TYPE duckbench_load_requests_total counter
duckbench_load_requests_total{code="503"} %d
`, rep.Summary.Requests)
	if !rep.Saturated && rep.Summary.Requests != 48 {
		t.Errorf("Requests = %d; want 48", rep.Summary.Requests)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "duckbench_load_requests_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m, "duckbench_load_request_duration_seconds"); n != 1 {
		t.Errorf("duration histogram series = %d; want 1", n)
	}
	if got := testutil.ToFloat64(m.targetRate); got < 39 || got > 41 {
		t.Errorf("target rate gauge = %v; want 40", got)
	}
}

func TestSize(t *testing.T) {
	tests := []struct {
		name           string
		w              spec.Workload
		peak           float64
		cores          int
		wantW, wantMax uint64
		wantConns      int
	}{
		{"low rate", spec.Workload{Rate: 10}, 10, 2, 2, 64, 64},
		{"10k on one core is capped", spec.Workload{Rate: 10000}, 10000, 1, 50, 256, 256},
		{"connections cap workers", spec.Workload{Rate: 10000, Connections: 64}, 10000, 2, 50, 64, 64},
		{"explicit", spec.Workload{Rate: 100, Workers: 3, MaxWorkers: 9}, 100, 2, 3, 9, 9},
		{"max default", spec.Workload{Rate: spec.RateMax}, 0, 2, 64, 64, 64},
		{"max connections", spec.Workload{Rate: spec.RateMax, Connections: 50}, 0, 2, 50, 50, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, m, c := Size(tt.w, tt.peak, tt.cores)
			if w != tt.wantW || m != tt.wantMax || c != tt.wantConns {
				t.Errorf("Size = %d, %d, %d; want %d, %d, %d", w, m, c, tt.wantW, tt.wantMax, tt.wantConns)
			}
		})
	}
}
