package app

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// newTestApp runs an app against a miniredis master and n miniredis
// "replicas" (independent servers: tests seed them directly).
func newTestApp(t *testing.T, n int, mod func(*Config)) (*App, *miniredis.Miniredis, []*miniredis.Miniredis) {
	t.Helper()
	m := miniredis.RunT(t)
	var reps []*miniredis.Miniredis
	cfg := Config{Name: "app1", RedisMaster: m.Addr(), OriginCost: -1}
	for range n {
		r := miniredis.RunT(t)
		reps = append(reps, r)
		cfg.RedisReplicas = append(cfg.RedisReplicas, r.Addr())
	}
	if mod != nil {
		mod(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v) = %v", cfg, err)
	}
	t.Cleanup(func() { a.Close() })
	return a, m, reps
}

func do(t *testing.T, h http.Handler, method, path, body string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func readBody(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHello(t *testing.T) {
	a, _, _ := newTestApp(t, 0, nil)
	res := do(t, a, "GET", "/", "")
	if got, want := res.StatusCode, 200; got != want {
		t.Fatalf("GET / status = %d; want %d", got, want)
	}
	if got, want := res.Header.Get("X-Served-By"), "app1"; got != want {
		t.Errorf("GET / X-Served-By = %q; want %q", got, want)
	}
	if got := readBody(t, res); !strings.Contains(got, "app1") {
		t.Errorf("GET / body = %q; want it to name app1", got)
	}
	if got := do(t, a, "GET", "/nope", "").Header.Get("X-Served-By"); got != "app1" {
		t.Errorf("GET /nope X-Served-By = %q; want app1 on every response", got)
	}
}

func TestCacheAside(t *testing.T) {
	a, m, reps := newTestApp(t, 2, func(c *Config) { c.CacheTTL = 30 * time.Second })

	// Miss: computed, written to the master with the TTL.
	res := do(t, a, "GET", "/kv/k1", "")
	if got, want := res.Header.Get("X-Cache"), "miss"; got != want {
		t.Fatalf("first GET /kv/k1 X-Cache = %q; want %q", got, want)
	}
	if got, want := res.Header.Get("Cache-Control"), "public, max-age=30"; got != want {
		t.Errorf("GET /kv/k1 Cache-Control = %q; want %q", got, want)
	}
	if got, want := readBody(t, res), string(Value("k1")); got != want {
		t.Errorf("GET /kv/k1 body = %q; want %q", got, want)
	}
	v, err := m.Get("k1")
	if err != nil || v != string(Value("k1")) {
		t.Fatalf("master k1 = %q, %v; want %q", v, err, Value("k1"))
	}
	if got, want := m.TTL("k1"), 30*time.Second; got != want {
		t.Errorf("master TTL(k1) = %v; want %v", got, want)
	}

	// Hits come from the replicas, in turn.
	reps[0].Set("k2", "from-r1")
	reps[1].Set("k2", "from-r2")
	var bodies []string
	for range 4 {
		res := do(t, a, "GET", "/kv/k2", "")
		if got := res.Header.Get("X-Cache"); got != "hit" {
			t.Fatalf("GET /kv/k2 X-Cache = %q; want hit", got)
		}
		bodies = append(bodies, readBody(t, res))
	}
	// The miss above used one turn: the order starts at the second replica.
	if got, want := strings.Join(bodies, ","), "from-r2,from-r1,from-r2,from-r1"; got != want {
		t.Errorf("GET /kv/k2 ×4 bodies = %s; want %s (round-robin)", got, want)
	}
}

func TestReplicaDownFallsBackToMaster(t *testing.T) {
	a, m, reps := newTestApp(t, 1, nil)
	m.Set("k", "from-master")
	reps[0].Close()
	res := do(t, a, "GET", "/kv/k", "")
	if got, want := readBody(t, res), "from-master"; got != want {
		t.Errorf("GET /kv/k with replica down = %q; want %q", got, want)
	}
	if got, want := res.Header.Get("X-Cache"), "hit"; got != want {
		t.Errorf("X-Cache = %q; want %q", got, want)
	}
}

func TestNoReplicasReadsMaster(t *testing.T) {
	a, m, _ := newTestApp(t, 0, nil)
	m.Set("k", "v")
	if got := readBody(t, do(t, a, "GET", "/kv/k", "")); got != "v" {
		t.Errorf("GET /kv/k = %q; want v", got)
	}
}

func TestPut(t *testing.T) {
	a, m, _ := newTestApp(t, 1, nil)
	res := do(t, a, "PUT", "/kv/p", "hello")
	if got, want := res.StatusCode, http.StatusNoContent; got != want {
		t.Fatalf("PUT /kv/p status = %d; want %d", got, want)
	}
	if v, _ := m.Get("p"); v != "hello" {
		t.Errorf("master p = %q; want hello", v)
	}
	if got := do(t, a, "DELETE", "/kv/p", "").StatusCode; got != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /kv/p status = %d; want 405", got)
	}
}

func TestHealthz(t *testing.T) {
	tests := []struct {
		name       string
		kill       func(m *miniredis.Miniredis, reps []*miniredis.Miniredis)
		wantCode   int
		wantStatus string
	}{
		{"all up", func(*miniredis.Miniredis, []*miniredis.Miniredis) {}, 200, "ok"},
		{"replica down", func(_ *miniredis.Miniredis, r []*miniredis.Miniredis) { r[0].Close() }, 200, "degraded"},
		{"all down", func(m *miniredis.Miniredis, r []*miniredis.Miniredis) { m.Close(); r[0].Close() }, 503, "down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, m, reps := newTestApp(t, 1, nil)
			tt.kill(m, reps)
			res := do(t, a, "GET", "/healthz", "")
			if res.StatusCode != tt.wantCode {
				t.Errorf("GET /healthz status = %d; want %d", res.StatusCode, tt.wantCode)
			}
			var h Health
			if err := json.NewDecoder(res.Body).Decode(&h); err != nil {
				t.Fatalf("decode /healthz: %v", err)
			}
			if h.Status != tt.wantStatus || h.Name != "app1" {
				t.Errorf("/healthz = %+v; want status %q, name app1", h, tt.wantStatus)
			}
		})
	}
}

func TestMaxConcurrency(t *testing.T) {
	a, _, _ := newTestApp(t, 0, func(c *Config) { c.MaxConcurrency = 2; c.OriginCost = 200 * time.Millisecond })
	srv := httptest.NewServer(a)
	defer srv.Close()
	var wg sync.WaitGroup
	codes := make(chan int, 3)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := http.Get(srv.URL + "/kv/slow" + string(rune('a'+i)))
			if err == nil {
				codes <- res.StatusCode
				res.Body.Close()
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	res, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.StatusCode, http.StatusServiceUnavailable; got != want {
		t.Errorf("GET / with 2 in flight and cap 2 = %d; want %d", got, want)
	}
	if got := do(t, a, "GET", "/healthz", "").StatusCode; got != 200 {
		t.Errorf("GET /healthz at capacity = %d; want 200 (exempt)", got)
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Errorf("in-flight request status = %d; want 200", c)
		}
	}
	if got := do(t, a, "GET", "/", "").StatusCode; got != 200 {
		t.Errorf("GET / after load drained = %d; want 200", got)
	}
}

func TestRun(t *testing.T) {
	a, _, _ := newTestApp(t, 0, func(c *Config) { c.Listen = "127.0.0.1:0" })
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, func(ad net.Addr) { addrc <- ad }) }()
	addr := <-addrc
	res, err := http.Get("http://" + addr.String() + "/")
	if err != nil {
		t.Fatalf("GET / on Run: %v", err)
	}
	res.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel = %v; want nil", err)
	}
}

func BenchmarkGetHit(b *testing.B) {
	m := miniredis.RunT(b)
	m.Set("k", "value")
	a, _ := New(Config{Name: "b", RedisMaster: m.Addr()})
	defer a.Close()
	req := httptest.NewRequest("GET", "/kv/k", nil)
	b.ReportAllocs()
	for b.Loop() {
		a.ServeHTTP(httptest.NewRecorder(), req)
	}
}
