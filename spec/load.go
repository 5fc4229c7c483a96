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
	s.ApplyDefaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
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
	str := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	port := func(p *Port, path string, v int) {
		if *p == 0 && !s.explicit(path) {
			*p = Port(v)
		}
	}
	dur := func(p *Duration, path string, v string) {
		if *p == 0 && !s.explicit(path) {
			_ = p.UnmarshalText([]byte(v))
		}
	}
	num := func(p *int, path string, v int) {
		if *p == 0 && !s.explicit(path) {
			*p = v
		}
	}
	flt := func(p *float64, path string, v float64) {
		if *p == 0 && !s.explicit(path) {
			*p = v
		}
	}

	str(&s.Version, APIVersion)
	str(&s.Runtime, DefaultRuntime)

	r := &s.Redis
	str(&r.Image, DefaultRedisImage)
	str(&r.Master.Name, DefaultMasterName)
	port(&r.Master.Port, "redis.master.port", DefaultMasterPort)
	for i := range r.Replicas {
		str(&r.Replicas[i].Name, "redis-replica-"+strconv.Itoa(i+1))
		port(&r.Replicas[i].Port, fmt.Sprintf("redis.replicas[%d].port", i), DefaultMasterPort+1+i)
	}

	for i := range s.Apps {
		a := &s.Apps[i]
		p := fmt.Sprintf("apps[%d]", i)
		str(&a.Kind, AppBuiltin)
		port(&a.Port, p+".port", DefaultAppPort+i)
		if a.Kind == AppBuiltin {
			dur(&a.OriginCost, p+".origin_cost", "2ms")
			dur(&a.CacheTTL, p+".cache_ttl", "60s")
		}
	}

	h := &s.HAProxy
	str(&h.Image, DefaultHAProxyImage)
	port(&h.Port, "haproxy.port", DefaultHAProxyPort)
	str(&h.Mode, "http")
	num(&h.Maxconn, "haproxy.maxconn", 4096)
	dur(&h.Timeouts.Connect, "haproxy.timeouts.connect", "5s")
	dur(&h.Timeouts.Client, "haproxy.timeouts.client", "30s")
	dur(&h.Timeouts.Server, "haproxy.timeouts.server", "30s")
	dur(&h.Timeouts.Queue, "haproxy.timeouts.queue", "5s")
	dur(&h.Timeouts.HTTPKeepAlive, "haproxy.timeouts.http_keep_alive", "10s")
	dur(&h.Timeouts.HTTPRequest, "haproxy.timeouts.http_request", "10s")
	if len(h.Backends) == 0 {
		b := Backend{Name: DefaultBackend}
		seen := map[string]bool{}
		for _, a := range s.Apps {
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
		str(&b.Balance, "roundrobin")
		for j := range b.Servers {
			if b.Servers[j].Weight == nil {
				w := 1
				b.Servers[j].Weight = &w
			}
		}
		hc := &b.HealthCheck
		str(&hc.Path, DefaultHealthPath)
		dur(&hc.Interval, p+".health_check.interval", "2s")
		num(&hc.Rise, p+".health_check.rise", 2)
		num(&hc.Fall, p+".health_check.fall", 3)
	}
	if h.Cache.Size == 0 && !s.explicit("haproxy.cache.size") {
		h.Cache.Size = 64 << 20
	}
	dur(&h.Cache.MaxAge, "haproxy.cache.max_age", "60s")
	if h.Cache.MaxObjectSize == 0 && !s.explicit("haproxy.cache.max_object_size") {
		h.Cache.MaxObjectSize = 512 << 10
	}
	port(&h.StatsSocket.Port, "haproxy.stats_socket.port", DefaultStatsPort)
	port(&h.Prometheus.Port, "haproxy.prometheus.port", DefaultPromPort)
	port(&h.StatsPage.Port, "haproxy.stats_page.port", DefaultStatsPagePort)

	l := &s.Load
	dur(&l.Duration, "load.duration", "10s")
	if l.Rate == 0 && !s.explicit("load.rate") {
		l.Rate = 100
	}
	str(&l.Shape, "constant")
	dur(&l.Timeout, "load.timeout", "5s")
	if l.Seed == 0 && !s.explicit("load.seed") {
		l.Seed = 1
	}
	if l.KeepAlive == nil {
		t := true
		l.KeepAlive = &t
	}
	k := &l.Keys
	str(&k.Distribution, "uniform")
	num(&k.Count, "load.keys.count", 1000)
	if k.Prefix == "" && !s.explicit("load.keys.prefix") {
		k.Prefix = "k"
	}
	flt(&k.ZipfS, "load.keys.zipf_s", 1.1)
	flt(&k.ZipfV, "load.keys.zipf_v", 1)
	if len(l.Targets) == 0 {
		l.Targets = []Target{{Path: "/kv/{key}"}}
	}
	for i := range l.Targets {
		t := &l.Targets[i]
		str(&t.Method, "GET")
		num(&t.Weight, fmt.Sprintf("load.targets[%d].weight", i), 1)
		str(&t.Name, t.Method+" "+t.Path)
	}

	c := &s.Check
	pct := func(p *Percent, path string, v Percent) {
		if *p == 0 && !s.explicit(path) {
			*p = v
		}
	}
	pct(&c.MaxP99Regression, "check.max_p99_regression", 0.10)
	pct(&c.MaxThroughputDrop, "check.max_throughput_drop", 0.05)
	pct(&c.MaxErrorRate, "check.max_error_rate", 0.001)
	flt(&c.Alpha, "check.alpha", 0.05)

	pr := &s.Probes
	dur(&pr.HeartbeatInterval, "probes.heartbeat_interval", "100ms")
	dur(&pr.Interval, "probes.interval", "1s")
	str(&pr.Listen, DefaultProbesListen)
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
func (s *Spec) Hash() string {
	sum := sha256.Sum256(Canonical(s))
	return hex.EncodeToString(sum[:])
}
