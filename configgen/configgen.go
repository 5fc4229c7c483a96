// Package configgen renders a spec into the files the real programs read:
// haproxy.cfg and one redis.conf per node. It renders from typed structs,
// deterministically, and can check its output with the real binaries. It
// starts no long-lived process.
package configgen

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/duckbench/duckbench/spec"
)

// Runtime names, equal to stack.RuntimeLocal and stack.RuntimeCompose
// (repeated here so that stack may import configgen).
const (
	runtimeLocal   = "local"
	runtimeCompose = "compose"
	runtimeSwarm   = "swarm"
)

// File names inside a run directory.
const (
	// HAProxyFile is the name of the rendered HAProxy configuration.
	HAProxyFile = "haproxy.cfg"
	// StatsSocketFile is the Runtime API socket's name inside RunDir (local).
	StatsSocketFile = "haproxy.sock"
	// ComposeRedisDir is the Redis working directory inside a container.
	ComposeRedisDir = "/data"
	// CacheName is the name of HAProxy's cache section.
	CacheName = "duckbench"
	// ServedByHeader is the response header HAProxy sets to the name of
	// the server that answered (load.ServedByHeader reads it).
	ServedByHeader = "X-Served-By"
)

// RedisFile returns the file name of node's redis.conf: redis-<node>.conf,
// or <node>.conf when the name already starts with "redis-". Render rejects
// two nodes whose files would collide.
func RedisFile(node string) string {
	if strings.HasPrefix(node, "redis-") {
		return node + ".conf" // redis-master.conf, not redis-redis-master.conf
	}
	return "redis-" + node + ".conf"
}

// Target says where the rendered files will run. The same spec renders
// differently for local processes (everything on 127.0.0.1, sockets and
// data in RunDir) and for compose (service names on the project network,
// files mounted at fixed container paths).
type Target struct {
	// Runtime is stack.RuntimeLocal, stack.RuntimeCompose or
	// stack.RuntimeSwarm; empty means local.
	Runtime string
	// RunDir is the absolute run directory (local): the Runtime API socket,
	// Redis working directories and pid files live below it.
	RunDir string
}

// compose reports whether the files run in containers on a Docker network
// (compose or swarm): services by name, files at fixed container paths.
func (t Target) compose() bool { return t.Runtime == runtimeCompose || t.Runtime == runtimeSwarm }

// swarm reports whether apps may have several tasks behind one DNS name.
func (t Target) swarm() bool { return t.Runtime == runtimeSwarm }

// StatsSocketPath is the Runtime API unix socket of a local target:
// <RunDir>/haproxy.sock.
func (t Target) StatsSocketPath() string { return filepath.Join(t.RunDir, StatsSocketFile) }

// RedisDir is node's working directory (redis.conf "dir"): <RunDir>/redis-<node>
// locally, /data in a container. Redis does not create it: the driver must
// (mode 0700) before starting the node.
func (t Target) RedisDir(node string) string {
	if t.compose() {
		return ComposeRedisDir
	}
	return filepath.Join(t.RunDir, "redis-"+node)
}

func (t Target) validate() error {
	switch t.Runtime {
	case "", runtimeLocal:
		if !filepath.IsAbs(t.RunDir) {
			return fmt.Errorf("local target needs an absolute run dir (got %q)", t.RunDir)
		}
	case runtimeCompose, runtimeSwarm:
	default:
		return fmt.Errorf("unknown runtime %q (want %q, %q or %q)", t.Runtime, runtimeLocal, runtimeCompose, runtimeSwarm)
	}
	return nil
}

// Files is one render. Every byte slice is a complete file; none holds a
// password (see RedisSecretConfig).
type Files struct {
	// HAProxy is haproxy.cfg.
	HAProxy []byte
	// Redis maps a node name to its redis.conf (file redis-<node>.conf).
	Redis map[string][]byte
	// Names lists every file name in a stable order: haproxy.cfg, then
	// redis-<node>.conf in spec order.
	Names []string
	// HAProxySource maps each line of HAProxy (index = line − 1) to the
	// user's "file:line" it came from, for a spec with haproxy.config_file.
	HAProxySource []string
	// Explain lists every change made to the user's own config files
	// (haproxy.config_file, redis config_file), in file order.
	Explain []Rewrite
	// LabTLS reports that haproxy.cfg serves TLS binds with the lab
	// certificate (Target.LabCertPath): WriteDir writes a fresh one, and
	// anything that runs haproxy on the file needs it (WriteLabTLS).
	LabTLS bool
	// EntryTLS reports that the load's entry bind (haproxy.port) is a TLS
	// bind: the load speaks https and trusts the lab CA (Target.LabCAPath).
	EntryTLS bool
}

// File returns the content of the named file (one of Names) and whether it exists.
func (f *Files) File(name string) ([]byte, bool) {
	if name == HAProxyFile {
		return f.HAProxy, f.HAProxy != nil
	}
	for node, b := range f.Redis {
		if RedisFile(node) == name {
			return b, true
		}
	}
	return nil, false
}

// Hashes returns the hex sha256 of every file, keyed by file name.
func (f *Files) Hashes() map[string]string {
	out := make(map[string]string, len(f.Names))
	for _, name := range f.Names {
		b, _ := f.File(name)
		sum := sha256.Sum256(b)
		out[name] = hex.EncodeToString(sum[:])
	}
	return out
}

// WriteDir writes every file into dir (which must exist), mode 0644 (the
// files hold no secret and containers running as another user read them).
// It writes all files under temporary names first and renames them only when
// every write succeeded, so an error leaves no partial or half-new set.
// With LabTLS, dir must be the Target's run dir: a fresh lab certificate is
// written first into dir/tls (WriteLabTLS: mode 0700, files 0600).
func (f *Files) WriteDir(dir string) (err error) {
	if err := f.WriteLabTLS(dir); err != nil {
		return fmt.Errorf("write lab certificate: %w", err)
	}
	type pending struct{ tmp, final string }
	var done []pending
	defer func() {
		if err != nil {
			for _, p := range done {
				os.Remove(p.tmp)
			}
		}
	}()
	for _, name := range f.Names {
		b, ok := f.File(name)
		if !ok {
			return fmt.Errorf("write %q: no such rendered file", name)
		}
		tmp, err := os.CreateTemp(dir, "."+name+".tmp-*")
		if err != nil {
			return fmt.Errorf("write %q: %w", name, err)
		}
		done = append(done, pending{tmp.Name(), filepath.Join(dir, name)})
		_, werr := tmp.Write(b)
		if werr == nil {
			werr = tmp.Chmod(0o644)
		}
		if werr == nil {
			werr = tmp.Sync()
		}
		if cerr := tmp.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("write %q: %w", name, werr)
		}
	}
	for i, p := range done {
		if err := os.Rename(p.tmp, p.final); err != nil {
			// Earlier files are already in place; remove the rest of the temps.
			done = done[i:]
			return fmt.Errorf("write %q: %w", filepath.Base(p.final), err)
		}
	}
	return nil
}

// Render renders s (with defaults applied and every port resolved: no
// "auto" left) for t.
func Render(s *spec.Spec, t Target) (*Files, error) {
	if s == nil {
		return nil, errors.New("render: nil spec")
	}
	if err := t.validate(); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	if err := checkPorts(s, t); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	hdr := header(s, t)
	f := &Files{Redis: map[string][]byte{}, Names: []string{HAProxyFile}}
	if len(s.HAProxy.ConfigFile) > 0 {
		if err := renderHAProxyFile(s, t, hdr, f); err != nil {
			return nil, fmt.Errorf("render haproxy.cfg: %w", err)
		}
	} else {
		hc, err := buildHAProxy(s, t)
		if err != nil {
			return nil, fmt.Errorf("render haproxy.cfg: %w", err)
		}
		f.HAProxy = hc.render(hdr)
	}
	files := map[string]string{}
	for _, n := range s.Redis.Nodes() {
		if _, dup := f.Redis[n.Name]; dup {
			return nil, fmt.Errorf("render: duplicate redis node name %q", n.Name)
		}
		if other, dup := files[RedisFile(n.Name)]; dup {
			return nil, fmt.Errorf("render: redis nodes %q and %q would both write %s: rename one", other, n.Name, RedisFile(n.Name))
		}
		files[RedisFile(n.Name)] = n.Name
		if n.ConfigFile != "" {
			b, rw, err := renderRedisFile(s, t, n, hdr)
			if err != nil {
				return nil, fmt.Errorf("render %s: %w", RedisFile(n.Name), err)
			}
			f.Redis[n.Name] = b
			f.Names = append(f.Names, RedisFile(n.Name))
			f.Explain = append(f.Explain, rw...)
			continue
		}
		rc, err := buildRedis(s, t, n)
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", RedisFile(n.Name), err)
		}
		f.Redis[n.Name] = rc.render(hdr)
		f.Names = append(f.Names, RedisFile(n.Name))
	}
	return f, nil
}

// header is the comment every rendered file starts with.
func header(s *spec.Spec, t Target) []string {
	rt := t.Runtime
	if rt == "" {
		rt = runtimeLocal
	}
	return []string{
		"Generated by duckbench. Do not edit: change the spec and render again.",
		fmt.Sprintf("spec: %s  runtime: %s", s.Name, rt),
		"spec sha256: " + s.Hash(),
	}
}

// checkPorts rejects any port the renderer needs that is still "auto" or unset.
func checkPorts(s *spec.Spec, t Target) error {
	type field struct {
		path string
		port spec.Port
	}
	fields := []field{{"haproxy.port", s.HAProxy.Port}}
	if t.compose() {
		fields = append(fields, field{"haproxy.stats_socket.port", s.HAProxy.StatsSocket.Port})
	}
	if !s.HAProxy.Prometheus.Disabled {
		fields = append(fields, field{"haproxy.prometheus.port", s.HAProxy.Prometheus.Port})
	}
	if s.HAProxy.StatsPage.Enabled {
		fields = append(fields, field{"haproxy.stats_page.port", s.HAProxy.StatsPage.Port})
	}
	for _, n := range s.Redis.Nodes() {
		fields = append(fields, field{n.Path + ".port", n.Port})
	}
	for i, a := range s.Apps {
		fields = append(fields, field{fmt.Sprintf("apps[%d].port", i), a.Port})
	}
	for _, f := range fields {
		switch {
		case f.port.IsAuto():
			return fmt.Errorf("%s is still \"auto\": resolve ports before rendering", f.path)
		case f.port < 1 || f.port > 65535:
			return fmt.Errorf("%s must be 1-65535 (got %d)", f.path, int(f.port))
		}
	}
	return nil
}

// checkRaw rejects a raw extra line that would break the file's structure.
func checkRaw(path string, lines []string) error {
	for i, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			return fmt.Errorf("%s[%d]: raw line must be a single line (got %q)", path, i, l)
		}
	}
	return nil
}
