package configgen

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/spec"
)

// byoRender renders testdata/byo/byo.yaml with fixed ports and runDir
// (/run/db for goldens: deterministic paths); absolute testdata paths
// become <testdata> in the output.
func byoRender(t *testing.T, runDir string) (*Files, string) {
	t.Helper()
	for _, v := range []string{"EDGE_ADDR", "EDGE_ALT"} { // edge.cfg's variables: unset
		if old, ok := os.LookupEnv(v); ok {
			os.Unsetenv(v)
			t.Cleanup(func() { os.Setenv(v, old) })
		}
	}
	s, err := spec.Load("testdata/byo/byo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	next := spec.Port(30000)
	if err := s.ResolveAutoPorts(func(string) (spec.Port, error) { next++; return next, nil }); err != nil {
		t.Fatal(err)
	}
	f, err := Render(s, Target{Runtime: "local", RunDir: runDir})
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("testdata/byo")
	return f, abs
}

// TestRenderBYOGolden: a user's haproxy.cfg and redis.conf with the lab's
// rewrites, and render --explain's list.
func TestRenderBYOGolden(t *testing.T) {
	f, abs := byoRender(t, "/run/db")
	clean := func(b []byte) []byte { return []byte(strings.ReplaceAll(string(b), abs, "<testdata>")) }
	for _, name := range f.Names {
		b, _ := f.File(name)
		testenv.Golden(t, testenv.GoldenPath(t, "."+name+".golden"), clean(b), *update)
	}
	var ex strings.Builder
	for _, r := range f.Explain {
		ex.WriteString(r.String() + "\n")
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".explain.golden"), clean([]byte(ex.String())), *update)
}

// TestRenderBYORealBinaries: haproxy -c and redis-server accept the render,
// its TLS binds with the lab certificate written into the run dir.
func TestRenderBYORealBinaries(t *testing.T) {
	testenv.RequireBinary(t, "haproxy", "")
	testenv.RequireBinary(t, "redis-server", "")
	runDir := t.TempDir()
	f, _ := byoRender(t, runDir)
	if !f.LabTLS {
		t.Fatal("LabTLS = false; edge.cfg has TLS binds")
	}
	if err := f.WriteLabTLS(runDir); err != nil {
		t.Fatal(err)
	}
	if err := CheckHAProxy(context.Background(), f.HAProxy); err != nil {
		t.Fatal(err)
	}
	for node, b := range f.Redis {
		if err := CheckRedis(context.Background(), node, b); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRenderBYOErrors: what the lab cannot map is an error at the file's line.
func TestRenderBYOErrors(t *testing.T) {
	tests := []struct{ name, cfg, want string }{
		{"unix server", "frontend f\n  bind :80\nbackend b\n  server s /run/app.sock\n",
			`x.cfg:4: server on "/run/app.sock" is not a TCP address: the lab's apps listen on TCP only`},
		{"abstract server", "frontend f\n  bind :80\nbackend b\n  server-template s 2 abns@app\n",
			`x.cfg:4: server on "abns@app" is not a TCP address: the lab's apps listen on TCP only`},
		{"remote peers", "peers p\n  peer other 10.0.0.9:1024\nfrontend f\n  bind :80\nbackend b\n  server s 1.2.3.4:80\n",
			"x.cfg:2: peers p: the lab runs one HAProxy and cannot stand in for peer other 10.0.0.9:1024"},
		{"missing lua", "global\n  lua-load /nonexistent/x.lua\nfrontend f\n  bind :80\nbackend b\n  server s 1.2.3.4:80\n",
			"x.cfg:2: lua-load /nonexistent/x.lua: the Lua script is not on this machine"},
		{"no server", "frontend f\n  bind :80\n", "no server in any backend or listen section"},
		{"no bind", "backend b\n  server s 1.2.3.4:80\n", "no bind in any frontend or listen section"},
		{"open .if", ".if 1\nbackend b\n", "x.cfg:2: missing .endif at end of file"},
		{"template range", "frontend f\n  bind :80\nbackend b\n  server-template s 5-1 h:80\n", `x.cfg:4: server-template "5-1": the lab runs 1 to 64 servers per template`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "x.cfg"), []byte(tc.cfg), 0o644)
			p := filepath.Join(dir, "s.yaml")
			os.WriteFile(p, []byte("name: x\nhaproxy:\n  config_file: x.cfg\nredis: {master: {}}\n"), 0o644)
			err := renderSpecFile(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// renderSpecFile loads and renders the spec at p.
func renderSpecFile(p string) error {
	s, err := spec.Load(p)
	if err != nil {
		return err
	}
	next := spec.Port(30000)
	_ = s.ResolveAutoPorts(func(string) (spec.Port, error) { next++; return next, nil })
	_, err = Render(s, Target{Runtime: "local", RunDir: "/run/db"})
	return err
}

// TestRenderBYOSettings: sweep settings of file directives land in the
// named section (replacing the directive's last line, or added) and in
// every node's redis.conf; a lab-owned or unknown target is refused.
func TestRenderBYOSettings(t *testing.T) {
	data, err := os.ReadFile("testdata/byo/byo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var sets []spec.Setting
	for _, kv := range []string{"haproxy.file.backend[app].balance=roundrobin", "haproxy.file.backend[static].balance=first",
		"haproxy.file.defaults.timeout server=7s", "redis.file.maxmemory-policy=volatile-ttl", "redis.file.hz=50"} {
		v, err := spec.ParseVary(kv)
		if err != nil {
			t.Fatal(err)
		}
		sets = append(sets, spec.Setting{Path: v.Path, Value: v.Values[0]})
	}
	s, err := spec.ParseWith("testdata/byo/byo.yaml", data, sets)
	if err != nil {
		t.Fatal(err)
	}
	next := spec.Port(30000)
	_ = s.ResolveAutoPorts(func(string) (spec.Port, error) { next++; return next, nil })
	f, err := Render(s, Target{Runtime: "local", RunDir: "/run/db"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(f.HAProxy)
	for _, want := range []string{"backend app\n    balance roundrobin\n", "    timeout server 7s\n", "    balance first  # duckbench: set by the run's settings\n"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("haproxy.cfg lacks %q", want)
		}
	}
	if strings.Contains(cfg, "timeout server 30s") || strings.Contains(cfg, "balance leastconn") {
		t.Error("haproxy.cfg still holds the replaced lines")
	}
	for node, b := range f.Redis {
		if !strings.Contains(string(b), "\nmaxmemory-policy volatile-ttl\n") || !strings.Contains(string(b), "\nhz 50\n") {
			t.Errorf("%s lacks the settings:\n%s", node, b)
		}
	}
	for _, bad := range []struct{ kv, want string }{
		{"redis.file.port=1", "redis.file.port: port belongs to the lab"},
		{"haproxy.file.backend[nope].balance=first", "haproxy.file.backend[nope].balance: no backend nope in haproxy.config_file"},
		{"haproxy.file.web.balance=first", "want haproxy.file.<section>[<name>].<directive>"},
	} {
		v, err := spec.ParseVary(bad.kv)
		if err == nil {
			_, err = spec.ParseWith("testdata/byo/byo.yaml", data, []spec.Setting{{Path: v.Path, Value: v.Values[0]}})
		}
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want %q", bad.kv, err, bad.want)
		}
	}
}

// TestRenderBYOTLS: each TLS bind serves the lab certificate with the
// file's other TLS options kept in place; the user's crt and crt-list are
// reported as replaced, the options pointing at the user's TLS files as
// dropped; the entry is the routing frontend's first TLS bind; no path of
// the user's certificates is left in haproxy.cfg.
func TestRenderBYOTLS(t *testing.T) {
	f, abs := byoRender(t, "/run/db")
	cfg := string(f.HAProxy)
	for _, want := range []string{
		"    bind 127.0.0.1:6301 name secure ssl crt /run/db/tls/lab.pem alpn h2,http/1.1 ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256 curves X25519:P-256\n",
		"    bind 127.0.0.1:6303 ssl crt /run/db/tls/lab.pem\n",
		"    bind 127.0.0.1:6302 name plain\n",
		"    crt-base /etc/ssl/private\n", // harmless: every lab crt is absolute
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("haproxy.cfg lacks %q\n%s", want, cfg)
		}
	}
	for _, gone := range []string{"edge.pem", "edge-ecdsa.pem", "clients.pem", "crl.pem", "certs.list", "tickets.key", "dhparam.pem", "verify optional"} {
		for _, line := range strings.Split(cfg, "\n") {
			if strings.Contains(line, gone) && !strings.HasPrefix(strings.TrimSpace(line), "#") {
				t.Errorf("haproxy.cfg still reads %q: %q", gone, line)
			}
		}
	}
	if !f.LabTLS || !f.EntryTLS {
		t.Errorf("LabTLS, EntryTLS = %v, %v; want true, true", f.LabTLS, f.EntryTLS)
	}
	var ex []string
	for _, r := range f.Explain {
		ex = append(ex, strings.ReplaceAll(r.String(), abs, "<testdata>"))
	}
	all := strings.Join(ex, "\n")
	for _, want := range []string{
		"<testdata>/edge.cfg:25 → haproxy.cfg: replaced `crt /etc/ssl/private/edge.pem` with the lab certificate",
		"<testdata>/edge.cfg:25 → haproxy.cfg: replaced `crt edge-ecdsa.pem` with the lab certificate",
		"<testdata>/edge.cfg:26 → haproxy.cfg: replaced `crt-list /etc/haproxy/certs.list` with the lab certificate",
		"<testdata>/edge.cfg:25 → haproxy.cfg: dropped ca-file /etc/ssl/certs/clients.pem, verify optional, crl-file /etc/ssl/crl.pem (points at your TLS files",
		"<testdata>/edge.cfg:26 → haproxy.cfg: dropped tls-ticket-keys /etc/haproxy/tickets.key (points at your TLS files",
		"<testdata>/edge.cfg:13 → haproxy.cfg: dropped ssl-dh-param-file /etc/haproxy/dhparam.pem (points at your TLS files",
		"<testdata>/edge.cfg:25 → haproxy.cfg: bind :443 → 127.0.0.1:6301 (the load's entry point (haproxy.port)",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("render --explain lacks %q\n%s", want, all)
		}
	}
}

// TestRenderTLSPlainUnchanged: a file without TLS binds (one named "ssl"
// is not) asks for no lab certificate, and WriteLabTLS then writes nothing.
func TestRenderTLSPlainUnchanged(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x.cfg"), []byte("frontend f\n  bind :80 name ssl crt /etc/ssl/x.pem\n  default_backend b\nbackend b\n  server s 1.2.3.4:80\n"), 0o644)
	p := filepath.Join(dir, "s.yaml")
	os.WriteFile(p, []byte("name: x\nhaproxy:\n  config_file: x.cfg\nredis: {master: {}}\n"), 0o644)
	s, err := spec.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	next := spec.Port(30000)
	_ = s.ResolveAutoPorts(func(string) (spec.Port, error) { next++; return next, nil })
	run := t.TempDir()
	f, err := Render(s, Target{Runtime: "local", RunDir: run})
	if err != nil {
		t.Fatal(err)
	}
	if f.LabTLS || f.EntryTLS || strings.Contains(string(f.HAProxy), "crt ") {
		t.Errorf("LabTLS=%v EntryTLS=%v; want no TLS for a bind without ssl\n%s", f.LabTLS, f.EntryTLS, f.HAProxy)
	}
	if err := f.WriteDir(run); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(run, LabTLSDir)); !os.IsNotExist(err) {
		t.Errorf("stat %s = %v; want no lab TLS dir", LabTLSDir, err)
	}
}
