package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestLoadInvalid(t *testing.T) {
	listed := map[string]bool{}
	for _, tc := range invalidSpecs {
		listed[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join("testdata", "invalid-"+tc.name+".yaml")
			s, err := Load(path)
			if err == nil {
				t.Fatalf("Load(%q) = %+v, nil; want error %q", path, s, tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("Load(%q) error:\n got: %s\nwant: %s", path, got, tc.want)
			}
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("Load(%q) error is %T; want a non-empty spec.Errors", path, err)
			}
			for _, e := range es {
				if e.File != filepath.Base(path) || e.Line < 1 || e.Col < 1 {
					t.Errorf("Load(%q): error %q is not located (file %q, %d:%d)", path, e.Msg, e.File, e.Line, e.Col)
				}
			}
		})
	}
	files, _ := filepath.Glob("testdata/invalid-*.yaml")
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "invalid-"), ".yaml")
		if !listed[name] {
			t.Errorf("%s has no row in invalidSpecs", f)
		}
	}
	if len(invalidSpecs) < 40 {
		t.Errorf("invalidSpecs has %d rows; want at least 40", len(invalidSpecs))
	}
}

func TestLoadExamples(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.yaml")
	files = append(files, "testdata/valid-full.yaml", "testdata/valid-anchors.yaml")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := Load(f); err != nil {
				t.Fatalf("Load(%q) = %v", f, err)
			}
		})
	}
}

func TestSeedIsTheOriginLab(t *testing.T) {
	s, err := Load("../examples/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Redis.names(), []string{"redis-master", "redis-replica-1", "redis-replica-2"}; !slices.Equal(got, want) {
		t.Errorf("redis nodes = %v; want %v", got, want)
	}
	if got := s.HAProxy.Port; got != 6301 {
		t.Errorf("haproxy.port = %v; want 6301", got)
	}
	b := s.HAProxy.Backends
	if len(b) != 1 || b[0].Balance != "roundrobin" || len(b[0].Servers) != 2 {
		t.Errorf("backends = %+v; want one roundrobin backend with two servers", b)
	}
	if s.Load.Rate != 200 || s.SLO.P99.D().Milliseconds() != 50 || s.SLO.Success != 0.99 {
		t.Errorf("load/slo = %v %v %v; want rate 200, p99 50ms, success 99%%", s.Load.Rate, s.SLO.P99, s.SLO.Success)
	}
}

func TestDefaults(t *testing.T) {
	s, err := Parse("min.yaml", []byte("name: min\nredis:\n  replicas: [{}, {}]\napps: [{name: a}, {name: b}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"version", s.Version, APIVersion},
		{"runtime", s.Runtime, "auto"},
		{"redis.image", s.Redis.Image, "redis:7.0"},
		{"master name", s.Redis.Master.Name, "redis-master"},
		{"master port", s.Redis.Master.Port, Port(6379)},
		{"replica 2 name", s.Redis.Replicas[1].Name, "redis-replica-2"},
		{"replica 2 port", s.Redis.Replicas[1].Port, Port(6381)},
		{"app b port", s.Apps[1].Port, Port(8002)},
		{"app kind", s.Apps[0].Kind, AppBuiltin},
		{"origin_cost", s.Apps[0].OriginCost.String(), "2ms"},
		{"cache_ttl", s.Apps[0].CacheTTL.String(), "1m0s"},
		{"haproxy image", s.HAProxy.Image, "haproxy:2.6"},
		{"haproxy port", s.HAProxy.Port, Port(6301)},
		{"mode", s.HAProxy.Mode, "http"},
		{"maxconn", s.HAProxy.Maxconn, 4096},
		{"timeout client", s.HAProxy.Timeouts.Client.String(), "30s"},
		{"backend", s.HAProxy.Backends[0].Name, "apps"},
		{"servers", len(s.HAProxy.Backends[0].Servers), 2},
		{"weight", *s.HAProxy.Backends[0].Servers[1].Weight, 1},
		{"balance", s.HAProxy.Backends[0].Balance, "roundrobin"},
		{"health", s.HAProxy.Backends[0].HealthCheck, HealthCheck{Path: "/healthz", Interval: Duration(2e9), Rise: 2, Fall: 3}},
		{"cache", s.HAProxy.Cache, Cache{Size: 64 << 20, MaxAge: Duration(60e9), MaxObjectSize: 512 << 10}},
		{"stats socket", s.HAProxy.StatsSocket.Port, Port(9999)},
		{"prometheus", s.HAProxy.Prometheus.Port, Port(8405)},
		{"stats page", s.HAProxy.StatsPage.Port, Port(8404)},
		{"load duration", s.Load.Duration.String(), "10s"},
		{"rate", s.Load.Rate, Rate(100)},
		{"shape", s.Load.Shape, "constant"},
		{"timeout", s.Load.Timeout.String(), "5s"},
		{"seed", s.Load.Seed, int64(1)},
		{"keepalive", *s.Load.KeepAlive, true},
		{"keys", s.Load.Keys, Keys{Distribution: "uniform", Count: 1000, ZipfS: 1.1, ZipfV: 1, Prefix: "k"}},
		{"targets", s.Load.Targets, []Target{{Name: "GET /kv/{key}", Method: "GET", Path: "/kv/{key}", Weight: 1}}},
		{"check", s.Check, Check{MaxP99Regression: 0.10, MaxThroughputDrop: 0.05, MaxErrorRate: 0.001, Alpha: 0.05}},
		{"probes", s.Probes, Probes{HeartbeatInterval: Duration(100e6), Interval: Duration(1e9), Listen: "127.0.0.1:9477"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("default %s = %#v; want %#v", c.what, c.got, c.want)
		}
	}
}

func TestExplicitValuesWin(t *testing.T) {
	s, err := Parse("x.yaml", []byte(`name: x
apps: [{name: a, origin_cost: 0s, cache_ttl: 0s}]
haproxy:
  port: 7000
  backends: [{name: web, balance: leastconn, servers: [{app: a, weight: 0}], health_check: {rise: 5}}]
load: {seed: 0, keepalive: false, keys: {prefix: ""}}
check: {max_p99_regression: 0%}
`))
	if err != nil {
		t.Fatal(err)
	}
	b := s.HAProxy.Backends[0]
	if s.HAProxy.Port != 7000 || b.Name != "web" || b.Balance != "leastconn" || *b.Servers[0].Weight != 0 || b.HealthCheck.Rise != 5 || b.HealthCheck.Fall != 3 {
		t.Errorf("haproxy = %+v; explicit values lost", s.HAProxy)
	}
	if s.Load.Seed != 0 || *s.Load.KeepAlive || s.Load.Keys.Prefix != "" || s.Check.MaxP99Regression != 0 {
		t.Errorf("load = %+v, check = %+v; explicit zeros lost", s.Load, s.Check)
	}
	if s.Apps[0].OriginCost != 0 || s.Apps[0].CacheTTL != 0 {
		t.Errorf("app = %+v; explicit zero durations lost", s.Apps[0])
	}
}

func TestHashIsCanonical(t *testing.T) {
	short, err := Parse("a.yaml", []byte("name: h\napps: [{name: a}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	long, err := Parse("b.yaml", []byte("version: duckbench/v1\nname: h\napps: [{name: a, port: 8001}]\nhaproxy: {port: 6301, backends: [{name: apps, servers: [{app: a, weight: 1}]}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if short.Hash() != long.Hash() {
		t.Errorf("Hash differs for specs equal after defaults:\n%s\n%s", Canonical(short), Canonical(long))
	}
	h := short.Hash()
	short.ApplyDefaults()
	if short.Hash() != h {
		t.Error("ApplyDefaults is not idempotent: Hash changed")
	}
	if len(h) != 64 {
		t.Errorf("Hash() = %q; want 64 hex digits", h)
	}
	// Equal hashes alone would pass a constant Hash: one field apart (a
	// server weight, a port) must change it.
	for _, y := range []string{
		"name: h\napps: [{name: a}]\nhaproxy: {backends: [{name: apps, servers: [{app: a, weight: 2}]}]}\n",
		"name: h\napps: [{name: a, port: 8002}]\n",
	} {
		other, err := Parse("c.yaml", []byte(y))
		if err != nil {
			t.Fatal(err)
		}
		if other.Hash() == h {
			t.Errorf("Hash of\n%s= the hash of the default spec; want a different hash", y)
		}
	}
}

func TestSpecBuiltInCode(t *testing.T) {
	s := &Spec{Name: "code", Apps: []App{{Name: "a"}, {Name: "b", Port: 8001}}}
	s.ApplyDefaults()
	err := s.Validate()
	want := "apps[1].port: port 8001 is already used by apps[0].port"
	if err == nil || err.Error() != want {
		t.Fatalf("Validate() = %v; want %q", err, want)
	}
	s.Apps[1].Port = PortAuto
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate() = %v; want nil", err)
	}
	n := 30000
	if err := s.ResolveAutoPorts(func(string) (Port, error) { n++; return Port(n), nil }); err != nil || s.Apps[1].Port != 30001 {
		t.Errorf("ResolveAutoPorts: err %v, port %v; want nil, 30001", err, s.Apps[1].Port)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("Load(missing) = %v; want a not-exist error naming the file", err)
	}
}

func TestErrorsFormat(t *testing.T) {
	es := Errors{
		{File: "spec.yaml", Path: "haproxy.backends[1].servers[0].port", Line: 14, Col: 9, Msg: "must be 1-65535 (got 0)"},
		{Path: "name", Msg: "required"},
	}
	want := "haproxy.backends[1].servers[0].port: must be 1-65535 (got 0) (spec.yaml:14:9)\nname: required"
	if got := es.Error(); got != want {
		t.Errorf("Errors.Error() = %q; want %q", got, want)
	}
}

func TestSuggest(t *testing.T) {
	keys := keysOf(reflect.TypeFor[HAProxy]())
	for in, want := range map[string]string{"backend": "backends", "prot": "port", "maxcon": "maxconn", "timeout": "timeouts", "zzz": "", "stats": ""} {
		if got := suggest(in, keys); got != want {
			t.Errorf("suggest(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestJSONSchema(t *testing.T) {
	b := JSONSchema()
	var root map[string]any
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatalf("JSONSchema() is not JSON: %v", err)
	}
	defs := root["$defs"].(map[string]any)
	// Every struct's every key has a property with a description or a $ref.
	var walk func(reflect.Type, map[string]any)
	seen := map[reflect.Type]bool{}
	walk = func(rt reflect.Type, obj map[string]any) {
		if seen[rt] {
			return
		}
		seen[rt] = true
		props, _ := obj["properties"].(map[string]any)
		if obj["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties is not false", rt.Name())
		}
		for _, f := range structFields(rt) {
			p, ok := props[f.key].(map[string]any)
			if !ok {
				t.Errorf("%s: key %q missing from the schema", rt.Name(), f.key)
				continue
			}
			ft := rt.FieldByIndex(f.index).Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice || ft.Kind() == reflect.Map {
				ft = ft.Elem()
			}
			if _, scalar := scalarSchemas[ft]; ft.Kind() == reflect.Struct && !scalar {
				def, ok := defs[ft.Name()].(map[string]any)
				if !ok {
					t.Errorf("$defs/%s missing", ft.Name())
					continue
				}
				walk(ft, def)
			}
			_ = p
		}
	}
	walk(reflect.TypeFor[Spec](), root)
	balance := defs["Backend"].(map[string]any)["properties"].(map[string]any)["balance"].(map[string]any)
	if got := balance["enum"]; !reflect.DeepEqual(got, []any{"roundrobin", "leastconn", "source", "uri", "random"}) {
		t.Errorf("balance enum = %v", got)
	}
	if !strings.Contains(string(b), "Port on 127.0.0.1") {
		t.Error("schema lacks field descriptions")
	}
	if !json.Valid(b) {
		t.Error("schema is not valid JSON")
	}
}

// FuzzParse: no input panics; every failure is a located spec.Errors.
func FuzzParse(f *testing.F) {
	for _, glob := range []string{"testdata/*.yaml", "../examples/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err == nil {
			if s == nil {
				t.Fatal("Parse returned nil spec and nil error")
			}
			_ = s.Hash()
			return
		}
		var es Errors
		if !errors.As(err, &es) || len(es) == 0 {
			t.Fatalf("Parse error %T %q is not spec.Errors", err, err)
		}
		for _, e := range es {
			if e.File != "fuzz.yaml" || e.Line < 1 || e.Col < 1 {
				t.Fatalf("unlocated error %+v", e)
			}
		}
	})
}

// TestSchemaFile keeps the committed duckbench.schema.json (the file the
// examples point yaml-language-server at) equal to JSONSchema(). Refresh
// with: go test ./spec -run TestSchemaFile -update
func TestSchemaFile(t *testing.T) {
	want := JSONSchema()
	if *update {
		if err := os.WriteFile("duckbench.schema.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("duckbench.schema.json")
	if err != nil || string(got) != string(want) {
		t.Errorf("duckbench.schema.json is stale; run: go test ./spec -run TestSchemaFile -update")
	}
}

func TestClone(t *testing.T) {
	s, err := Parse("seed.yaml", []byte("name: c\nredis: {master: {port: auto}, replicas: [{port: auto}]}\napps: [{name: app1, port: auto}]\nhaproxy: {port: auto}\n"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Clone()
	if err != nil {
		t.Fatalf("Clone() = %v", err)
	}
	if !bytes.Equal(Canonical(c), Canonical(s)) {
		t.Errorf("Clone() differs from the original:\n%s\n%s", Canonical(c), Canonical(s))
	}
	for _, l := range c.Listeners() {
		*l.Port = 1234
	}
	c.Apps[0].Env = map[string]string{"X": "1"}
	if !s.Redis.Replicas[0].Port.IsAuto() || !s.Apps[0].Port.IsAuto() || s.Apps[0].Env != nil {
		t.Errorf("changing the clone changed the original: %+v", s)
	}
	if !c.explicit("apps[0].port") {
		t.Errorf("the clone lost what was written explicitly")
	}
}
