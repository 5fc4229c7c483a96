package load

import (
	"bytes"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/duckbench/duckbench/configgen"
	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

// feeder hands a consumer results with a given server header and latency.
type feeder struct {
	t *testing.T
	c *consumer
	i int
}

func newFeeder(t *testing.T) *feeder {
	t.Helper()
	a, err := New(spec.Workload{Rate: 100, Duration: spec.Duration(10 * time.Second)}, "http://127.0.0.1:6301")
	if err != nil {
		t.Fatal(err)
	}
	return &feeder{t: t, c: newConsumer(a, time.Now())}
}

// add feeds n results; servedBy nil means no X-Served-By header.
func (f *feeder) add(n int, servedBy []string, code uint16, errMsg string, lat time.Duration) {
	for range n {
		at := f.c.began.Add(time.Duration(f.i) * time.Millisecond)
		r := &result{Result: vegeta.Result{Seq: uint64(f.i), Code: code, Error: errMsg, Method: "GET",
			URL: "http://127.0.0.1:6301/kv/k1", Timestamp: at, Latency: lat}, sent: at, service: lat}
		if servedBy != nil {
			r.servedBy = servedBy[0]
		}
		f.c.add(r)
		f.i++
	}
}

func (f *feeder) report() *Report { return f.c.report(f.c.began.Add(time.Minute)) }

// serverSum is the requests over every server bucket.
func serverSum(ss []results.ServerLatency) (n uint64) {
	for _, s := range ss {
		n += s.Summary.Requests
	}
	return n
}

func TestConsumerAttributesServers(t *testing.T) {
	f := newFeeder(t)
	f.add(100, []string{"app1"}, 200, "", time.Millisecond)
	f.add(3, []string{"app1"}, 500, "", 2*time.Millisecond) // the app's own error: app1's failure
	f.add(50, []string{"app2"}, 200, "", 10*time.Millisecond)
	f.add(20, []string{results.CacheServer}, 200, "", 100*time.Microsecond)
	f.add(4, []string{"<NOSRV>"}, 503, "", time.Millisecond)           // HAProxy's own error
	f.add(2, nil, 0, "dial tcp: connection refused", time.Millisecond) // transport error
	f.add(1, nil, 200, "", time.Millisecond)                           // an app that names nobody
	f.add(1, []string{""}, 200, "", time.Millisecond)
	rep := f.report()

	var names []string
	by := map[string]results.ServerLatency{}
	for _, s := range rep.Servers {
		names = append(names, s.Server)
		by[s.Server] = s
	}
	if got, want := fmt.Sprint(names), fmt.Sprint([]string{"<CACHE>", "app1", "app2", results.Unattributed}); got != want {
		t.Fatalf("Servers = %s; want %s (by name, unattributed last)", got, want)
	}
	if got, want := serverSum(rep.Servers), rep.Summary.Requests; got != want || got != 181 {
		t.Errorf("per-server requests sum to %d; want Summary.Requests %d = 181", got, want)
	}
	for _, tc := range []struct {
		server                  string
		requests, success, errs uint64
		p50                     float64
	}{
		{"app1", 103, 100, 3, 0.001},
		{"app2", 50, 50, 0, 0.010},
		{"<CACHE>", 20, 20, 0, 0.0001},
		{results.Unattributed, 8, 2, 6, 0.001},
	} {
		s := by[tc.server].Summary
		if s.Requests != tc.requests || s.Success != tc.success || s.Errors != tc.errs {
			t.Errorf("%s: requests, success, errors = %d, %d, %d; want %d, %d, %d", tc.server,
				s.Requests, s.Success, s.Errors, tc.requests, tc.success, tc.errs)
		}
		if d := s.Latency.P50 - tc.p50; d < -tc.p50/1000 || d > tc.p50/1000 { // 3 significant digits
			t.Errorf("%s: p50 = %v; want %v", tc.server, s.Latency.P50, tc.p50)
		}
		if by[tc.server].Histogram == "" {
			t.Errorf("%s: no histogram", tc.server)
		}
	}
	if got := by["app1"].Summary.StatusCodes["500"]; got != 3 {
		t.Errorf("app1 StatusCodes[500] = %d; want 3", got)
	}
	if got := by[results.Unattributed].Summary.StatusCodes["503"]; got != 4 {
		t.Errorf("unattributed StatusCodes[503] = %d; want 4 (<NOSRV>)", got)
	}
	// The share counts only responses that name a server.
	if got, want := rep.AppShare["app2"], 50.0/173; got != want {
		t.Errorf("AppShare[app2] = %v; want %v", got, want)
	}
	if _, ok := rep.AppShare[results.Unattributed]; ok {
		t.Errorf("AppShare = %v; want no unattributed entry", rep.AppShare)
	}
}

func TestConsumerBoundsServerNames(t *testing.T) {
	f := newFeeder(t)
	for i := range results.MaxServers + 10 {
		f.add(2, []string{fmt.Sprintf("s%03d", i)}, 200, "", time.Millisecond)
	}
	f.add(1, nil, 0, "timeout", time.Second)
	rep := f.report()
	if got, want := len(rep.Servers), results.MaxServers+2; got != want {
		t.Errorf("len(Servers) = %d; want %d (MaxServers, other, unattributed)", got, want)
	}
	if s := rep.Servers[len(rep.Servers)-2]; s.Server != results.OtherServers || s.Summary.Requests != 2*10 {
		t.Errorf("second to last bucket = %s with %d requests; want %s with 20", s.Server, s.Summary.Requests, results.OtherServers)
	}
	if got, want := serverSum(rep.Servers), rep.Summary.Requests; got != want {
		t.Errorf("per-server requests sum to %d; want %d", got, want)
	}
}

func TestMergeServers(t *testing.T) {
	var sets [][]results.ServerLatency
	var total uint64
	for i, lat := range []time.Duration{time.Millisecond, 3 * time.Millisecond} {
		f := newFeeder(t)
		f.add(100, []string{"app1"}, 200, "", lat)
		f.add(10*(i+1), []string{"app2"}, 200, "", 10*time.Millisecond)
		f.add(1, nil, 0, "timeout", time.Second)
		rep := f.report()
		sets = append(sets, rep.Servers)
		total += rep.Summary.Requests
	}
	got := MergeServers(sets...)
	if n := serverSum(got); n != total || n != 232 {
		t.Errorf("merged requests sum to %d; want %d = 232", n, total)
	}
	if len(got) != 3 || got[0].Server != "app1" || got[2].Server != results.Unattributed {
		t.Fatalf("MergeServers = %+v; want app1, app2, unattributed", got)
	}
	// app1: 100 at 1 ms and 100 at 3 ms: the merged p90 is 3 ms, which no
	// average of the trials' p90 would give.
	if q := got[0].Summary.Latency; q.P90 < 0.00299 || q.P90 > 0.00301 || q.Min > 0.00101 {
		t.Errorf("merged app1 latency = %+v; want min 1 ms, p90 3 ms", q)
	}
	if s := got[1].Summary; s.Requests != 30 || s.Success != 30 || s.ServiceTime == nil {
		t.Errorf("merged app2 = %+v; want 30 successes with service time", s)
	}
	if s := got[2].Summary; s.Errors != 2 || s.ErrorKinds["timeout"] != 2 {
		t.Errorf("merged unattributed = %+v; want 2 timeouts", s)
	}
	if MergeServers() != nil {
		t.Error("MergeServers() != nil")
	}
}

func TestServedByHeaderMatchesConfig(t *testing.T) {
	if ServedByHeader != configgen.ServedByHeader {
		t.Errorf("load.ServedByHeader %q != configgen.ServedByHeader %q: HAProxy would set a header nobody reads",
			ServedByHeader, configgen.ServedByHeader)
	}
}

// TestMetricsPerServer: the per-server histogram counts every success of
// each server, as the report's per-server figures do.
func TestMetricsPerServer(t *testing.T) {
	t.Parallel()
	srv := twoApps(t, 0)
	m := NewMetrics()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(m); err != nil {
		t.Fatal(err)
	}
	rep := run(t, spec.Workload{Rate: 40, Duration: spec.Duration(1200 * time.Millisecond)}, srv.URL, WithMetrics(m))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != "duckbench_load_server_request_duration_seconds" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			for _, lp := range mt.GetLabel() {
				if lp.GetName() == "server" {
					got[lp.GetValue()] = mt.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	want := map[string]uint64{}
	for _, s := range rep.Servers {
		want[s.Server] = s.Summary.Success
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(got) != 2 {
		t.Errorf("duckbench_load_server_request_duration_seconds counts = %v; want %v (app1 and app2)", got, want)
	}
	// The exposition passes `promtool check metrics` (names, units, help).
	promtool := testenv.RequireBinary(t, "promtool", "prometheus")
	var text bytes.Buffer
	enc := expfmt.NewEncoder(&text, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = &text
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("promtool check metrics = %v:\n%s", err, out)
	}
}
