//go:build integration

package dashboards

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/testenv"
)

// promResult is the part of a Prometheus API answer the tests read.
type promResult struct {
	Status    string `json:"status"`
	Error     string `json:"error"`
	ErrorType string `json:"errorType"`
	Data      struct {
		ResultType string            `json:"resultType"`
		Result     []json.RawMessage `json:"result"`
	} `json:"data"`
}

// promAPI calls Prometheus' HTTP API endpoint (e.g. "query_range") with
// the values v and returns its result array, failing unless it succeeded.
func promAPI(ctx context.Context, promURL, endpoint string, v url.Values) ([]json.RawMessage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(promURL, "/")+"/api/v1/"+endpoint+"?"+v.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("build query: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("query prometheus: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read prometheus answer: %w", err)
	}
	var r promResult
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("decode prometheus answer %q: %w", body, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("prometheus: %s: %s", r.ErrorType, r.Error)
	}
	return r.Data.Result, nil
}

// rangeValues is the query_range form of expr over [start, end].
func rangeValues(expr string, start, end time.Time, step time.Duration) url.Values {
	v := url.Values{}
	v.Set("query", expr)
	v.Set("start", strconv.FormatInt(start.Unix(), 10))
	v.Set("end", strconv.FormatInt(end.Unix(), 10))
	v.Set("step", strconv.FormatFloat(step.Seconds(), 'f', -1, 64))
	return v
}

// queryRange evaluates expr over [start, end] through Prometheus' HTTP API and
// returns the number of series that have at least one sample.
func queryRange(ctx context.Context, promURL, expr string, start, end time.Time, step time.Duration) (int, error) {
	res, err := promAPI(ctx, promURL, "query_range", rangeValues(expr, start, end, step))
	return len(res), err
}

// evalQueries evaluates each query (variables expanded with vars) over the
// window and returns one message per query that fails or returns no series.
func evalQueries(ctx context.Context, promURL string, qs []Query, vars map[string]string, start, end time.Time) []string {
	var failures []string
	for _, q := range qs {
		expr, err := Expand(q.Expr, vars)
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s / %s / %s: %v", q.Dashboard, q.Panel, q.RefID, err))
			continue
		}
		n, err := queryRange(ctx, promURL, expr, start, end, 5*time.Second)
		switch {
		case err != nil:
			failures = append(failures, fmt.Sprintf("%s / %s / %s: %v\n    %s", q.Dashboard, q.Panel, q.RefID, err, expr))
		case n == 0:
			failures = append(failures, fmt.Sprintf("%s / %s / %s: no series\n    %s", q.Dashboard, q.Panel, q.RefID, expr))
		}
	}
	return failures
}

// startHAProxy runs the real haproxy with its Prometheus exporter, a cached
// backend of two servers, and an origin it serves itself. It returns the
// load URL and the exporter URL.
func startHAProxy(t *testing.T) (loadURL, metricsURL string) {
	t.Helper()
	bin := testenv.RequireBinary(t, "haproxy", "")
	dir := t.TempDir()
	fe, prom, o1, o2 := testenv.FreePort(t), testenv.FreePort(t), testenv.FreePort(t), testenv.FreePort(t)
	cfg := fmt.Sprintf(`global
  log stderr format raw local0 err
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
cache c_app
  total-max-size 4
  max-age 60
frontend prometheus
  bind 127.0.0.1:%[2]d
  http-request use-service prometheus-exporter if { path /metrics }
frontend fe_app
  bind 127.0.0.1:%[1]d
  default_backend be_app
backend be_app
  balance roundrobin
  http-request cache-use c_app
  http-response cache-store c_app
  server app1 127.0.0.1:%[3]d check inter 1s
  server app2 127.0.0.1:%[4]d check inter 1s
frontend origin
  bind 127.0.0.1:%[3]d
  bind 127.0.0.1:%[4]d
  http-request return status 200 content-type text/plain string "ok" hdr cache-control "max-age=30"
`, fe, prom, o1, o2)
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start haproxy: %v", err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	metricsURL = fmt.Sprintf("http://127.0.0.1:%d/metrics", prom)
	testenv.WaitHTTP(t, metricsURL, 10*time.Second)
	return fmt.Sprintf("http://127.0.0.1:%d/", fe), metricsURL
}

// scrapeNames returns the metric family names of a Prometheus text exposition.
func scrapeNames(t *testing.T, u string) map[string]bool {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("scrape %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "# TYPE ") {
			if f := strings.Fields(line); len(f) >= 3 {
				names[f[2]] = true
			}
		}
	}
	return names
}

// nativeMetricsUsed lists the haproxy_* metrics the dashboards and rules select.
func nativeMetricsUsed(t *testing.T) []string {
	t.Helper()
	set := map[string]bool{}
	exprs := []string{}
	for _, q := range Queries() {
		exprs = append(exprs, q.Expr)
	}
	groups, err := Rules()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	for _, e := range exprs {
		ms, err := metricsOf(e)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if strings.HasPrefix(m, "haproxy_") {
				set[m] = true
			}
		}
	}
	var out []string
	for m := range set {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// TestHAProxyNativeMetricList checks haproxy_metrics.txt against the metrics
// the installed haproxy really exposes (rewritten with -update), and that
// every haproxy_* metric a dashboard or rule uses is among them.
func TestHAProxyNativeMetricList(t *testing.T) {
	_, metricsURL := startHAProxy(t)
	live := scrapeNames(t, metricsURL)
	if *update {
		out, err := exec.Command("haproxy", "-v").Output()
		if err != nil {
			t.Fatal(err)
		}
		version := strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
		var names []string
		for n := range live {
			names = append(names, n)
		}
		sort.Strings(names)
		text := "# Metric families exposed by " + version + "'s built-in exporter\n" +
			"# (http-request use-service prometheus-exporter), one name a line.\n" +
			"# Refresh: go test -tags integration -run TestHAProxyNativeMetricList -update ./dashboards\n" +
			strings.Join(names, "\n") + "\n"
		if err := os.WriteFile("haproxy_metrics.txt", []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, m := range nativeMetricsUsed(t) {
		if !live[m] {
			t.Errorf("dashboards/rules use %s; the installed haproxy does not expose it", m)
		}
	}
	var missing []string
	for _, m := range HAProxyNativeMetrics() {
		if !live[m] {
			missing = append(missing, m)
		}
	}
	if len(missing) > 0 {
		t.Errorf("haproxy_metrics.txt lists %d metrics the installed haproxy does not expose (refresh with -update): %v", len(missing), missing)
	}
}

// TestPrometheusScrapesHAProxy runs the real Prometheus with PrometheusConfig
// and WriteRules against the real haproxy under load, then checks that the
// rules load and that every dashboard query on HAProxy's own metrics
// returns data.
func TestPrometheusScrapesHAProxy(t *testing.T) {
	promBin := testenv.RequireBinary(t, "prometheus", "prometheus")
	loadURL, metricsURL := startHAProxy(t)
	dir := t.TempDir()
	rulesDir := filepath.Join(dir, "rules")
	if _, err := WriteRules(rulesDir); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, PrometheusConfig([]string{HAProxyJob + "=" + metricsURL}, rulesDir), 0o644); err != nil {
		t.Fatal(err)
	}
	listen := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, promBin, PrometheusArgs(cfg, filepath.Join(dir, "tsdb"), listen)...)
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start prometheus: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		logf.Close()
		if t.Failed() {
			data, _ := os.ReadFile(logf.Name())
			t.Logf("prometheus log:\n%s", data)
		}
	})
	promURL := "http://" + listen
	testenv.WaitHTTP(t, promURL+"/-/ready", 20*time.Second)

	// Bounded load: 20 req/s for the whole test.
	loadCtx, stopLoad := context.WithCancel(context.Background())
	defer stopLoad()
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-loadCtx.Done():
				return
			case <-tick.C:
				if resp, err := http.Get(fmt.Sprintf("%sk%d", loadURL, i%4)); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}
	}()

	var native []Query
	for _, q := range Queries() {
		ms, err := metricsOf(q.Expr)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) > 0 && strings.HasPrefix(ms[0], "haproxy_") {
			native = append(native, q)
		}
	}
	if len(native) < 4 {
		t.Fatalf("found %d panel queries on haproxy_* metrics; want ≥ 4", len(native))
	}
	// Three scrapes at 5s give every rate() two points.
	start := time.Now()
	var failures []string
	for deadline := start.Add(40 * time.Second); ; {
		time.Sleep(5 * time.Second)
		qctx, qcancel := context.WithTimeout(context.Background(), 20*time.Second)
		failures = evalQueries(qctx, promURL, native, map[string]string{VarRateWindow: "30s"}, start.Add(-time.Minute), time.Now())
		qcancel()
		if len(failures) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("%d HAProxy exporter panel queries returned data after %s", len(native)-len(failures), time.Since(start).Round(time.Second))

	checkRulesLoaded(t, promURL)
}

// checkRulesLoaded: Prometheus at promURL loaded every rule group, and no
// rule evaluates with an error.
func checkRulesLoaded(t *testing.T, promURL string) {
	t.Helper()
	resp, err := http.Get(promURL + "/api/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rules struct {
		Data struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Name      string `json:"name"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rules); err != nil {
		t.Fatal(err)
	}
	want, err := Rules()
	if err != nil {
		t.Fatal(err)
	}
	if len(rules.Data.Groups) != len(want) {
		t.Errorf("prometheus loaded %d rule groups; want %d", len(rules.Data.Groups), len(want))
	}
	for _, g := range rules.Data.Groups {
		for _, r := range g.Rules {
			if r.Health == "err" {
				t.Errorf("rule %s/%s: %s", g.Name, r.Name, r.LastError)
			}
		}
	}
}
