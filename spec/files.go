package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/duckbench/duckbench/hacfg"
	"github.com/duckbench/duckbench/rediscfg"
)

// Paths is one path or a list of them (config_file: a.cfg, or [a.cfg, conf.d]).
type Paths []string

// FileBind is one bind line of haproxy.config_file: the lab listens for it
// on 127.0.0.1:Port. The first bind in load order listens on haproxy.port;
// the others on the next ports up (filled in when the spec is read).
type FileBind struct {
	// At is the bind line, "file:line".
	At string `json:"at"`
	// Frontend is the frontend or listen section holding it.
	Frontend string `json:"frontend"`
	// Port is the lab's port for it.
	Port Port `json:"port"`
	// Entry marks the bind the load goes to (on haproxy.port): the first
	// TLS bind, else the first bind, of the first frontend or listen
	// section that sends to a backend (default_backend, use_backend or its
	// own servers). A TLS entry is what the file's plain binds redirect to
	// (redirect scheme https if !{ ssl_fc }).
	Entry bool `json:"entry,omitempty"`
	// TLS marks a bind with "ssl": the lab serves it with its own certificate.
	TLS bool `json:"tls,omitempty"`
}

// FileServer is one server of haproxy.config_file, mapped to an app.
type FileServer struct {
	// At is the server (or server-template) line, "file:line".
	At string `json:"at"`
	// Backend and Server name it in the file.
	Backend string `json:"backend"`
	Server  string `json:"server"`
	// App is the lab app it is mapped to.
	App string `json:"app"`
	// Weight and Maxconn are the line's own (nil and 0 when not written).
	Weight  *int `json:"weight,omitempty"`
	Maxconn int  `json:"maxconn,omitempty"`
}

// serverOpts reads weight and maxconn from a server line's options.
func serverOpts(fs *FileServer, opts []string) {
	for i := 0; i+1 < len(opts); i++ {
		n, err := strconv.Atoi(opts[i+1])
		if err != nil {
			continue
		}
		switch opts[i] {
		case "weight":
			fs.Weight = &n
		case "maxconn":
			fs.Maxconn = n
		}
	}
}

// FileBased reports whether s takes HAProxy's or any Redis node's
// configuration from the user's own files.
func FileBased(s *Spec) bool {
	if len(s.HAProxy.ConfigFile) > 0 || s.Redis.ConfigFile != "" {
		return true
	}
	for _, n := range s.Redis.Nodes() {
		if n.ConfigFile != "" {
			return true
		}
	}
	return false
}

// HAProxyVersion is the version .if conditions compare with when the spec
// is read (version_atleast, version_before): the packaged HAProxy.
const HAProxyVersion = "2.6.0"

// HAProxyOptions are the options the spec and configgen read config files with.
func HAProxyOptions() hacfg.Options {
	return hacfg.Options{Env: os.LookupEnv, Version: HAProxyVersion}
}

// LoadHAProxyFiles reads haproxy.config_file.
func (h HAProxy) LoadHAProxyFiles() (*hacfg.Config, error) {
	return hacfg.Load(h.ConfigFile, HAProxyOptions())
}

// contentLine is one line of a user's config file, for contentSum.
type contentLine struct{ file, raw string }

// contentSum is the sha256 of what the files say, line by line, each file
// named by its base name only: where the files lie is no part of a spec's
// identity (the same spec in another checkout hashes the same), what they
// say is.
func contentSum(lines []contentLine) string {
	h := sha256.New()
	file := "\x00"
	for _, l := range lines {
		if l.file != file {
			file = l.file
			fmt.Fprintf(h, "\x00file %s\n", filepath.Base(file))
		}
		fmt.Fprintf(h, "%s\n", l.raw)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// absPaths makes relative config paths relative to the spec's directory.
func absPaths(dir string, ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		if p != "" && !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		out[i] = p
	}
	return out
}

var notName = regexp.MustCompile(`[^a-z0-9-]+`)

// appName turns an HAProxy server name into an app name.
func appName(s string) string {
	n := strings.Trim(notName.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if n == "" {
		n = "server"
	}
	return n
}

// fromFiles reads the config files the spec names (paths relative to dir)
// and fills what the rest of duckbench reads from them: the backends, one
// builtin app per server when apps is empty, the bind listeners. Errors are
// located at the spec field and the file line.
func (s *Spec) fromFiles(dir string) Errors {
	var errs Errors
	fail := func(path, format string, args ...any) {
		line, col := 1, 1
		if s.meta != nil {
			if p, ok := s.meta.pos[path]; ok {
				line, col = p.line, p.col
			}
		}
		file := "spec"
		if s.meta != nil {
			file = s.meta.file
		}
		// Paths next to the spec are shown as written (relative to it).
		msg := strings.ReplaceAll(fmt.Sprintf(format, args...), dir+string(filepath.Separator), "")
		errs = append(errs, FieldError{File: file, Line: line, Col: col, Path: path, Msg: msg})
	}
	r := &s.Redis
	if r.ConfigFile != "" {
		r.ConfigFile = absPaths(dir, []string{r.ConfigFile})[0]
	}
	nodes := []*RedisNode{&r.Master}
	paths := []string{"redis.master"}
	for i := range r.Replicas {
		nodes = append(nodes, &r.Replicas[i])
		paths = append(paths, fmt.Sprintf("redis.replicas[%d]", i))
	}
	for i, n := range nodes {
		p := paths[i] + ".config_file"
		if n.ConfigFile != "" {
			n.ConfigFile = absPaths(dir, []string{n.ConfigFile})[0]
		} else if r.ConfigFile != "" {
			n.ConfigFile, p = r.ConfigFile, "redis.config_file"
		}
		if n.ConfigFile != "" {
			c, err := rediscfg.Load(n.ConfigFile, "")
			if err != nil {
				fail(p, "%v", err)
				continue
			}
			lines := make([]contentLine, 0, len(c.Lines))
			for _, l := range c.Lines {
				lines = append(lines, contentLine{l.File, l.Raw})
			}
			n.ConfigSHA256 = contentSum(lines)
		}
	}
	if len(s.HAProxy.ConfigFile) == 0 {
		return errs
	}
	h := &s.HAProxy
	h.ConfigFile = absPaths(dir, h.ConfigFile)
	if len(h.Backends) > 0 || len(h.Routes) > 0 {
		fail("haproxy.config_file", "backends and routes come from the file: remove haproxy.backends and haproxy.routes")
		return errs
	}
	c, err := h.LoadHAProxyFiles()
	if err != nil {
		fail("haproxy.config_file", "%v", err)
		return errs
	}
	if err := s.modelFromHAProxy(c); err != nil {
		fail("haproxy.config_file", "%v", err)
	}
	return errs
}

// modelFromHAProxy fills backends, apps and binds from c.
func (s *Spec) modelFromHAProxy(c *hacfg.Config) error {
	h := &s.HAProxy
	servers, err := FileServers(c)
	if err != nil {
		return err
	}
	if len(servers) == 0 {
		return fmt.Errorf("no server in any backend or listen section: the lab needs at least one")
	}
	genApps := len(s.Apps) == 0
	names := AppNames(servers)
	byBackend := map[string]int{}
	for i := range servers {
		fs := &servers[i]
		name := names[i]
		if genApps {
			s.Apps = append(s.Apps, App{Name: name, Port: PortAuto})
		} else if !hasApp(s.Apps, name) {
			return fmt.Errorf("%s: server %q has no app named %q in apps: name one, or leave apps empty for one builtin app per server", fs.At, fs.Server, name)
		}
		fs.App = name
		bi, ok := byBackend[fs.Backend]
		if !ok {
			bi = len(h.Backends)
			byBackend[fs.Backend] = bi
			h.Backends = append(h.Backends, Backend{Name: fs.Backend, HealthCheck: HealthCheck{Disabled: true}})
		}
		h.Backends[bi].Servers = append(h.Backends[bi].Servers, Server{App: name, Weight: fs.Weight, Maxconn: fs.Maxconn})
	}
	h.Servers = servers
	var lines []contentLine
	for _, sec := range c.Sections {
		if sec.Header != nil {
			lines = append(lines, contentLine{sec.Header.File, sec.Header.Raw})
		}
		for _, l := range sec.Lines {
			lines = append(lines, contentLine{l.File, l.Raw})
		}
	}
	h.ConfigSHA256 = contentSum(lines)
	h.Binds = nil
	for _, sec := range c.Of("frontend", "listen") {
		for _, l := range sec.Active() {
			if l.Keyword() == "bind" {
				h.Binds = append(h.Binds, FileBind{At: l.Pos(), Frontend: sec.Name, Port: PortAuto, TLS: len(l.Args) > 2 && BindSSL(l.Args[2:]) >= 0})
			}
		}
	}
	if len(h.Binds) == 0 {
		return fmt.Errorf("no bind in any frontend or listen section: the load needs one to go to (add a frontend in a file of yours, loaded after this one)")
	}
	h.Binds[entryBind(c, h.Binds)].Entry = true
	return nil
}

// entryBind is the index of the bind the load goes to (see FileBind.Entry);
// the first bind when no section sends to a backend.
func entryBind(c *hacfg.Config, binds []FileBind) int {
	for _, sec := range c.Of("frontend", "listen") {
		routes := false
		for _, l := range sec.Active() {
			switch l.Keyword() {
			case "default_backend", "use_backend", "server", "server-template":
				routes = true
			}
		}
		if !routes {
			continue
		}
		first := -1
		for i, b := range binds {
			if b.Frontend != sec.Name {
				continue
			}
			if b.TLS {
				return i
			}
			if first < 0 {
				first = i
			}
		}
		if first >= 0 {
			return first
		}
	}
	return 0
}

// AppNames are the app names of servers: the server's name in lower case
// letters, digits and '-', prefixed with its backend's where two servers
// would share one.
func AppNames(servers []FileServer) []string {
	count := map[string]int{}
	for _, fs := range servers {
		count[appName(fs.Server)]++
	}
	out := make([]string, len(servers))
	for i, fs := range servers {
		out[i] = appName(fs.Server)
		if count[out[i]] > 1 {
			out[i] = appName(fs.Backend + "-" + fs.Server)
		}
	}
	return out
}

func hasApp(apps []App, name string) bool {
	for _, a := range apps {
		if a.Name == name {
			return true
		}
	}
	return false
}

// FileServers lists the servers of c's backend and listen sections in
// order, server-template lines expanded (prefix1…prefixN). A server the lab
// cannot stand in for (a unix socket, an fd) is a located error.
func FileServers(c *hacfg.Config) ([]FileServer, error) {
	var out []FileServer
	for _, sec := range c.Of("backend", "listen") {
		for _, l := range sec.Active() {
			switch l.Keyword() {
			case "server":
				if len(l.Args) < 2 {
					return nil, fmt.Errorf("%s: server needs a name", l.Pos())
				}
				if len(l.Args) > 2 {
					if err := serverAddr(l.Pos(), l.Args[2]); err != nil {
						return nil, err
					}
				}
				fs := FileServer{At: l.Pos(), Backend: sec.Name, Server: l.Args[1]}
				if len(l.Args) > 3 {
					serverOpts(&fs, l.Args[3:])
				}
				out = append(out, fs)
			case "server-template":
				names, err := TemplateNames(l)
				if err != nil {
					return nil, err
				}
				for _, n := range names {
					fs := FileServer{At: l.Pos(), Backend: sec.Name, Server: n}
					serverOpts(&fs, l.Args[4:])
					out = append(out, fs)
				}
			}
		}
	}
	return out, nil
}

// serverAddr rejects an address the lab cannot map to an app over TCP.
func serverAddr(at, addr string) error {
	for _, p := range []string{"/", "unix@", "abns@", "fd@", "sockpair@", "uxst@", "uxdg@"} {
		if strings.HasPrefix(addr, p) {
			return fmt.Errorf("%s: server on %q is not a TCP address: the lab's apps listen on TCP only", at, addr)
		}
	}
	return nil
}

// TemplateNames expands a server-template line: "server-template web 3
// addr" or "web 1-3 addr" gives web1, web2, web3.
func TemplateNames(l *hacfg.Line) ([]string, error) {
	if len(l.Args) < 4 {
		return nil, fmt.Errorf("%s: server-template needs a prefix, a count or range and an address", l.Pos())
	}
	if err := serverAddr(l.Pos(), l.Args[3]); err != nil {
		return nil, err
	}
	lo, hi := 1, 0
	a, b, isRange := strings.Cut(l.Args[2], "-")
	n1, err1 := strconv.Atoi(a)
	switch {
	case isRange:
		n2, err2 := strconv.Atoi(b)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s: server-template range %q must be <from>-<to>", l.Pos(), l.Args[2])
		}
		lo, hi = n1, n2
	case err1 == nil:
		hi = n1
	default:
		return nil, fmt.Errorf("%s: server-template count %q must be a number", l.Pos(), l.Args[2])
	}
	if lo < 0 || hi < lo || hi-lo >= 64 {
		return nil, fmt.Errorf("%s: server-template %q: the lab runs 1 to 64 servers per template", l.Pos(), l.Args[2])
	}
	var out []string
	for i := lo; i <= hi; i++ {
		out = append(out, l.Args[1]+strconv.Itoa(i))
	}
	return out, nil
}

// FileSetting is a directive set in a config file by a setting (sweep
// --vary haproxy.file.backend[web].balance=leastconn, redis.file.hz=50):
// the directive's last line in the section is replaced, or the directive
// added at the section's end.
type FileSetting struct {
	// Section is the HAProxy section kind (global, defaults, frontend,
	// backend, listen, …) and Name its name; both empty for redis.conf.
	Section string `json:"section,omitempty"`
	Name    string `json:"name,omitempty"`
	// Directive is the directive's keyword words, e.g. [timeout server].
	Directive []string `json:"directive"`
	// Value is the value's words.
	Value []string `json:"value,omitempty"`
}

func (f FileSetting) String() string {
	return strings.Join(append(slices.Clone(f.Directive), f.Value...), " ")
}

// parseFileSetting reads haproxy.file.<section>[<name>].<directive> or
// redis.file.<directive> (the value comes later).
func parseFileSetting(path string) (FileSetting, error) {
	if rest, ok := strings.CutPrefix(path, "redis.file."); ok {
		if len(strings.Fields(rest)) == 0 {
			return FileSetting{}, fmt.Errorf("field path %q: want redis.file.<directive>", path)
		}
		return FileSetting{Directive: strings.Fields(strings.ToLower(rest))}, nil
	}
	rest := strings.TrimPrefix(path, "haproxy.file.")
	sec, dir, ok := strings.Cut(rest, ".")
	kind, name, named := strings.Cut(sec, "[")
	if named {
		name, named = strings.CutSuffix(name, "]")
		if !named || name == "" {
			return FileSetting{}, fmt.Errorf("field path %q: bad section %q (want e.g. backend[web])", path, sec)
		}
	}
	if !ok || !slices.Contains(hacfg.SectionKinds, kind) || len(strings.Fields(dir)) == 0 {
		return FileSetting{}, fmt.Errorf("field path %q: want haproxy.file.<section>[<name>].<directive>, e.g. haproxy.file.backend[web].balance", path)
	}
	return FileSetting{Section: kind, Name: name, Directive: strings.Fields(dir)}, nil
}

// setInFiles records file settings on the spec, checking that the spec has
// the file and, for HAProxy, the section.
func (s *Spec) setInFiles(settings []Setting) error {
	for _, st := range settings {
		fs := *st.Path.file
		fs.Value = strings.Fields(st.Value)
		if fs.Section == "" {
			if !FileBased(s) || s.Redis.ConfigFile == "" && s.Redis.Master.ConfigFile == "" {
				return fmt.Errorf("%s: the spec names no redis config_file", st.Path)
			}
			if _, lab := RedisLab[fs.Directive[0]]; lab {
				return fmt.Errorf("%s: %s belongs to the lab", st.Path, fs.Directive[0])
			}
			s.Redis.FileSettings = append(s.Redis.FileSettings, fs)
			continue
		}
		if len(s.HAProxy.ConfigFile) == 0 {
			return fmt.Errorf("%s: the spec names no haproxy.config_file", st.Path)
		}
		c, err := s.HAProxy.LoadHAProxyFiles()
		if err != nil {
			return fmt.Errorf("%s: %w", st.Path, err)
		}
		if len(c.Of(fs.Section)) == 0 || fs.Name != "" && c.Find(fs.Section, fs.Name) == nil {
			return fmt.Errorf("%s: no %s %s in haproxy.config_file", st.Path, fs.Section, fs.Name)
		}
		s.HAProxy.FileSettings = append(s.HAProxy.FileSettings, fs)
	}
	return nil
}

// RedisLab are the redis.conf directives the lab owns (configgen replaces
// them; a setting may not).
var RedisLab = map[string]bool{
	"port": true, "bind": true, "replicaof": true, "slaveof": true, "dir": true, "pidfile": true,
	"logfile": true, "daemonize": true, "supervised": true, "unixsocket": true,
	"requirepass": true, "masterauth": true, "masteruser": true, "user": true, "include": true,
}

// bindArgs are the bind options of HAProxy 2.6 that take one argument:
// BindSSL skips their arguments (a bind named "ssl" is not a TLS bind).
var bindArgs = map[string]bool{
	"accept-netscaler-cip": true, "alpn": true, "backlog": true, "ca-file": true, "ca-ignore-err": true,
	"ca-sign-file": true, "ca-sign-pass": true, "ca-verify-file": true, "ciphers": true, "ciphersuites": true,
	"client-sigalgs": true, "crl-file": true, "crt": true, "crt-ignore-err": true, "crt-list": true, "curves": true,
	"ecdhe": true, "expose-fd": true, "gid": true, "group": true, "id": true, "interface": true, "level": true,
	"maxconn": true, "mode": true, "mss": true, "name": true, "namespace": true, "nice": true, "npn": true,
	"process": true, "proto": true, "quic-cc-algo": true, "severity-output": true, "sigalgs": true,
	"ssl-max-ver": true, "ssl-min-ver": true, "tcp-ut": true, "thread": true, "tls-ticket-keys": true,
	"uid": true, "user": true, "verify": true,
}

// BindSSL is the index in opts (a bind line's words after the address) of
// the "ssl" keyword, or -1 when the bind is not TLS.
func BindSSL(opts []string) int {
	for i := 0; i < len(opts); i++ {
		switch {
		case opts[i] == "ssl":
			return i
		case bindArgs[opts[i]]:
			i++
		}
	}
	return -1
}
