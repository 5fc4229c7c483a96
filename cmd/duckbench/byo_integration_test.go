//go:build integration

package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/internal/testenv"
)

// Debian's own configs, read where they lie.
const (
	debianHAProxy = "/etc/haproxy/haproxy.cfg"
	debianRedis   = "/etc/redis/redis.conf"
)

// byoSpec is Debian's haproxy.cfg plus examples/byo/<web>, and Debian's
// redis.conf for a master and a replica; every port auto.
const byoSpec = `name: %s
haproxy:
  config_file: [%s, %s]
  port: auto
  prometheus: {port: auto}
redis:
  config_file: %s
  master: {port: auto}
  replicas:
    - {port: auto}
load:
  duration: 3s
  rate: 100
  targets:
    - {path: "/kv/{key}", weight: 3}
    - {path: "/api/kv/{key}"}
`

func needDebianConfigs(t *testing.T) {
	t.Helper()
	for _, p := range []string{debianHAProxy, debianRedis} {
		if _, err := os.Stat(p); err != nil {
			testenv.Unavailable(t, "Debian's "+p+" is not on this machine (apt-get install haproxy redis-server)")
		}
	}
}

func byoSpecFile(t *testing.T, dir, name, web string) string {
	t.Helper()
	webPath, err := filepath.Abs("../../examples/byo/" + web)
	if err != nil {
		t.Fatal(err)
	}
	return writeSpec(t, dir, name+".yaml", fmt.Sprintf(byoSpec, name, debianHAProxy, webPath, debianRedis))
}

// linesOf lists "file:N" of each line of path whose first word is one of
// words: an independent reading of the file (first field, '#' lines skipped).
func linesOf(t *testing.T, path string, words ...string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 || strings.HasPrefix(fs[0], "#") {
			continue
		}
		for _, w := range words {
			if strings.EqualFold(fs[0], w) && !(w == "stats" && (len(fs) < 2 || fs[1] != "socket")) {
				out = append(out, fmt.Sprintf("%s:%d", path, n))
			}
		}
	}
	return out
}

// TestBYODebianConfigs: the done-when of issue 23. Debian's haproxy.cfg with
// a frontend and backends of ours after it, Debian's redis.conf on a master
// and a replica: validate accepts it (haproxy -c, redis-server), render
// --explain names every line the lab owns, run serves load attributed per
// server with the file's weights and replicates, and ab between two
// versions of our file that differ in one balance line prints the comparison.
func TestBYODebianConfigs(t *testing.T) {
	needDebianConfigs(t)
	bin := itBinary(t)
	dir := itDir(t)
	a := byoSpecFile(t, dir, "byo-rr", "web.cfg")
	b := byoSpecFile(t, dir, "byo-lc", "web-leastconn.cfg")

	if code, stdout, stderr := itRun(t, bin, "validate", a, b); code != 0 {
		t.Fatalf("validate: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr := itRun(t, bin, "render", a, "-o", filepath.Join(dir, "render"), "--explain")
	if code != 0 {
		t.Fatalf("render --explain: exit %d\n%s", code, stderr)
	}
	// Every line the lab owns, found by reading the files independently.
	owned := append(linesOf(t, debianHAProxy, "daemon", "chroot", "user", "group", "stats"),
		linesOf(t, debianRedis, "port", "bind", "dir", "daemonize", "pidfile", "logfile")...)
	if len(owned) < 8 {
		t.Fatalf("found %d lab-owned lines in Debian's files; want at least 8: %q", len(owned), owned)
	}
	for _, at := range owned {
		if !strings.Contains(stdout, at+" → ") {
			t.Errorf("render --explain does not list %s\n%s", at, stdout)
		}
	}

	res := filepath.Join(dir, "results")
	code, stdout, stderr = itRun(t, bin, "run", a, "-q", "--results", res, "--run-dir", filepath.Join(dir, "run"), "--exporter-listen", "127.0.0.1:0")
	if code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, tail(stderr, 20))
	}
	r, _ := onlyResult(t, res)
	got := map[string]uint64{}
	var total uint64
	for _, s := range r.Servers {
		got[s.Server] = s.Summary.Requests
		total += s.Summary.Requests
	}
	// web.cfg: web1 weight 2, web2 weight 1 under roundrobin; the load's
	// mix sends 3 of 4 requests to backend web (a binomial draw: ±0.08 is
	// over 3.5 standard deviations at 300 requests).
	web := got["web1"] + got["web2"]
	if web == 0 || got["api1"] == 0 || got["api2"] == 0 {
		t.Fatalf("per-server requests %v; want every server of web.cfg to answer", got)
	}
	if share := float64(got["web1"]) / float64(web); math.Abs(share-2.0/3) > 0.02 {
		t.Errorf("web1's share of backend web = %.3f; want 2/3 (weights 2:1 in web.cfg)", share)
	}
	if share := float64(web) / float64(total); math.Abs(share-0.75) > 0.08 {
		t.Errorf("backend web's share = %.3f; want 0.75 (target weights 3:1)", share)
	}
	if len(r.Replication) != 1 || r.Replication[0].HeartbeatSamples == 0 {
		t.Errorf("replication %+v; want heartbeats delivered to the one replica", r.Replication)
	}

	code, stdout, stderr = itRun(t, bin, "ab", a, b, "--rounds", "4", "--duration", "1s", "--cooldown", "200ms", "-q",
		"--exporter-listen", "127.0.0.1:0", "--results", filepath.Join(dir, "ab"), "--run-dir", filepath.Join(dir, "run-ab"))
	if code != 0 && code != 1 {
		t.Fatalf("ab: exit %d\n%s\n%s", code, stdout, tail(stderr, 20))
	}
	for _, want := range []string{"server p99 [web1]", "server p99 [api2]", "share skew [web]", "p99 "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("ab's comparison lacks %q\n%s", want, stdout)
		}
	}
}
