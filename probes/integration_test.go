//go:build integration

package probes_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/probes"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

// startProc starts a program whose lifetime is the test's.
func startProc(t *testing.T, dir, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	logf, err := os.Create(filepath.Join(dir, filepath.Base(name)+"-"+strconv.Itoa(time.Now().Nanosecond())+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
	})
	return cmd
}

func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type redisProc struct {
	name, addr string
	cmd        *exec.Cmd
}

func startRedis(t *testing.T, dir, name string, master *redisProc) *redisProc {
	t.Helper()
	return startRedisAuth(t, dir, name, master, "")
}

// startRedisAuth starts a redis-server; with a password it sets requirepass
// and masterauth.
func startRedisAuth(t *testing.T, dir, name string, master *redisProc, password string) *redisProc {
	t.Helper()
	return startRedisOn(t, dir, name, testenv.FreePort(t), master, password)
}

// startRedisOn starts a redis-server on port (a restart reuses its port).
func startRedisOn(t *testing.T, dir, name string, port int, master *redisProc, password string) *redisProc {
	t.Helper()
	bin := testenv.RequireBinary(t, "redis-server", "")
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--dbfilename", name + ".rdb"}
	if master != nil {
		h, p, _ := net.SplitHostPort(master.addr)
		args = append(args, "--replicaof", h, p)
	}
	if password != "" {
		args = append(args, "--requirepass", password, "--masterauth", password)
	}
	r := &redisProc{name: name, addr: fmt.Sprintf("127.0.0.1:%d", port)}
	r.cmd = startProc(t, dir, bin, args...)
	c := redis.NewClient(&redis.Options{Addr: r.addr, Password: password})
	defer c.Close()
	waitFor(t, name+" ready", 15*time.Second, func() bool {
		if master == nil {
			return c.Ping(context.Background()).Err() == nil
		}
		s, err := c.Info(context.Background(), "replication").Result()
		return err == nil && strings.Contains(s, "master_link_status:up")
	})
	return r
}

// backendServer is an app stand-in: it answers 200 with Cache-Control max-age.
func backendServer(t *testing.T) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "hello %s\n", r.URL.Path)
	}))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

type haproxyProc struct {
	url, stats string
}

// startHAProxy runs HAProxy with backend "apps" (two servers, weights 3:1)
// and backend "cached" (cache on) for paths under /static.
func startHAProxy(t *testing.T, dir string) *haproxyProc {
	t.Helper()
	bin := testenv.RequireBinary(t, "haproxy", "")
	port := testenv.FreePort(t)
	sock := filepath.Join(dir, "admin.sock")
	a1, a2 := backendServer(t), backendServer(t)
	cfg := fmt.Sprintf(`global
    stats socket %s mode 600 level admin
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
cache objcache
    total-max-size 4
    max-age 60
frontend fe
    bind 127.0.0.1:%d
    use_backend cached if { path_beg /static }
    default_backend apps
backend apps
    balance roundrobin
    server app1 %s weight 3
    server app2 %s weight 1
backend cached
    http-request cache-use objcache
    http-response cache-store objcache
    server app1 %s
`, sock, port, a1, a2, a1)
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	startProc(t, dir, bin, "-db", "-f", path)
	waitFor(t, "haproxy stats socket", 15*time.Second, func() bool {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return &haproxyProc{url: fmt.Sprintf("http://127.0.0.1:%d", port), stats: sock}
}

func get(t *testing.T, u string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// gauge reads one labelled sample of a collector's output.
func gauge(t *testing.T, c prometheus.Collector, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			if m.Gauge != nil {
				return m.GetGauge().GetValue(), true
			}
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

func TestHAProxyShareAndCache(t *testing.T) {
	dir := t.TempDir()
	hp := startHAProxy(t, dir)
	ep := stack.Endpoints{HAProxy: stack.HAProxyEndpoint{URL: hp.url, Stats: hp.stats}}
	m, err := probes.NewMonitor(ep, probes.Options{Interval: 200 * time.Millisecond,
		Backends: []spec.Backend{{Name: "apps"}, {Name: "cached", Cache: true}}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	if err := m.Start(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		get(t, fmt.Sprintf("%s/page/%d", hp.url, i))
	}
	// 5 cacheable URLs, 4 times each: 5 misses (stored) then 15 hits.
	for range 4 {
		for u := range 5 {
			get(t, fmt.Sprintf("%s/static/%d", hp.url, u))
		}
	}
	time.Sleep(300 * time.Millisecond)
	m.Stop(ctx)
	var r results.Result
	m.Fill(&r)

	share := map[string]float64{}
	for _, s := range r.Backends {
		share[s.Backend+"/"+s.Server] = s.ShareRatio
	}
	if share["apps/app1"] != 0.75 || share["apps/app2"] != 0.25 {
		t.Errorf("Fill: share = %v; want apps/app1 0.75, apps/app2 0.25", share)
	}
	if len(r.Caches) != 1 || r.Caches[0].Lookups != 20 || r.Caches[0].Hits != 15 || r.Caches[0].HitRatio != 0.75 {
		t.Errorf("Fill: caches = %+v; want cached 20 lookups, 15 hits, 0.75", r.Caches)
	}
	hc := m.Collectors()[0]
	want := `
# HELP duckbench_haproxy_server_share_ratio The server's stot over the sum of its backend's servers' stot, since HAProxy started.
# TYPE duckbench_haproxy_server_share_ratio gauge
duckbench_haproxy_server_share_ratio{backend="apps",server="app1"} 0.75
duckbench_haproxy_server_share_ratio{backend="apps",server="app2"} 0.25
duckbench_haproxy_server_share_ratio{backend="cached",server="app1"} 1
# HELP duckbench_haproxy_backend_cache_hit_ratio cache_hits / cache_lookups since HAProxy started; NaN (0/0) before the first lookup or without a cache.
# TYPE duckbench_haproxy_backend_cache_hit_ratio gauge
duckbench_haproxy_backend_cache_hit_ratio{backend="apps"} NaN
duckbench_haproxy_backend_cache_hit_ratio{backend="cached"} 0.75
`
	if err := testutil.CollectAndCompare(hc, strings.NewReader(want),
		"duckbench_haproxy_server_share_ratio", "duckbench_haproxy_backend_cache_hit_ratio"); err != nil {
		t.Errorf("CollectAndCompare: %v", err)
	}
	t.Logf("result backends %+v caches %+v", r.Backends, r.Caches)
}

func redisEndpoints(master *redisProc, reps ...*redisProc) stack.Endpoints {
	ep := stack.Endpoints{Redis: []stack.RedisEndpoint{{Name: master.name, Role: "master", Addr: master.addr}}}
	for _, r := range reps {
		ep.Redis = append(ep.Redis, stack.RedisEndpoint{Name: r.name, Role: "replica", Addr: r.addr})
	}
	return ep
}

// writeLoad SETs 1 KiB values on the master at about rate/s until ctx ends.
func writeLoad(ctx context.Context, addr string, rate int) {
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	val := strings.Repeat("x", 1024)
	t := time.NewTicker(time.Second / time.Duration(rate))
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.Set(ctx, fmt.Sprintf("load:%d", i%500), val, 0)
		}
	}
}

func TestReplicaStall(t *testing.T) {
	dir := t.TempDir()
	master := startRedis(t, dir, "redis-master", nil)
	r1 := startRedis(t, dir, "redis-replica-1", master)
	r2 := startRedis(t, dir, "redis-replica-2", master)
	m, err := probes.NewMonitor(redisEndpoints(master, r1, r2), probes.Options{Interval: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const rate = 100 // 100 KiB/s of writes
	go writeLoad(ctx, master.addr, rate)
	if err := m.Start(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	rc := m.Collectors()[0]
	time.Sleep(1500 * time.Millisecond)
	before, _ := gauge(t, rc, "duckbench_redis_replication_delay_seconds", map[string]string{"replica": r1.name})

	// Stopped for 2s plus one heartbeat interval: the first heartbeat
	// published after SIGSTOP waits at least 2s.
	const stall = 2 * time.Second
	hb := probes.DefaultHeartbeatInterval
	if err := r1.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	time.Sleep(stall + hb)
	// Nothing arrives from a stopped replica: the gauge grows at scrape
	// time (the scrape itself waits out the stopped replica's INFO).
	during, _ := gauge(t, rc, "duckbench_redis_replication_delay_seconds", map[string]string{"replica": r1.name})
	if err := r1.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	stoppedFor := time.Since(stopped)
	var delay, lag float64
	waitFor(t, "replica-1 to recover", 10*time.Second, func() bool {
		delay, _ = gauge(t, rc, "duckbench_redis_replication_delay_seconds", map[string]string{"replica": r1.name})
		lag, _ = gauge(t, rc, "duckbench_redis_replication_offset_lag_bytes", map[string]string{"replica": r1.name})
		return delay < 0.05 && lag < rate*1024*1.5
	})
	time.Sleep(500 * time.Millisecond)
	m.Stop(ctx)
	var r results.Result
	// A timeline as long as the test: Fill adds probe figures to the
	// attack's seconds and makes none of its own.
	for sec := 0; sec < 120; sec++ {
		r.Timeline = append(r.Timeline, results.Second{T: sec})
	}
	r.Timeline[0].AchievedRate = 1
	m.Fill(&r)
	byName := map[string]results.ReplicaStats{}
	for _, s := range r.Replication {
		byName[s.Replica] = s
	}
	s1, s2 := byName[r1.name], byName[r2.name]
	t.Logf("delay before stall %.4fs, at the end of it %.3fs, after recovery %.4fs (offset lag %.0f B)", before, during, delay, lag)
	t.Logf("stalled %+v", s1)
	t.Logf("healthy %+v", s2)
	if during < stall.Seconds() {
		t.Errorf("stopped replica: delay gauge %.3fs after %v stopped; want ≥ %.3fs", during, stall+hb, stall.Seconds())
	}
	// The first heartbeat after SIGSTOP was published within one interval
	// of it and delivered after SIGCONT.
	if lo, hi := (stoppedFor - hb).Seconds(), stoppedFor.Seconds()+0.5; s1.DelayMaxSeconds < max(lo, stall.Seconds()) || s1.DelayMaxSeconds > hi {
		t.Errorf("stalled replica (stopped %v): delay max %.3fs; want %.3f–%.3fs", stoppedFor, s1.DelayMaxSeconds, max(lo, stall.Seconds()), hi)
	}
	if s1.HeartbeatsLost != 0 {
		t.Errorf("stalled replica: %d heartbeats lost; a stopped replica delivers them late, not never", s1.HeartbeatsLost)
	}
	if s1.MaxOffsetLagBytes < rate*1024*3/2 || s1.MaxOffsetLagBytes <= s2.MaxOffsetLagBytes {
		t.Errorf("stalled replica: max offset lag %d B (healthy %d B); want ≥ %d B and above the healthy one",
			s1.MaxOffsetLagBytes, s2.MaxOffsetLagBytes, rate*1024*3/2)
	}
	if s2.DelayMaxSeconds > 0.5 || s2.DelayP50Seconds > 0.01 {
		t.Errorf("healthy replica: delay p50 %.4fs max %.4fs; want < 10ms / 0.5s", s2.DelayP50Seconds, s2.DelayMaxSeconds)
	}
	if s1.HeartbeatSamples < 30 {
		t.Errorf("stalled replica: %d heartbeat samples; want ≥ 30", s1.HeartbeatSamples)
	}
	worst := 0.0
	for _, sec := range r.Timeline {
		worst = max(worst, sec.ReplicationDelay[r1.name])
	}
	if worst < 0.99*s1.DelayMaxSeconds || worst > 1.01*s1.DelayMaxSeconds || r.Timeline[0].AchievedRate != 1 { // HDR keeps 3 digits
		t.Errorf("timeline: worst delay %.3f (want %.3f), first entry %+v kept", worst, s1.DelayMaxSeconds, r.Timeline[0])
	}
}

func scrape(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// serveExporter serves the monitor's collectors on a free port.
func serveExporter(t *testing.T, ctx context.Context, m *probes.Monitor) string {
	t.Helper()
	reg, err := probes.NewRegistry(m.Collectors()...)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- probes.ServeListener(ctx, ln, reg) }()
	t.Cleanup(func() {
		if err := <-done; err != nil {
			t.Errorf("ServeListener = %v", err)
		}
	})
	go func() { _ = m.Run(ctx) }()
	return "http://" + ln.Addr().String()
}

func TestReplicaKilled(t *testing.T) {
	dir := t.TempDir()
	master := startRedis(t, dir, "redis-master", nil)
	r1 := startRedis(t, dir, "redis-replica-1", master)
	r2 := startRedis(t, dir, "redis-replica-2", master)
	m, err := probes.NewMonitor(redisEndpoints(master, r1, r2), probes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base := serveExporter(t, ctx, m)
	time.Sleep(500 * time.Millisecond)
	if code, body := scrape(t, base+"/metrics"); code != 200 || !strings.Contains(body, `duckbench_redis_replica_link_up{replica="redis-replica-2"} 1`) {
		t.Fatalf("before kill: GET /metrics = %d, link up of replica-2 missing:\n%s", code, body)
	}
	if err := r2.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	for range 3 { // the exporter keeps serving, scrape after scrape
		code, body := scrape(t, base+"/metrics")
		for _, want := range []string{
			`duckbench_redis_up{node="redis-replica-2",role="replica"} 0`,
			`duckbench_redis_replica_link_up{replica="redis-replica-2"} 0`,
			`duckbench_redis_up{node="redis-replica-1",role="replica"} 1`,
			`duckbench_redis_replica_link_up{replica="redis-replica-1"} 1`,
			`duckbench_probe_success{probe="redis"} 0`,
		} {
			if code != 200 || !strings.Contains(body, want) {
				t.Errorf("after kill: GET /metrics = %d; missing %q", code, want)
			}
		}
	}
	if code, body := scrape(t, base+"/"); code != 200 || !strings.Contains(body, `href="/metrics"`) {
		t.Errorf("GET / = %d %q; want a link to /metrics", code, body)
	}
}

// families is the metric contract of DESIGN.md (plus the delay histogram).
var families = []string{
	"duckbench_redis_up", "duckbench_redis_replica_link_up", "duckbench_redis_replication_offset_lag_bytes",
	"duckbench_redis_replication_ack_age_seconds", "duckbench_redis_replication_delay_seconds",
	"duckbench_redis_replication_delay_observed_seconds_bucket",
	"duckbench_redis_keyspace_hits_total", "duckbench_redis_keyspace_misses_total", "duckbench_redis_keyspace_hit_ratio",
	"duckbench_haproxy_server_up", "duckbench_haproxy_server_requests_total", "duckbench_haproxy_server_share_ratio",
	"duckbench_haproxy_http_responses_total", "duckbench_haproxy_backend_cache_lookups_total",
	"duckbench_haproxy_backend_cache_hits_total", "duckbench_haproxy_backend_cache_hit_ratio",
	"duckbench_probe_success", "duckbench_probe_duration_seconds",
}

func TestPrometheusScrapesExporter(t *testing.T) {
	promBin := testenv.RequireBinary(t, "prometheus", "")
	dir := t.TempDir()
	master := startRedis(t, dir, "redis-master", nil)
	r1 := startRedis(t, dir, "redis-replica-1", master)
	hp := startHAProxy(t, dir)
	ep := redisEndpoints(master, r1)
	ep.HAProxy = stack.HAProxyEndpoint{URL: hp.url, Stats: hp.stats}
	m, err := probes.NewMonitor(ep, probes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base := serveExporter(t, ctx, m)

	// Traffic for the ratios: keyspace hits and misses on the master, cache
	// lookups through HAProxy.
	c := redis.NewClient(&redis.Options{Addr: master.addr})
	defer c.Close()
	c.Set(ctx, "k", "v", 0)
	c.Get(ctx, "k")
	c.Get(ctx, "missing")
	for range 3 {
		get(t, hp.url+"/static/a")
		get(t, hp.url+"/page")
	}

	promPort := testenv.FreePort(t)
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: duckbench\n    static_configs:\n      - targets: [%q]\n",
		strings.TrimPrefix(base, "http://"))
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	startProc(t, dir, promBin, "--config.file", cfgPath, "--storage.tsdb.path", filepath.Join(dir, "tsdb"),
		"--web.listen-address", fmt.Sprintf("127.0.0.1:%d", promPort))
	api := fmt.Sprintf("http://127.0.0.1:%d", promPort)

	missing := families
	waitFor(t, "prometheus to hold a series of every family", 60*time.Second, func() bool {
		var still []string
		for _, f := range missing {
			if n := promQuery(api, f); n == 0 {
				still = append(still, f)
			}
		}
		missing = still
		return len(missing) == 0
	})
	if n := promQuery(api, `duckbench_haproxy_server_share_ratio{backend="apps"}`); n != 2 {
		t.Errorf("PromQL share ratio of backend apps: %d series; want 2", n)
	}
}

// promQuery runs an instant PromQL query and returns the number of series
// (0 on any error: the caller polls).
func promQuery(api, q string) int {
	resp, err := http.Get(api + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var out struct {
		Status string `json:"status"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if json.NewDecoder(resp.Body).Decode(&out) != nil || out.Status != "success" {
		return 0
	}
	return len(out.Data.Result)
}

func TestPasswordFromEnv(t *testing.T) {
	const pw = "duck-s3cret-pw"
	dir := t.TempDir()
	master := startRedisAuth(t, dir, "redis-master", nil, pw)
	r1 := startRedisAuth(t, dir, "redis-replica-1", master, pw)
	t.Setenv("DUCKBENCH_IT_REDIS_PW", pw)
	m, err := probes.NewMonitor(redisEndpoints(master, r1), probes.Options{PasswordEnv: "DUCKBENCH_IT_REDIS_PW"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base := serveExporter(t, ctx, m)
	time.Sleep(500 * time.Millisecond)
	_, body := scrape(t, base+"/metrics")
	for _, want := range []string{`duckbench_redis_up{node="redis-master",role="master"} 1`,
		`duckbench_redis_up{node="redis-replica-1",role="replica"} 1`, `duckbench_redis_replication_delay_seconds{replica="redis-replica-1"}`} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /metrics: missing %q", want)
		}
	}
	if strings.Contains(body, pw) {
		t.Error("GET /metrics shows the password")
	}
	// A wrong password: up 0, and the error does not echo the password.
	t.Setenv("DUCKBENCH_IT_REDIS_PW", "wrong-pw")
	bad, err := probes.NewMonitor(redisEndpoints(master), probes.Options{PasswordEnv: "DUCKBENCH_IT_REDIS_PW"})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if v, ok := gauge(t, bad.Collectors()[0], "duckbench_redis_up", map[string]string{"node": "redis-master"}); !ok || v != 0 {
		t.Errorf("wrong password: duckbench_redis_up = %v (present %v); want 0", v, ok)
	}
}

// TestPromtoolCheckMetrics lints the exporter's whole output, every family
// present (a replica with heartbeat readings, HAProxy with a cache), with
// `promtool check metrics`: any output is a failure.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := testenv.RequireBinary(t, "promtool", "")
	dir := t.TempDir()
	master := startRedis(t, dir, "redis-master", nil)
	r1 := startRedis(t, dir, "redis-replica-1", master)
	hp := startHAProxy(t, dir)
	ep := redisEndpoints(master, r1)
	ep.HAProxy = stack.HAProxyEndpoint{URL: hp.url, Stats: hp.stats}
	m, err := probes.NewMonitor(ep, probes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base := serveExporter(t, ctx, m)
	get(t, hp.url+"/static/a")
	var body string
	waitFor(t, "heartbeat readings in /metrics", 10*time.Second, func() bool {
		_, body = scrape(t, base+"/metrics")
		return strings.Contains(body, "duckbench_redis_replication_delay_observed_seconds_count")
	})
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("promtool check metrics = %v:\n%s", err, out)
	}
}
