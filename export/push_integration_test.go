//go:build integration

package export_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/dashboards"
	"github.com/duckbench/duckbench/export/pushgw"
	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/results"
)

// pushStack is a real Prometheus (remote-write receiver, native
// histograms, scraping the Pushgateway) and a real Pushgateway.
type pushStack struct {
	PromURL, PushURL string
}

// startPushStack starts Debian's prometheus and prometheus-pushgateway on
// free loopback ports, stopped when t ends.
func startPushStack(t *testing.T, dir string) pushStack {
	t.Helper()
	promBin := testenv.RequireBinary(t, "prometheus", "prometheus")
	pgwBin := testenv.RequireBinary(t, "prometheus-pushgateway", "prometheus-pushgateway")
	pgwAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	promAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	start(t, dir, "pushgateway", pgwBin, "--web.listen-address="+pgwAddr, "--persistence.file=")
	cfg := filepath.Join(dir, "prometheus.yml")
	yml := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: pushgateway
    honor_labels: true
    static_configs: [{targets: [%q]}]
`, pgwAddr)
	if err := os.WriteFile(cfg, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, dir, "prometheus", promBin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr, "--web.enable-remote-write-receiver", "--enable-feature=native-histograms")
	testenv.WaitHTTP(t, "http://"+pgwAddr+"/-/ready", 30*time.Second)
	testenv.WaitHTTP(t, "http://"+promAddr+"/-/ready", 30*time.Second)
	return pushStack{PromURL: "http://" + promAddr, PushURL: "http://" + pgwAddr}
}

func start(t *testing.T, dir, name, bin string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait(); logf.Close() })
}

// instant runs an instant query and returns each series' labels and value.
func instant(t *testing.T, promURL, expr string) []vectorSample {
	t.Helper()
	resp, err := http.Get(promURL + "/api/v1/query?" + url.Values{"query": {expr}}.Encode())
	if err != nil {
		t.Fatalf("query %s: %v", expr, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
		t.Fatalf("query %s: %v %s", expr, err, body)
	}
	var out []vectorSample
	for _, s := range r.Data.Result {
		v, _ := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
		out = append(out, vectorSample{s.Metric, v})
	}
	return out
}

type vectorSample struct {
	Metric map[string]string
	Value  float64
}

// one returns the single value of expr, failing when there is not one.
func one(t *testing.T, promURL, expr string) float64 {
	t.Helper()
	got := instant(t, promURL, expr)
	if len(got) != 1 {
		t.Fatalf("query %s returned %d series; want 1: %v", expr, len(got), got)
	}
	return got[0].Value
}

func buildDuckbench(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "duckbench")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/duckbench").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

const pushSpec = `name: pushed
redis:
  master: {port: auto}
  replicas: [{port: auto}]
apps:
  - {name: app1, port: auto}
  - {name: app2, port: auto}
haproxy:
  port: auto
  prometheus: {port: auto}
  backends:
    - name: apps
      servers: [{app: app1}, {app: app2}]
load:
  duration: 8s
  rate: 150
  keys: {count: 200}
  targets:
    - {path: "/kv/{key}", weight: 9}
    - {path: "/", weight: 1}
slo:
  p99: 2s
`

// TestPushRealPrometheus runs the real binary with --remote-write and
// --pushgateway against a real Prometheus and Pushgateway, then queries
// them back: the counts must equal result.json's, the p99 of the pushed
// native histogram must lie within 5 % of the report's (the HdrHistogram),
// and the Pushgateway's gauges must be the record's figures.
func TestPushRealPrometheus(t *testing.T) {
	testenv.RequireBinary(t, "haproxy", "")
	testenv.RequireBinary(t, "redis-server", "")
	dir := t.TempDir()
	ps := startPushStack(t, dir)
	bin := buildDuckbench(t, dir)
	specPath := filepath.Join(dir, "pushed.yaml")
	if err := os.WriteFile(specPath, []byte(pushSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	resultsDir := filepath.Join(dir, "results")
	run := exec.Command(bin, "run", specPath, "--quiet", "--exporter-listen", "off",
		"--results", resultsDir, "--run-dir", filepath.Join(dir, "run"),
		"--remote-write", ps.PromURL+"/api/v1/write", "--pushgateway", ps.PushURL,
		"--label", "commit=abc123", "--label", "branch=main")
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("duckbench run: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "0 dropped") {
		t.Errorf("run output does not report \"0 dropped\":\n%s", out)
	}
	files, _ := filepath.Glob(filepath.Join(resultsDir, "*", "result.json"))
	if len(files) != 1 {
		t.Fatalf("result.json files = %v; want one", files)
	}
	r, err := results.Load(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if r.Labels["commit"] != "abc123" || r.Labels["branch"] != "main" {
		t.Errorf("result.json labels = %v; want commit=abc123 branch=main", r.Labels)
	}
	sel := fmt.Sprintf(`run=%q,spec="pushed",spec_hash=%q,runtime=%q,commit="abc123",branch="main"`, r.ID, r.Spec.Hash, r.Runtime)
	checkRemoteWrite(t, ps.PromURL, sel, r)
	checkPushgateway(t, ps.PromURL, sel, r)
	checkHistoryBoard(t, ps, r)
	checkHistoryFromPrometheus(t, bin, ps, r)
}

// checkHistoryBoard pushes what only other commands push (a capacity
// record, history's change points) through the same code, then wants every
// query of the history board to return data from the real Prometheus.
func checkHistoryBoard(t *testing.T, ps pushStack, r *results.Result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	capRun := *r
	capRun.ID = r.ID + "-capacity"
	capRun.Capacity = &results.Capacity{SLO: "p99<=2s", Rate: 420}
	labels := map[string]string{"run": capRun.ID, "spec": r.Spec.Name, "spec_hash": r.Spec.Hash, "runtime": r.Runtime}
	if err := pushgw.Push(ctx, ps.PushURL, &capRun, labels); err != nil {
		t.Fatal(err)
	}
	cps := []pushgw.ChangePoint{{AfterRun: r.ID, At: float64(r.StartedAt.Unix()), Change: 0.3, Regression: true}}
	if err := pushgw.PushChangePoints(ctx, ps.PushURL, r.Spec.Name, "p99", cps); err != nil {
		t.Fatal(err)
	}
	exprs := dashboards.AnnotationQueries()
	for _, q := range dashboards.HistoryQueries() {
		exprs = append(exprs, q.Expr)
	}
	deadline := time.Now().Add(15 * time.Second)
	for _, e := range exprs {
		expr, err := dashboards.Expand(e, nil)
		if err != nil {
			t.Fatal(err)
		}
		for len(instant(t, ps.PromURL, expr)) == 0 && time.Now().Before(deadline) {
			time.Sleep(500 * time.Millisecond) // the next scrape of the Pushgateway
		}
		if len(instant(t, ps.PromURL, expr)) == 0 {
			t.Errorf("history board query returned nothing from the pushed runs: %s", expr)
		}
	}
	if got := one(t, ps.PromURL, fmt.Sprintf(`%s{history_metric="p99",after_run=%q}`, pushgw.ChangePointAt, r.ID)); got != float64(r.StartedAt.Unix()) {
		t.Errorf("change point annotation time = %v; want %d (the run's start)", got, r.StartedAt.Unix())
	}
}

func checkRemoteWrite(t *testing.T, promURL, sel string, r *results.Result) {
	t.Helper()
	s := r.Summary
	exact := []struct {
		expr string
		want float64
	}{
		{fmt.Sprintf(`sum(duckbench_load_requests_total{%s})`, sel), float64(s.Requests)},
		{fmt.Sprintf(`sum(duckbench_load_requests_total{%s,code=~"[23].."})`, sel), float64(s.Success)},
		{fmt.Sprintf(`duckbench_load_request_duration_seconds_count{%s}`, sel), float64(s.Success)},
		{fmt.Sprintf(`histogram_count(duckbench_load_request_duration_seconds{%s})`, sel), float64(s.Success)},
		{fmt.Sprintf(`sum(histogram_count(duckbench_load_server_request_duration_seconds{%s}))`, sel), float64(s.Success)},
	}
	for _, c := range exact {
		if got := one(t, promURL, c.expr); got != c.want {
			t.Errorf("%s = %v; want %v (result.json)", c.expr, got, c.want)
		}
	}
	servers := instant(t, promURL, fmt.Sprintf(`histogram_count(duckbench_load_server_request_duration_seconds{%s})`, sel))
	if len(servers) != len(r.Servers) {
		t.Errorf("per-server histograms: %d series; result.json has %d servers", len(servers), len(r.Servers))
	}
	p99 := one(t, promURL, fmt.Sprintf(`histogram_quantile(0.99, duckbench_load_request_duration_seconds{%s})`, sel))
	t.Logf("p99: native histogram %.6fs, report %.6fs; requests %d, successes %d", p99, s.Latency.P99, s.Requests, s.Success)
	if rel := math.Abs(p99-s.Latency.P99) / s.Latency.P99; rel > 0.05 {
		t.Errorf("p99 of the pushed native histogram = %.6fs; report's %.6fs (%.1f %% apart; want ≤ 5 %%)", p99, s.Latency.P99, 100*rel)
	}
	for _, name := range []string{"duckbench_load_target_rate", "duckbench_load_achieved_rate", "duckbench_redis_replication_delay_seconds", "duckbench_redis_keyspace_hit_ratio"} {
		if got := instant(t, promURL, fmt.Sprintf(`%s{%s}`, name, sel)); len(got) == 0 {
			t.Errorf("%s: no series in Prometheus", name)
		}
	}
}

func checkPushgateway(t *testing.T, promURL, sel string, r *results.Result) {
	t.Helper()
	// Prometheus scrapes the Pushgateway every second.
	deadline := time.Now().Add(15 * time.Second)
	for len(instant(t, promURL, fmt.Sprintf(`%s{%s}`, pushgw.Requests, sel))) == 0 && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
	}
	s := r.Summary
	for _, c := range []struct {
		expr string
		want float64
	}{
		{fmt.Sprintf(`%s{%s,job="duckbench"}`, pushgw.Requests, sel), float64(s.Requests)},
		{fmt.Sprintf(`%s{%s}`, pushgw.Errors, sel), float64(s.Errors)},
		{fmt.Sprintf(`%s{%s,quantile="0.99"}`, pushgw.Latency, sel), s.Latency.P99},
		{fmt.Sprintf(`%s{%s,quantile="0.5"}`, pushgw.Latency, sel), s.Latency.P50},
		{fmt.Sprintf(`%s{%s}`, pushgw.Throughput, sel), s.Throughput},
		{fmt.Sprintf(`%s{%s}`, pushgw.SLOPass, sel), 1},
	} {
		if got := one(t, promURL, c.expr); got != c.want {
			t.Errorf("%s = %v; want %v (result.json)", c.expr, got, c.want)
		}
	}
}

// checkHistoryFromPrometheus reads the pushed runs back with
// `duckbench history --prometheus-url`: the run's p99 must be the record's.
func checkHistoryFromPrometheus(t *testing.T, bin string, ps pushStack, r *results.Result) {
	t.Helper()
	out, err := exec.Command(bin, "history", r.Spec.Name, "--prometheus-url", ps.PromURL, "--metric", "p99", "--json").Output()
	if err != nil {
		t.Fatalf("duckbench history --prometheus-url: %v\n%s", err, out)
	}
	var a struct {
		Points []struct {
			Run    string            `json:"run"`
			Value  float64           `json:"value"`
			Labels map[string]string `json:"labels"`
		} `json:"points"`
	}
	if err := json.Unmarshal(out, &a); err != nil {
		t.Fatalf("history --json: %v\n%s", err, out)
	}
	found := false
	for _, p := range a.Points {
		if p.Run == r.ID {
			found = true
			if p.Value != r.Summary.Latency.P99 || p.Labels["commit"] != "abc123" {
				t.Errorf("history point %+v; want p99 %v and commit=abc123 (result.json)", p, r.Summary.Latency.P99)
			}
		}
	}
	if !found {
		t.Errorf("history --prometheus-url: no point of run %s in %s", r.ID, out)
	}
}
