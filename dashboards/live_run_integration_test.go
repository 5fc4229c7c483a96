//go:build integration

package dashboards

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/results"
)

// TestLiveRun is the live check end to end: the real duckbench
// binary runs a seed-like stack (cache on, so the cache panels have data)
// for 35 s while a real Prometheus scrapes duckbench's exporter and
// HAProxy's own; then every panel query of every dashboard must return at
// least one series. A panel that queries a metric nobody exports fails here.
func TestLiveRun(t *testing.T) {
	testenv.RequireBinary(t, "haproxy", "")
	testenv.RequireBinary(t, "redis-server", "")
	promBin := testenv.RequireBinary(t, "prometheus", "prometheus")
	dir := t.TempDir()

	bin := filepath.Join(dir, "duckbench")
	build := exec.Command("go", "build", "-o", bin, "../cmd/duckbench")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	exporter := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	haproxyProm := testenv.FreePort(t)
	specPath := filepath.Join(dir, "live.yaml")
	specYAML := fmt.Sprintf(`name: live
redis:
  master: {port: auto}
  replicas: [{port: auto}, {port: auto}]
apps:
  - {name: app1, port: auto}
  - {name: app2, port: auto}
haproxy:
  port: auto
  prometheus: {port: %d}
  backends:
    - name: apps
      cache: true
      servers: [{app: app1}, {app: app2}]
load:
  duration: 35s
  warmup: 8s   # unobserved: a scrape (every 5 s) sees the latency histogram empty
  rate: 100
  keys: {count: 200}
  targets:
    - {path: "/kv/{key}", weight: 3}
    - {path: "/", weight: 1}
`, haproxyProm)
	if err := os.WriteFile(specPath, []byte(specYAML), 0o644); err != nil {
		t.Fatal(err)
	}

	// Prometheus first, so that it scrapes the whole run.
	promDir := filepath.Join(dir, "prometheus")
	rulesDir := filepath.Join(promDir, "rules")
	if _, err := WriteRules(rulesDir); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(promDir, "prometheus.yml")
	targets := []string{DefaultJob + "=" + exporter, fmt.Sprintf("%s=127.0.0.1:%d", HAProxyJob, haproxyProm)}
	if err := os.WriteFile(cfg, PrometheusConfig(targets, rulesDir), 0o644); err != nil {
		t.Fatal(err)
	}
	promAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	prom := exec.CommandContext(ctx, promBin, PrometheusArgs(cfg, filepath.Join(promDir, "data"), promAddr)...)
	promLog, _ := os.Create(filepath.Join(dir, "prometheus.log"))
	prom.Stdout, prom.Stderr = promLog, promLog
	if err := prom.Start(); err != nil {
		cancel()
		t.Fatalf("start prometheus: %v", err)
	}
	t.Cleanup(func() { cancel(); prom.Wait(); promLog.Close() })
	testenv.WaitHTTP(t, "http://"+promAddr+"/-/ready", 30*time.Second)
	// Ready is not scraping: the scrape manager picks targets up seconds
	// later. Until it tries our exporter (and fails, nothing listens yet),
	// the run's first seconds could go unscraped and the dashboard's
	// window would start late.
	waitScrapeLoop(t, "http://"+promAddr, DefaultJob, 30*time.Second)

	start := time.Now()
	run := exec.Command(bin, "run", specPath, "--quiet",
		"--exporter-listen", exporter,
		"--results", filepath.Join(dir, "results"),
		"--run-dir", filepath.Join(dir, "run"))
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("duckbench run: %v\n%s", err, out)
	}
	end := time.Now()
	// One more scrape interval so the last samples are in.
	time.Sleep(6 * time.Second)

	qctx, qcancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer qcancel()
	qs := Queries()
	failures := evalQueries(qctx, "http://"+promAddr, qs, map[string]string{VarRateWindow: "30s"}, start, end)
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("%d of %d panel queries returned data from a real run (%s..%s)", len(qs)-len(failures), len(qs),
		start.Format(time.TimeOnly), end.Format(time.TimeOnly))
	if len(qs) < 20 {
		t.Errorf("only %d panel queries; the dashboards lost panels?", len(qs))
	}
	checkDashboardP99(qctx, t, "http://"+promAddr, filepath.Join(dir, "results"), start, time.Now())
}

// checkDashboardP99 wants the overview dashboard's p99 (its own query,
// over the whole run) within 5 % of the report's p99.
func checkDashboardP99(ctx context.Context, t *testing.T, promURL, resultsDir string, start, at time.Time) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(resultsDir, "*", "result.json"))
	if len(files) != 1 {
		t.Fatalf("result.json files = %v; want one", files)
	}
	r, err := results.Load(files[0])
	if err != nil {
		t.Fatal(err)
	}
	win := fmt.Sprintf("%ds", int(at.Sub(start).Seconds())+30)
	expr, err := Expand(latencyQuantile(0.99), map[string]string{VarRateWindow: win})
	if err != nil {
		t.Fatal(err)
	}
	got, err := queryScalar(ctx, promURL, expr, at)
	if err != nil {
		t.Fatalf("query %s: %v", expr, err)
	}
	want := r.Summary.Latency.P99
	native, errN := queryScalar(ctx, promURL, fmt.Sprintf("histogram_quantile(0.99, sum(rate(%s[%s])))", MetricLoadRequestDuration, win), at)
	classic, errC := queryScalar(ctx, promURL, fmt.Sprintf("histogram_quantile(0.99, sum by (le) (rate(%s_bucket[%s])))", MetricLoadRequestDuration, win), at)
	cnt, errCnt := queryScalar(ctx, promURL, fmt.Sprintf("histogram_count(sum(increase(%s[%s])))", MetricLoadRequestDuration, win), at)
	t.Logf("native histogram p99 %v (%v), classic buckets p99 %v (%v), count %v (%v; the report has %d successes; increase() extrapolates)",
		native, errN, classic, errC, cnt, errCnt, r.Summary.Success)
	t.Logf("p99: dashboard %.3gms, report %.3gms (%s)", got*1e3, want*1e3, expr)
	// The scraped cumulative count must start at zero (Prometheus saw the
	// histogram before the first measured request) and end at the report's
	// count (the exporter lingered for a final scrape); otherwise the
	// dashboard's window misses requests and the p99s cannot agree.
	counts, err := queryRangeValues(ctx, promURL, fmt.Sprintf("histogram_count(%s)", MetricLoadRequestDuration), start, at, time.Second)
	if err != nil || len(counts) == 0 {
		t.Fatalf("scraped counts: %v (%d samples)", err, len(counts))
	}
	t.Logf("scraped cumulative counts: %v", counts)
	if first, last := counts[0], counts[len(counts)-1]; first != 0 || last != float64(r.Summary.Success) {
		t.Errorf("scraped count went %v → %v; want 0 → %d (the report's successes)", first, last, r.Summary.Success)
	}
	if want <= 0 || math.Abs(got-want)/want > 0.05 {
		t.Errorf("dashboard p99 = %.4gms; want the report's %.4gms ±5%%", got*1e3, want*1e3)
	}
}

// queryScalar evaluates expr at `at` and returns the value of its one series.
func queryScalar(ctx context.Context, promURL, expr string, at time.Time) (float64, error) {
	v := url.Values{}
	v.Set("query", expr)
	v.Set("time", strconv.FormatInt(at.Unix(), 10))
	var series struct {
		Value [2]json.RawMessage `json:"value"`
	}
	if err := oneSeries(ctx, promURL, "query", v, &series); err != nil {
		return 0, err
	}
	return sampleValue(series.Value)
}

// queryRangeValues evaluates expr over [start, end] and returns the values
// of its one series, consecutive repeats dropped.
func queryRangeValues(ctx context.Context, promURL, expr string, start, end time.Time, step time.Duration) ([]float64, error) {
	var series struct {
		Values [][2]json.RawMessage `json:"values"`
	}
	if err := oneSeries(ctx, promURL, "query_range", rangeValues(expr, start, end, step), &series); err != nil {
		return nil, err
	}
	var out []float64
	for _, sv := range series.Values {
		f, err := sampleValue(sv)
		if err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1] != f {
			out = append(out, f)
		}
	}
	return out, nil
}

// oneSeries decodes the one series a query must return into out.
func oneSeries(ctx context.Context, promURL, endpoint string, v url.Values, out any) error {
	res, err := promAPI(ctx, promURL, endpoint, v)
	if err != nil {
		return err
	}
	if len(res) != 1 {
		return fmt.Errorf("%d series; want one", len(res))
	}
	return json.Unmarshal(res[0], out)
}

// sampleValue parses a [time, "value"] sample.
func sampleValue(s [2]json.RawMessage) (float64, error) {
	var sv string
	if err := json.Unmarshal(s[1], &sv); err != nil {
		return 0, err
	}
	return strconv.ParseFloat(sv, 64)
}

// waitScrapeLoop waits until Prometheus has tried to scrape a target of job
// (successfully or not).
func waitScrapeLoop(t *testing.T, promURL, job string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(promURL + "/api/v1/targets?state=active")
		if err == nil {
			var tr struct {
				Data struct {
					ActiveTargets []struct {
						ScrapePool string    `json:"scrapePool"`
						LastScrape time.Time `json:"lastScrape"`
					} `json:"activeTargets"`
				} `json:"data"`
			}
			err = json.NewDecoder(resp.Body).Decode(&tr)
			resp.Body.Close()
			for _, at := range tr.Data.ActiveTargets {
				if err == nil && at.ScrapePool == job && at.LastScrape.Year() > 2000 {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus did not try to scrape job %s within %s (last error: %v)", job, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
