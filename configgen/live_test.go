//go:build integration

package configgen

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/syncbuf"
	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/spec"
)

// TestHAProxyLive starts the real HAProxy on a rendered cache-weighted
// config in front of two fake apps and checks what the probes rely on: the
// 3:1 split, cache lookups and hits counted on the backend (Runtime API
// show stat over the mode-600 unix socket), the built-in Prometheus
// exporter, and the stats page password taken from the environment.
func TestHAProxyLive(t *testing.T) {
	testenv.RequireBinary(t, "haproxy", "")
	var served [2]atomic.Int64
	var apps [2]*httptest.Server
	for i := range apps {
		apps[i] = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/healthz" {
				served[i].Add(1)
			}
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("X-Served-By", fmt.Sprintf("own-name-%d", i+1))
			fmt.Fprintf(w, "value of %s\n", r.URL.Path)
		}))
		defer apps[i].Close()
	}
	s := cacheWeightedSpec()
	for i := range s.Apps {
		s.Apps[i].Port = spec.Port(apps[i].Listener.Addr().(*net.TCPAddr).Port)
	}
	s.HAProxy.Backends[0].Servers[0].Maxconn = 0
	s.HAProxy.Port, s.HAProxy.Prometheus.Port = spec.Port(testenv.FreePort(t)), spec.Port(testenv.FreePort(t))
	s.HAProxy.StatsPage = spec.StatsPage{Enabled: true, Port: spec.Port(testenv.FreePort(t)), User: "admin", PasswordEnv: "DB_TEST_STATS_PW"}

	runDir, err := os.MkdirTemp("", "dbh-") // short: unix socket path limit
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(runDir)
	tgt := Target{Runtime: "local", RunDir: runDir}
	f, err := Render(s, tgt)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.WriteDir(runDir); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "haproxy", "-db", "-f", filepath.Join(runDir, HAProxyFile))
	cmd.Env = append(os.Environ(), "DB_TEST_STATS_PW=pw with space")
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	base := fmt.Sprintf("http://127.0.0.1:%d", s.HAProxy.Port)
	get := func(url string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			return nil, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	waitServersUp(t, tgt.StatsSocketPath(), out, "apps/app1", "apps/app2")
	if fi, err := os.Stat(tgt.StatsSocketPath()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("stats socket mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}

	// 40 distinct URLs (40 misses), then one URL 10 times (1 miss + 9 hits).
	// HAProxy's X-Served-By replaces the apps' own: the server's name, or
	// <CACHE> for a cache hit.
	servedBy := map[string]int{}
	for i := 0; i < 40; i++ {
		resp, _ := get(fmt.Sprintf("%s/kv/k%d", base, i))
		if resp == nil || resp.StatusCode != 200 {
			t.Fatalf("GET /kv/k%d = %v", i, resp)
		}
		servedBy[strings.Join(resp.Header.Values("X-Served-By"), ",")]++
	}
	for i := 0; i < 10; i++ {
		if resp, _ := get(base + "/kv/hot"); resp != nil {
			servedBy[strings.Join(resp.Header.Values("X-Served-By"), ",")]++
		}
	}
	if n1, n2, nc := servedBy["app1"], servedBy["app2"], servedBy["<CACHE>"]; n1+n2 != 41 || nc != 9 {
		t.Errorf("X-Served-By values %v; want app1 and app2 on 41 responses, <CACHE> on 9", servedBy)
	}
	if a, b := served[0].Load(), served[1].Load(); a+b != 41 || a < 29 || a > 32 {
		t.Errorf("apps served %d and %d requests; want 41 split 3:1", a, b)
	}
	be := showStat(t, tgt.StatsSocketPath())["apps/BACKEND"]
	if be["cache_lookups"] != "50" || be["cache_hits"] != "9" {
		t.Errorf("backend cache_lookups=%q cache_hits=%q; want 50 and 9", be["cache_lookups"], be["cache_hits"])
	}

	_, metrics := get(fmt.Sprintf("http://127.0.0.1:%d/metrics", s.HAProxy.Prometheus.Port))
	if !strings.Contains(metrics, `haproxy_backend_http_cache_hits_total{proxy="apps"} 9`) {
		t.Errorf("prometheus exporter lacks the backend's cache hits:\n%.2000s", metrics)
	}

	statsURL := fmt.Sprintf("http://127.0.0.1:%d/", s.HAProxy.StatsPage.Port)
	for _, tc := range []struct {
		pw   string
		want int
	}{{"pw with space", 200}, {"wrong", 401}, {"${DB_TEST_STATS_PW}", 401}} {
		req, _ := http.NewRequest("GET", statsURL, nil)
		req.SetBasicAuth("admin", tc.pw)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("stats page with password %q = %d; want %d", tc.pw, resp.StatusCode, tc.want)
		}
	}
}

// waitServersUp waits (at most 10 s) until HAProxy's health checks have
// every server ("backend/server") UP; haproxyOut is shown if not.
func waitServersUp(t *testing.T, socket string, haproxyOut fmt.Stringer, servers ...string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		rows := showStat(t, socket)
		up := true
		for _, sv := range servers {
			up = up && rows[sv]["status"] == "UP"
		}
		if up {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("servers not UP: %v\n%s", rows, haproxyOut.String())
		}
	}
}

// showStat asks the Runtime API for "show stat" and keys rows by
// "pxname/svname", columns by header name.
func showStat(t *testing.T, sock string) map[string]map[string]string {
	t.Helper()
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return nil
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "show stat\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	head, err := br.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	cols := strings.Split(strings.TrimPrefix(strings.TrimSpace(head), "# "), ",")
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1
	recs, _ := r.ReadAll()
	rows := map[string]map[string]string{}
	for _, rec := range recs {
		row := map[string]string{}
		for i, v := range rec {
			if i < len(cols) {
				row[cols[i]] = v
			}
		}
		rows[row["pxname"]+"/"+row["svname"]] = row
	}
	return rows
}
