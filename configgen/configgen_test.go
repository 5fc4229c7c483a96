package configgen

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

// testRunDir is a fixed run dir so that golden files do not depend on t.TempDir.
const testRunDir = "/run/duckbench/test"

func ptr[T any](v T) *T { return &v }

func dur(d time.Duration) spec.Duration { return spec.Duration(d) }

// seedSpec is the origin lab: a master and two replicas, app1 and app2
// behind HAProxy round-robin on 6301. Every value is explicit, so the test
// does not depend on spec.ApplyDefaults.
func seedSpec() *spec.Spec {
	return &spec.Spec{
		Version: spec.APIVersion,
		Name:    "seed",
		Redis: spec.Redis{
			Defaults: spec.RedisSettings{
				Maxmemory:        ptr(spec.ByteSize(64 << 20)),
				MaxmemoryPolicy:  "allkeys-lru",
				Appendonly:       ptr(false),
				Save:             ptr(""),
				ReplBacklogSize:  ptr(spec.ByteSize(1 << 20)),
				ReplDisklessSync: ptr(true),
			},
			Master: spec.RedisNode{Name: "redis-master", Port: 6379},
			Replicas: []spec.RedisNode{
				{Name: "redis-replica-1", Port: 6380},
				{Name: "redis-replica-2", Port: 6381},
			},
		},
		Apps: []spec.App{
			{Name: "app1", Kind: spec.AppBuiltin, Port: 8001},
			{Name: "app2", Kind: spec.AppBuiltin, Port: 8002},
		},
		HAProxy: spec.HAProxy{
			Port:    6301,
			Mode:    "http",
			Maxconn: 4096,
			Timeouts: spec.Timeouts{
				Connect: dur(5 * time.Second), Client: dur(30 * time.Second), Server: dur(30 * time.Second),
				Queue: dur(5 * time.Second), HTTPKeepAlive: dur(10 * time.Second), HTTPRequest: dur(10 * time.Second),
			},
			Backends: []spec.Backend{{
				Name:        "apps",
				Balance:     "roundrobin",
				Servers:     []spec.Server{{App: "app1", Weight: ptr(1)}, {App: "app2", Weight: ptr(1)}},
				HealthCheck: spec.HealthCheck{Path: "/healthz", Interval: dur(2 * time.Second), Rise: 2, Fall: 3},
			}},
			Cache:       spec.Cache{Size: 64 << 20, MaxAge: dur(60 * time.Second), MaxObjectSize: 512 << 10},
			StatsSocket: spec.StatsSocket{Port: 9999},
			Prometheus:  spec.PromEndpoint{Port: 8405},
			StatsPage:   spec.StatsPage{Port: 8404},
		},
	}
}

// cacheWeightedSpec turns the cache on and weighs app1:app2 3:1.
func cacheWeightedSpec() *spec.Spec {
	s := seedSpec()
	s.Name = "cache-weighted"
	b := &s.HAProxy.Backends[0]
	b.Cache = true
	b.Servers[0].Weight = ptr(3)
	b.Servers[1].Weight = ptr(1)
	b.Servers[0].Maxconn = 200
	return s
}

func statsPageSpec() *spec.Spec {
	s := seedSpec()
	s.Name = "stats-page"
	s.HAProxy.StatsPage = spec.StatsPage{Enabled: true, Port: 8404, User: "admin", PasswordEnv: "DUCKBENCH_STATS_PASSWORD"}
	return s
}

// extrasSpec has raw lines in every section, per-node overrides, a second
// backend with a route, no health check there, the exporter and HAProxy's
// X-Served-By header off.
func extrasSpec() *spec.Spec {
	s := seedSpec()
	s.Name = "extras"
	s.Redis.PasswordEnv = "REDIS_PASSWORD"
	s.Redis.Defaults.Extra = []string{"hz 50"}
	s.Redis.Master.Save = ptr("3600 1 300 100")
	s.Redis.Master.Appendonly = ptr(true)
	s.Redis.Replicas[0].Maxmemory = ptr(spec.ByteSize(32 << 20))
	s.Redis.Replicas[0].Extra = []string{"replica-priority 50"}
	s.HAProxy.Extra = spec.RawHAProxy{
		Global:   []string{"tune.bufsize 32768"},
		Defaults: []string{"option http-keep-alive"},
		Frontend: []string{"http-response set-header X-Lab duckbench"},
	}
	s.HAProxy.Backends = append(s.HAProxy.Backends, spec.Backend{
		Name:        "api",
		Balance:     "leastconn",
		Servers:     []spec.Server{{App: "app2"}},
		HealthCheck: spec.HealthCheck{Disabled: true},
		Extra:       []string{"http-request set-header X-Backend api"},
	})
	s.HAProxy.Routes = []spec.Route{{PathPrefix: "/api/", Backend: "api"}}
	s.HAProxy.Prometheus.Disabled = true
	s.HAProxy.ServedBy.Disabled = true
	return s
}

// swarmScaledSpec is the seed with app1 scaled to three swarm tasks.
func swarmScaledSpec() *spec.Spec {
	s := seedSpec()
	s.Apps[0].Replicas = 3
	return s
}

var renderCases = []struct {
	name string
	spec func() *spec.Spec
	t    Target
}{
	{"Seed", seedSpec, Target{Runtime: "local", RunDir: testRunDir}},
	{"CacheWeighted", cacheWeightedSpec, Target{Runtime: "local", RunDir: testRunDir}},
	{"Compose", seedSpec, Target{Runtime: "compose"}},
	{"ComposePassword", extrasSpec, Target{Runtime: "compose"}},
	{"SwarmScaled", swarmScaledSpec, Target{Runtime: "swarm"}},
	{"StatsPage", statsPageSpec, Target{Runtime: "local", RunDir: testRunDir}},
	{"Extras", extrasSpec, Target{Runtime: "local", RunDir: testRunDir}},
}

func TestRenderGolden(t *testing.T) {
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Render(tc.spec(), tc.t)
			if err != nil {
				t.Fatalf("Render(%q) error: %v", tc.name, err)
			}
			for _, name := range f.Names {
				b, _ := f.File(name)
				testenv.Golden(t, testenv.GoldenPath(t, "."+name+".golden"), b, *update)
			}
			again, err := Render(tc.spec(), tc.t)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := again.Hashes(), f.Hashes(); !equalMaps(g, w) {
				t.Errorf("Render(%q) is not deterministic: %v vs %v", tc.name, g, w)
			}
		})
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestRenderSeedContents(t *testing.T) {
	f, err := Render(seedSpec(), Target{Runtime: "local", RunDir: testRunDir})
	if err != nil {
		t.Fatal(err)
	}
	got, want := f.Names, []string{"haproxy.cfg", "redis-master.conf", "redis-replica-1.conf", "redis-replica-2.conf"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Names = %v; want %v", got, want)
	}
	h := string(f.HAProxy)
	for _, s := range []string{
		"balance roundrobin", "bind 127.0.0.1:6301", "server app1 127.0.0.1:8001 weight 1 check",
		"server app2 127.0.0.1:8002 weight 1 check", "stats socket /run/duckbench/test/haproxy.sock mode 600 level admin",
		"http-request use-service prometheus-exporter if { path /metrics }", "bind 127.0.0.1:8405",
		"option forwardfor", "http-check send meth GET uri /healthz", "spec sha256: " + seedSpec().Hash(),
	} {
		if !strings.Contains(h, s) {
			t.Errorf("haproxy.cfg lacks %q", s)
		}
	}
	for _, s := range []string{"stats enable", "cache-use", "cache duckbench"} {
		if strings.Contains(h, s) {
			t.Errorf("haproxy.cfg has %q; want it only when enabled", s)
		}
	}
	replicas := 0
	for node, b := range f.Redis {
		if strings.Contains(string(b), "replicaof            127.0.0.1 6379\n") {
			replicas++
		}
		if !strings.Contains(string(b), "dir                  /run/duckbench/test/redis-"+node+"\n") {
			t.Errorf("%s lacks its dir", RedisFile(node))
		}
	}
	if replicas != 2 {
		t.Errorf("%d redis confs with replicaof; want 2", replicas)
	}
}

func TestRenderNeverWritesPasswords(t *testing.T) {
	const pw = "s3cr3t-never-on-disk"
	t.Setenv("REDIS_PASSWORD", pw)
	t.Setenv("DUCKBENCH_STATS_PASSWORD", pw)
	s := extrasSpec()
	s.HAProxy.StatsPage = statsPageSpec().HAProxy.StatsPage
	for _, tgt := range []Target{{Runtime: "local", RunDir: testRunDir}, {Runtime: "compose"}} {
		f, err := Render(s, tgt)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := f.WriteDir(dir); err != nil {
			t.Fatal(err)
		}
		for _, name := range f.Names {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte(pw)) {
				t.Errorf("%s (%s) holds the password", name, tgt.Runtime)
			}
		}
		if !strings.Contains(string(f.HAProxy), `stats auth admin:"${DUCKBENCH_STATS_PASSWORD}"`) {
			t.Errorf("haproxy.cfg lacks the env reference for the stats password")
		}
	}
	got := string(RedisSecretConfig(s, pw))
	if want := "requirepass " + pw + "\nmasterauth " + pw + "\n"; got != want {
		t.Errorf("RedisSecretConfig = %q; want %q", got, want)
	}
	if got := RedisSecretConfig(seedSpec(), pw); got != nil {
		t.Errorf("RedisSecretConfig without password_env = %q; want nil", got)
	}
	if got, want := string(RedisSecretConfig(s, `a "b" \c`)), `requirepass "a \"b\" \\c"`+"\n"; !strings.HasPrefix(got, want) {
		t.Errorf("RedisSecretConfig quoting = %q; want prefix %q", got, want)
	}
}

func TestRenderErrors(t *testing.T) {
	local := Target{Runtime: "local", RunDir: testRunDir}
	tests := []struct {
		name   string
		mutate func(*spec.Spec)
		t      Target
		want   string
	}{
		{"auto haproxy port", func(s *spec.Spec) { s.HAProxy.Port = spec.PortAuto }, local,
			`render: haproxy.port is still "auto": resolve ports before rendering`},
		{"auto replica port", func(s *spec.Spec) { s.Redis.Replicas[1].Port = spec.PortAuto }, local,
			`render: redis.replicas[1].port is still "auto": resolve ports before rendering`},
		{"auto app port", func(s *spec.Spec) { s.Apps[0].Port = spec.PortAuto }, local,
			`render: apps[0].port is still "auto": resolve ports before rendering`},
		{"auto stats socket port on compose", func(s *spec.Spec) { s.HAProxy.StatsSocket.Port = spec.PortAuto }, Target{Runtime: "compose"},
			`render: haproxy.stats_socket.port is still "auto": resolve ports before rendering`},
		{"unset prometheus port", func(s *spec.Spec) { s.HAProxy.Prometheus.Port = 0 }, local,
			`render: haproxy.prometheus.port must be 1-65535 (got 0)`},
		{"relative run dir", func(*spec.Spec) {}, Target{Runtime: "local", RunDir: "run"},
			`render: local target needs an absolute run dir (got "run")`},
		{"unknown runtime", func(*spec.Spec) {}, Target{Runtime: "k8s"},
			`render: unknown runtime "k8s" (want "local", "compose" or "swarm")`},
		{"unknown app", func(s *spec.Spec) { s.HAProxy.Backends[0].Servers[1].App = "app9" }, local,
			`render haproxy.cfg: haproxy.backends[0].servers[1].app: no app named "app9"`},
		{"route to unknown backend", func(s *spec.Spec) { s.HAProxy.Routes = []spec.Route{{PathPrefix: "/x", Backend: "nope"}} }, local,
			`render haproxy.cfg: haproxy.routes[0].backend: no backend named "nope"`},
		{"stats page without password env", func(s *spec.Spec) { s.HAProxy.StatsPage = spec.StatsPage{Enabled: true, Port: 8404, User: "admin"} }, local,
			`render haproxy.cfg: haproxy.stats_page.password_env: must name an environment variable when the stats page is enabled (got "")`},
		{"multi-line raw", func(s *spec.Spec) { s.HAProxy.Extra.Global = []string{"a\nb"} }, local,
			`render haproxy.cfg: haproxy.extra.global[0]: raw line must be a single line (got "a\nb")`},
		{"backend name with a space", func(s *spec.Spec) { s.HAProxy.Backends[0].Name = "my apps" }, local,
			`render haproxy.cfg: haproxy.backends[0].name: must be letters, digits, '-', '_', '.' or ':' (got "my apps")`},
		{"unknown balance", func(s *spec.Spec) { s.HAProxy.Backends[0].Balance = "fastest" }, local,
			`render haproxy.cfg: haproxy.backends[0].balance: must be one of roundrobin, leastconn, source, uri, random (got "fastest")`},
		{"redis node name with a slash", func(s *spec.Spec) { s.Redis.Replicas[0].Name = "../x" }, local,
			`render redis-../x.conf: redis.replicas[0].name: must be a plain name (got "../x")`},
		{"cache object too big", func(s *spec.Spec) {
			s.HAProxy.Backends[0].Cache = true
			s.HAProxy.Cache.MaxObjectSize = 40 << 20
		}, local, `render haproxy.cfg: haproxy.cache.max_object_size: at most half of the cache size (got 40mb of 64mb)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := seedSpec()
			tc.mutate(s)
			_, err := Render(s, tc.t)
			if err == nil || err.Error() != tc.want {
				t.Errorf("Render() error = %v; want %q", err, tc.want)
			}
		})
	}
}

func TestWriteDir(t *testing.T) {
	f, err := Render(seedSpec(), Target{Runtime: "local", RunDir: testRunDir})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := f.WriteDir(dir); err != nil {
		t.Fatalf("WriteDir() = %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(f.Names) {
		t.Errorf("WriteDir wrote %d entries; want %d", len(entries), len(f.Names))
	}
	hashes := f.Hashes()
	for _, name := range f.Names {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := f.File(name)
		if !bytes.Equal(b, want) {
			t.Errorf("%s on disk differs from the render", name)
		}
		if len(hashes[name]) != 64 {
			t.Errorf("Hashes()[%q] = %q", name, hashes[name])
		}
	}

	// A missing file in Names fails before anything is renamed into place.
	bad := &Files{HAProxy: []byte("x"), Names: []string{HAProxyFile, "redis-ghost.conf"}}
	dir2 := t.TempDir()
	if err := bad.WriteDir(dir2); err == nil {
		t.Errorf("WriteDir with a missing file = nil; want an error")
	}
	if entries, _ := os.ReadDir(dir2); len(entries) != 0 {
		t.Errorf("failed WriteDir left %d entries; want none", len(entries))
	}
}

// TestRealBinariesAccept runs every golden render through haproxy -c and
// a brief redis-server with CONFIG GET checks.
func TestRealBinariesAccept(t *testing.T) {
	testenv.RequireBinary(t, "haproxy", "")
	testenv.RequireBinary(t, "redis-server", "")
	ctx := context.Background()
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Render(tc.spec(), tc.t)
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckHAProxy(ctx, f.HAProxy); err != nil {
				t.Errorf("CheckHAProxy: %v", err)
			}
			for node, conf := range f.Redis {
				if err := CheckRedis(ctx, node, conf); err != nil {
					t.Errorf("CheckRedis: %v", err)
				}
			}
		})
	}
}

func TestCheckHAProxyRejects(t *testing.T) {
	testenv.RequireBinary(t, "haproxy", "")
	err := CheckHAProxy(context.Background(), []byte("global\n    no-such-keyword 1\n"))
	if err == nil || !strings.Contains(err.Error(), "no-such-keyword") {
		t.Errorf("CheckHAProxy(bad) = %v; want an error quoting haproxy's output", err)
	}
}

func TestCheckRedisRejects(t *testing.T) {
	testenv.RequireBinary(t, "redis-server", "")
	ctx := context.Background()
	err := CheckRedis(ctx, "bad", []byte("maxmemory-policy not-a-policy\n"))
	if err == nil || !strings.Contains(err.Error(), "refused the config") {
		t.Errorf("CheckRedis(bad policy) = %v; want refused", err)
	}
	// A later line overrides: the check reads what the file means.
	err = CheckRedis(ctx, "ok", []byte("maxmemory 1mb\nmaxmemory 2mb\nrepl-backlog-size 3mb\n"))
	if err != nil {
		t.Errorf("CheckRedis(override) = %v; want nil", err)
	}
}

func TestMissingBinaryHint(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := CheckHAProxy(context.Background(), []byte("global\n"))
	if !errors.Is(err, ErrMissingBinary) || !strings.Contains(err.Error(), "apt-get install haproxy") {
		t.Errorf("CheckHAProxy without haproxy = %v; want ErrMissingBinary with hint", err)
	}
	err = CheckRedis(context.Background(), "n", nil)
	if !errors.Is(err, ErrMissingBinary) || !strings.Contains(err.Error(), "apt-get install redis-server") {
		t.Errorf("CheckRedis without redis-server = %v; want ErrMissingBinary with hint", err)
	}
}

// TestRedisReadsSecretsFromStdin proves the mechanism RedisSecretConfig
// relies on: `redis-server <conf> -` reads more directives from stdin, and
// the password shows neither in the file nor in the process arguments.
func TestRedisReadsSecretsFromStdin(t *testing.T) {
	testenv.RequireBinary(t, "redis-server", "")
	const pw = "pw with space \"and quote\""
	s := extrasSpec()
	dir, err := os.MkdirTemp("", "dbrs-") // short: unix socket path limit
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "r.sock")
	conf := filepath.Join(dir, "r.conf")
	if err := os.WriteFile(conf, []byte("port 0\nunixsocket "+sock+"\ndir "+dir+"\nsave \"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "redis-server", conf, "-")
	cmd.Stdin = bytes.NewReader(RedisSecretConfig(s, pw))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	cli := func(args ...string) string {
		out, _ := exec.CommandContext(ctx, "redis-cli", append([]string{"-s", sock}, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out))
	}
	testenv.RequireBinary(t, "redis-cli", "redis-tools")
	deadline := time.Now().Add(5 * time.Second)
	for {
		if out := cli("ping"); strings.Contains(out, "NOAUTH") {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("redis-server did not start with a password (last answer %q)", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := cli("--no-auth-warning", "-a", pw, "ping"); got != "PONG" {
		t.Errorf("ping with the password = %q; want PONG", got)
	}
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "cmdline"))
	if err == nil && bytes.Contains(cmdline, []byte("pw with")) {
		t.Errorf("password visible in the process arguments: %q", cmdline)
	}
	cli("--no-auth-warning", "-a", pw, "shutdown", "nosave")
}

// TestRenderAfterApplyDefaults renders a minimal spec completed by
// spec.ApplyDefaults (no golden file: the defaults belong to package spec)
// and has the real haproxy accept it.
func TestRenderAfterApplyDefaults(t *testing.T) {
	s := &spec.Spec{
		Name:  "mini",
		Redis: spec.Redis{Replicas: make([]spec.RedisNode, 2)},
		Apps:  []spec.App{{Name: "app1"}, {Name: "app2"}},
	}
	s.ApplyDefaults()
	targets := []Target{{Runtime: "local", RunDir: testRunDir}, {Runtime: "compose"}}
	rendered := make([]*Files, len(targets))
	for i, tgt := range targets {
		f, err := Render(s, tgt)
		if err != nil {
			t.Fatalf("Render(defaults, %s) error: %v", tgt.Runtime, err)
		}
		if len(f.Redis) != 3 {
			t.Errorf("Render(defaults, %s) gave %d redis confs; want 3", tgt.Runtime, len(f.Redis))
		}
		rendered[i] = f
	}
	testenv.RequireBinary(t, "haproxy", "")
	for i, f := range rendered {
		if err := CheckHAProxy(context.Background(), f.HAProxy); err != nil {
			t.Errorf("CheckHAProxy(defaults, %s): %v", targets[i].Runtime, err)
		}
	}
}

// FuzzParseRedisConf feeds arbitrary redis.conf text to the reader CheckRedis
// compares CONFIG GET against: it must never panic.
func FuzzParseRedisConf(f *testing.F) {
	f.Add([]byte("maxmemory 64mb\nmaxmemory-policy allkeys-lru\n"))
	f.Add([]byte("# c\n\nsave \"\"\nrepl-backlog-size 1gb\nmaxmemory 1\n"))
	f.Add([]byte("dir \"/a b\"\n\tmaxmemory\n"))
	f.Fuzz(func(t *testing.T, conf []byte) {
		for k, v := range parseRedisConf(conf) {
			_ = sameRedisValue(k, v, v)
		}
		_ = withDir(conf, "/tmp/x")
	})
}
