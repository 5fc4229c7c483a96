package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Load reads, strictly decodes, defaults and validates the spec at path.
// It touches no file but path. Spec errors are Errors.
func Load(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read spec: %w", err)
	}
	return Parse(path, data)
}

// Parse is Load for bytes already read; the base name of filename is used in
// messages. On failure the error is Errors: every problem, each located by
// field path and line:column. On success the spec has defaults applied and
// has passed Validate. YAML anchors, aliases and merge keys ("<<") work;
// top-level keys starting with "x-" are ignored, as a place for anchors.
func Parse(filename string, data []byte) (s *Spec, err error) {
	m := &meta{file: filepath.Base(filename), pos: map[string]position{}, set: map[string]bool{}, raw: map[string]string{}}
	if filename == "" {
		m.file = "spec"
	}
	defer func() {
		if r := recover(); r != nil { // the YAML parser is outside code: never crash a caller
			s, err = nil, Errors{{File: m.file, Line: 1, Col: 1, Msg: fmt.Sprintf("cannot parse YAML: %v", r)}}
		}
	}()
	fail := func(p position, msg string) error {
		return Errors{{File: m.file, Line: p.line, Col: p.col, Msg: msg}}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fail(position{1, 1}, "empty spec: expected a mapping with at least name, redis, apps and haproxy")
	}
	f, err := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey()) // decode reports duplicates with their path
	if err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) {
			return nil, fail(tokenPos(ye.GetToken()), "invalid YAML: "+ye.GetMessage())
		}
		return nil, fail(position{1, 1}, "invalid YAML: "+err.Error())
	}
	var docs []*ast.DocumentNode
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if _, comment := doc.Body.(*ast.CommentGroupNode); comment {
			continue
		}
		docs = append(docs, doc)
	}
	switch {
	case len(docs) == 0:
		return nil, fail(position{1, 1}, "empty spec: expected a mapping with at least name, redis, apps and haproxy")
	case len(docs) > 1:
		at := nodePos(docs[1].Body)
		if docs[1].Start != nil {
			at = tokenPos(docs[1].Start)
		}
		return nil, fail(at, fmt.Sprintf("expected one YAML document, found %d", len(docs)))
	}
	d := &decoder{m: m, anchors: map[string]ast.Node{}}
	d.collectAnchors(docs[0].Body)
	body := d.resolve(docs[0].Body, "")
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	if !isMapping(body) {
		return nil, fail(nodePos(docs[0].Body), fmt.Sprintf("a spec must be a mapping of keys (got %s)", describe(body)))
	}
	s = &Spec{meta: m}
	d.decode(docs[0].Body, reflect.ValueOf(s).Elem(), "")
	if len(d.errs) > 0 {
		return nil, d.errs.sorted()
	}
	m.pos[""] = position{1, 1} // a missing top-level key is reported at the top
	if errs := s.fromFiles(specDir(filename)); len(errs) > 0 {
		return nil, errs
	}
	s.ApplyDefaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// specDir is the directory config files are relative to.
func specDir(filename string) string {
	dir, err := filepath.Abs(filepath.Dir(filename))
	if err != nil {
		return filepath.Dir(filename)
	}
	return dir
}

// explicit reports whether path was written in the spec with a value. Defaults
// never replace an explicit value, so an explicit "port: 0" stays 0 and fails
// Validate instead of silently becoming the default.
func (s *Spec) explicit(path string) bool { return s.meta != nil && s.meta.set[path] }

// Default values (see the field docs in spec.go).
const (
	DefaultRuntime       = "auto"
	DefaultRedisImage    = "redis:7.0"
	DefaultHAProxyImage  = "haproxy:2.6"
	DefaultMasterName    = "redis-master"
	DefaultMasterPort    = 6379
	DefaultAppPort       = 8001
	DefaultHAProxyPort   = 6301
	DefaultStatsPort     = 9999
	DefaultPromPort      = 8405
	DefaultStatsPagePort = 8404
	DefaultBackend       = "apps"
	DefaultHealthPath    = "/healthz"
	DefaultProbesListen  = "127.0.0.1:9477"
)

// ApplyDefaults fills every field the spec left unset with its documented
// default. Values written in the spec always win, including explicit zeros
// (which Validate then judges). It is idempotent.
func (s *Spec) ApplyDefaults() {
	d := defaulter{s}
	setStr(&s.Version, APIVersion)
	setStr(&s.Runtime, DefaultRuntime)
	d.redis()
	d.apps()
	d.haproxy()
	d.load()
	d.check()
	pr := &s.Probes
	d.dur(&pr.HeartbeatInterval, "probes.heartbeat_interval", "100ms")
	d.dur(&pr.Interval, "probes.interval", "1s")
	setStr(&pr.Listen, DefaultProbesListen)
}

// defaulter sets defaults on fields the spec did not write explicitly.
type defaulter struct{ s *Spec }

// setStr sets an empty string: an empty string is never explicit.
func setStr(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

func (d defaulter) port(p *Port, path string, v int) {
	if *p == 0 && !d.s.explicit(path) {
		*p = Port(v)
	}
}

func (d defaulter) dur(p *Duration, path string, v string) {
	if *p == 0 && !d.s.explicit(path) {
		_ = p.UnmarshalText([]byte(v))
	}
}

func (d defaulter) num(p *int, path string, v int) {
	if *p == 0 && !d.s.explicit(path) {
		*p = v
	}
}

func (d defaulter) flt(p *float64, path string, v float64) {
	if *p == 0 && !d.s.explicit(path) {
		*p = v
	}
}

func (d defaulter) pct(p *Percent, path string, v Percent) {
	if *p == 0 && !d.s.explicit(path) {
		*p = v
	}
}

func (d defaulter) size(p *ByteSize, path string, v ByteSize) {
	if *p == 0 && !d.s.explicit(path) {
		*p = v
	}
}

func (d defaulter) redis() {
	r := &d.s.Redis
	setStr(&r.Image, DefaultRedisImage)
	setStr(&r.Master.Name, DefaultMasterName)
	d.port(&r.Master.Port, "redis.master.port", DefaultMasterPort)
	for i := range r.Replicas {
		setStr(&r.Replicas[i].Name, "redis-replica-"+strconv.Itoa(i+1))
		d.port(&r.Replicas[i].Port, fmt.Sprintf("redis.replicas[%d].port", i), DefaultMasterPort+1+i)
	}
}

func (d defaulter) apps() {
	for i := range d.s.Apps {
		a := &d.s.Apps[i]
		p := fmt.Sprintf("apps[%d]", i)
		setStr(&a.Kind, AppBuiltin)
		d.port(&a.Port, p+".port", DefaultAppPort+i)
		if a.Kind == AppBuiltin {
			d.dur(&a.OriginCost, p+".origin_cost", "2ms")
			d.dur(&a.CacheTTL, p+".cache_ttl", "60s")
		}
	}
}

func (d defaulter) haproxy() {
	h := &d.s.HAProxy
	setStr(&h.Image, DefaultHAProxyImage)
	d.port(&h.Port, "haproxy.port", DefaultHAProxyPort)
	setStr(&h.Mode, "http")
	d.num(&h.Maxconn, "haproxy.maxconn", 4096)
	d.dur(&h.Timeouts.Connect, "haproxy.timeouts.connect", "5s")
	d.dur(&h.Timeouts.Client, "haproxy.timeouts.client", "30s")
	d.dur(&h.Timeouts.Server, "haproxy.timeouts.server", "30s")
	d.dur(&h.Timeouts.Queue, "haproxy.timeouts.queue", "5s")
	d.dur(&h.Timeouts.HTTPKeepAlive, "haproxy.timeouts.http_keep_alive", "10s")
	d.dur(&h.Timeouts.HTTPRequest, "haproxy.timeouts.http_request", "10s")
	d.backends()
	d.size(&h.Cache.Size, "haproxy.cache.size", 64<<20)
	d.dur(&h.Cache.MaxAge, "haproxy.cache.max_age", "60s")
	d.size(&h.Cache.MaxObjectSize, "haproxy.cache.max_object_size", 512<<10)
	d.port(&h.StatsSocket.Port, "haproxy.stats_socket.port", DefaultStatsPort)
	d.port(&h.Prometheus.Port, "haproxy.prometheus.port", DefaultPromPort)
	d.port(&h.StatsPage.Port, "haproxy.stats_page.port", DefaultStatsPagePort)
	next := 1 // the entry bind is on haproxy.port, the others on the next ports up
	for i := range h.Binds {
		switch {
		case h.Binds[i].Entry:
			h.Binds[i].Port = h.Port
		case h.Port.IsAuto() || int(h.Port)+next > 65535:
			h.Binds[i].Port = PortAuto
		default:
			h.Binds[i].Port = h.Port + Port(next)
			next++
		}
	}
}

// backends defaults to one backend holding every app with weight 1.
func (d defaulter) backends() {
	h := &d.s.HAProxy
	if len(h.Backends) == 0 {
		b := Backend{Name: DefaultBackend}
		seen := map[string]bool{}
		for _, a := range d.s.Apps {
			if a.Name != "" && !seen[a.Name] { // duplicates are reported on apps
				seen[a.Name] = true
				b.Servers = append(b.Servers, Server{App: a.Name})
			}
		}
		h.Backends = []Backend{b}
	}
	for i := range h.Backends {
		b := &h.Backends[i]
		p := fmt.Sprintf("haproxy.backends[%d]", i)
		setStr(&b.Balance, "roundrobin")
		for j := range b.Servers {
			if b.Servers[j].Weight == nil {
				w := 1
				b.Servers[j].Weight = &w
			}
		}
		hc := &b.HealthCheck
		setStr(&hc.Path, DefaultHealthPath)
		d.dur(&hc.Interval, p+".health_check.interval", "2s")
		d.num(&hc.Rise, p+".health_check.rise", 2)
		d.num(&hc.Fall, p+".health_check.fall", 3)
	}
}

func (d defaulter) load() {
	l := &d.s.Load
	d.dur(&l.Duration, "load.duration", "10s")
	if l.Rate == 0 && !d.s.explicit("load.rate") {
		l.Rate = 100
	}
	setStr(&l.Shape, "constant")
	d.dur(&l.Timeout, "load.timeout", "5s")
	if l.Seed == 0 && !d.s.explicit("load.seed") {
		l.Seed = 1
	}
	if l.KeepAlive == nil {
		t := true
		l.KeepAlive = &t
	}
	k := &l.Keys
	setStr(&k.Distribution, "uniform")
	d.num(&k.Count, "load.keys.count", 1000)
	if k.Prefix == "" && !d.s.explicit("load.keys.prefix") {
		k.Prefix = "k"
	}
	d.flt(&k.ZipfS, "load.keys.zipf_s", 1.1)
	d.flt(&k.ZipfV, "load.keys.zipf_v", 1)
	if len(l.Targets) == 0 {
		l.Targets = []Target{{Path: "/kv/{key}"}}
	}
	for i := range l.Targets {
		t := &l.Targets[i]
		setStr(&t.Method, "GET")
		d.num(&t.Weight, fmt.Sprintf("load.targets[%d].weight", i), 1)
		setStr(&t.Name, t.Method+" "+t.Path)
	}
}

func (d defaulter) check() {
	c := &d.s.Check
	d.pct(&c.MaxP99Regression, "check.max_p99_regression", 0.10)
	d.pct(&c.MaxThroughputDrop, "check.max_throughput_drop", 0.05)
	d.pct(&c.MaxErrorRate, "check.max_error_rate", 0.001)
	d.flt(&c.Alpha, "check.alpha", 0.05)
}

// Clone returns a deep copy of s: a driver resolves "auto" ports in its
// copy while the caller's spec keeps them. What the spec was parsed from
// (positions, explicit fields) is shared: it is read-only.
func (s *Spec) Clone() (*Spec, error) {
	var c Spec
	if err := json.Unmarshal(Canonical(s), &c); err != nil {
		return nil, fmt.Errorf("copy spec %q: %w", s.Name, err)
	}
	c.meta = s.meta
	return &c, nil
}

// Canonical is the spec's canonical JSON form: the encoding Hash is taken of.
// Call it after ApplyDefaults so that equivalent specs hash alike.
func Canonical(s *Spec) []byte {
	b, err := json.Marshal(s)
	if err != nil { // every field type marshals; keep Hash total anyway
		return []byte(err.Error())
	}
	return b
}

// Hash is the sha256 of the spec's canonical JSON form (after defaults).
// The user's config files count by what they say (config_sha256) and by
// their base names, not by where they lie: a spec hashes the same in every
// checkout (a CI clone, a colleague's machine).
func (s *Spec) Hash() string {
	sum := sha256.Sum256(Canonical(withoutLocations(s)))
	return hex.EncodeToString(sum[:])
}

// withoutLocations is s with every config file path (and every "file:line"
// of a mapped bind or server) cut to its base name; s itself when it names
// no config file.
func withoutLocations(s *Spec) *Spec {
	if !FileBased(s) {
		return s
	}
	c, err := s.Clone()
	if err != nil {
		return s
	}
	base := func(p string) string {
		if p == "" {
			return p
		}
		return filepath.Base(p)
	}
	h := &c.HAProxy
	for i := range h.ConfigFile {
		h.ConfigFile[i] = base(h.ConfigFile[i])
	}
	for i := range h.Binds {
		h.Binds[i].At = base(h.Binds[i].At)
	}
	for i := range h.Servers {
		h.Servers[i].At = base(h.Servers[i].At)
	}
	c.Redis.ConfigFile = base(c.Redis.ConfigFile)
	c.Redis.Master.ConfigFile = base(c.Redis.Master.ConfigFile)
	for i := range c.Redis.Replicas {
		c.Redis.Replicas[i].ConfigFile = base(c.Redis.Replicas[i].ConfigFile)
	}
	return c
}
