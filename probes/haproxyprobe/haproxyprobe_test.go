package haproxyprobe

import (
	"bytes"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/duckbench/duckbench/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files")

// statFixture was captured from the real haproxy 2.6.12 (Debian 12): backend
// apps with app1 weight 3 and app2 weight 1, backend cached with the cache on
// and app3 down.
const statFixture = "../testdata/haproxy-2.6-show-stat.csv"

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseStat(t *testing.T) {
	rows, err := ParseStat(bytes.NewReader(readFixture(t, statFixture)))
	if err != nil {
		t.Fatalf("ParseStat = %v", err)
	}
	if got, want := len(rows), 7; got != want {
		t.Fatalf("ParseStat: %d rows; want %d", got, want)
	}
	type key struct{ px, sv string }
	byName := map[key]StatRow{}
	for _, r := range rows {
		byName[key{r.Proxy, r.Service}] = r
	}
	app1 := byName[key{"apps", "app1"}]
	if app1.Type != TypeServer || app1.Sessions != 17 || app1.Weight != 3 || !app1.Up() ||
		app1.Responses["2xx"] != 15 || app1.Responses["4xx"] != 1 || app1.Responses["5xx"] != 1 {
		t.Errorf("apps/app1 = %+v", app1)
	}
	if app3 := byName[key{"cached", "app3"}]; app3.Up() || app3.Status != "DOWN" {
		t.Errorf("cached/app3 status %q up=%v; want DOWN, false", app3.Status, app3.Up())
	}
	if be := byName[key{"cached", "BACKEND"}]; be.Type != TypeBackend || be.CacheLookups != 15 || be.CacheHits != 12 {
		t.Errorf("cached/BACKEND = lookups %d hits %d type %d; want 15 12 1", be.CacheLookups, be.CacheHits, be.Type)
	}
}

// Columns are found by name: shuffling them changes nothing.
func TestParseStatByHeaderName(t *testing.T) {
	in := "# svname,stot,extra_new_col,pxname,type,status,cache_hits,cache_lookups\n" +
		"s1,30,x,be,2,UP 1/3,,\n" +
		"s2,10,y,be,2,MAINT,,\n" +
		"BACKEND,40,z,be,1,UP,5,8\n"
	rows, err := ParseStat(strings.NewReader(in))
	if err != nil {
		t.Fatalf("ParseStat = %v", err)
	}
	servers, backends := Summarize(rows)
	if len(servers) != 2 || servers[0].Share != 0.75 || !servers[0].Up || servers[1].Up || servers[1].Share != 0.25 {
		t.Errorf("Summarize servers = %+v; want s1 0.75 up, s2 0.25 down", servers)
	}
	if len(backends) != 1 || backends[0].CacheHits != 5 || backends[0].CacheLookups != 8 {
		t.Errorf("Summarize backends = %+v", backends)
	}
}

func TestParseStatErrors(t *testing.T) {
	for name, in := range map[string]string{
		"empty":     "",
		"no header": "fe,FRONTEND,1\n",
		"unknown":   "Unknown command, but maybe one of the following ones is a better match:\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseStat(strings.NewReader(in)); err == nil {
				t.Errorf("ParseStat(%q) = nil error; want one", in)
			}
		})
	}
}

func FuzzParseStat(f *testing.F) {
	b, err := os.ReadFile(statFixture)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add("# pxname,svname,stot\nbe,s1,3\n")
	f.Add("# pxname,svname\n\"a,b\",\"c\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := ParseStat(strings.NewReader(in))
		if err != nil {
			return
		}
		servers, _ := Summarize(rows)
		for _, s := range servers {
			if s.Share < 0 || s.Share > 1 {
				t.Errorf("share %v out of [0,1] for %q", s.Share, in)
			}
		}
		for _, r := range rows {
			if r.Fields["pxname"] != r.Proxy {
				t.Errorf("Proxy %q != Fields[pxname] %q", r.Proxy, r.Fields["pxname"])
			}
		}
	})
}

func TestParseInfo(t *testing.T) {
	info, err := ParseInfo(bytes.NewReader(readFixture(t, "../testdata/haproxy-2.6-show-info.txt")))
	if err != nil {
		t.Fatalf("ParseInfo = %v", err)
	}
	if got, want := info["Version"], "2.6.12-1+deb12u4"; got != want {
		t.Errorf("Version = %q; want %q", got, want)
	}
}

// serveSocket answers every Runtime API command with reply on a unix socket.
func serveSocket(t *testing.T, reply []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "admin.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 256)
			_, _ = c.Read(buf)
			_, _ = c.Write(reply)
			c.Close()
		}
	}()
	return path
}

var exported = []string{
	"duckbench_haproxy_server_up", "duckbench_haproxy_server_requests_total", "duckbench_haproxy_server_share_ratio",
	"duckbench_haproxy_http_responses_total", "duckbench_haproxy_backend_cache_lookups_total",
	"duckbench_haproxy_backend_cache_hits_total", "duckbench_haproxy_backend_cache_hit_ratio", "duckbench_probe_success",
}

// collectGolden compares what c collects with testdata/haproxyprobe-<test>.prom.
func collectGolden(t *testing.T, c *Collector) {
	t.Helper()
	testenv.CollectGolden(t, c, filepath.Join("..", "testdata", "haproxyprobe-"+t.Name()+".prom"), *update, exported...)
}

func TestCollector(t *testing.T) {
	sock := serveSocket(t, readFixture(t, statFixture))
	collectGolden(t, NewCollector(NewClient(sock), time.Second))
}

// A dead socket gives probe_success 0 and nothing else, not an error.
func TestCollectorDown(t *testing.T) {
	c := NewCollector(NewClient(filepath.Join(t.TempDir(), "none.sock")), time.Second)
	collectGolden(t, c)
	if n := testutil.CollectAndCount(c); n != 2 {
		t.Errorf("CollectAndCount = %d; want 2 (success, duration)", n)
	}
}

func TestNewClient(t *testing.T) {
	for in, want := range map[string]string{
		"/run/h.sock": "unix:/run/h.sock", "unix:///run/h.sock": "unix:/run/h.sock", "unix:/a": "unix:/a",
		"127.0.0.1:9999": "tcp:127.0.0.1:9999", "tcp://localhost:1": "tcp:localhost:1", "admin.sock": "unix:admin.sock",
	} {
		if got := NewClient(in).Addr(); got != want {
			t.Errorf("NewClient(%q).Addr() = %q; want %q", in, got, want)
		}
	}
}

// TestStatRowReady: a stack waits until every server is Ready, which is
// stricter than Up (traffic still flows to a server going down).
func TestStatRowReady(t *testing.T) {
	rows, err := ParseStat(bytes.NewReader(readFixture(t, "../testdata/haproxy-show-stat-checks.csv")))
	if err != nil {
		t.Fatalf("ParseStat() = %v", err)
	}
	want := map[string]bool{"app1": true, "app2": false, "app3": true, "app4": true}
	n := 0
	for _, r := range rows {
		if r.Type != TypeServer {
			continue
		}
		n++
		if got := r.Ready(); got != want[r.Service] {
			t.Errorf("%s/%s (%q, %q).Ready() = %v; want %v", r.Proxy, r.Service, r.Status, r.Fields["check_status"], got, want[r.Service])
		}
	}
	if n != len(want) {
		t.Errorf("ParseStat() server rows = %d; want %d", n, len(want))
	}
	for _, c := range []struct {
		status, check string
		want          bool
	}{
		{"UP 1/3", "L7STS", false},  // Up (going down), not Ready
		{"DOWN 1/2", "L7OK", false}, // on its way up
		{"UP", "L6OK", true},
		{"MAINT", "", false},
	} {
		r := StatRow{Status: c.status, Fields: map[string]string{"check_status": c.check}}
		if got := r.Ready(); got != c.want {
			t.Errorf("StatRow{%q, %q}.Ready() = %v; want %v", c.status, c.check, got, c.want)
		}
	}
}
