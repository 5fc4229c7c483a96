package configgen

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/duckbench/duckbench/hacfg"
	"github.com/duckbench/duckbench/spec"
)

// Rewrite is one change the lab made to a user's config file, as render
// --explain lists it.
type Rewrite struct {
	// File is the rendered file it went into (haproxy.cfg, redis-<node>.conf).
	File string `json:"file"`
	// At is the user's line, "path:line"; empty for a line the lab added.
	At string `json:"at,omitempty"`
	// What the lab did, and Why.
	What string `json:"what"`
	Why  string `json:"why"`
}

func (r Rewrite) String() string {
	at := r.At
	if at == "" {
		at = "(added)"
	}
	return fmt.Sprintf("%s → %s: %s (%s)", at, r.File, r.What, r.Why)
}

// Options of bind and server lines the lab drops, with how many words
// follow each.
var (
	dropBindOpts = map[string]int{
		"interface": 1, "namespace": 1, "transparent": 0, "accept-proxy": 0, "uid": 1, "gid": 1, "user": 1,
		"group": 1, "mode": 1, "defer-accept": 0, "v4v6": 0, "v6only": 0, "quic-cc-algo": 1,
	}
	// certBindOpts name the user's certificates: the lab certificate
	// replaces them.
	certBindOpts = map[string]int{"crt": 1, "crt-list": 1}
	// tlsFileBindOpts point at the user's TLS files (or need one of them:
	// verify needs ca-file, generate-certificates ca-sign-file); dropped.
	tlsFileBindOpts = map[string]int{
		"ca-file": 1, "crl-file": 1, "ca-verify-file": 1, "ca-sign-file": 1, "ca-sign-pass": 1,
		"tls-ticket-keys": 1, "verify": 1, "generate-certificates": 0, "ca-ignore-err": 1, "crt-ignore-err": 1,
	}
	dropServerOpts = map[string]int{
		"ssl": 0, "check-ssl": 0, "verify": 1, "verifyhost": 1, "ca-file": 1, "crl-file": 1,
		"crt": 1, "sni": 1, "check-sni": 1, "alpn": 1, "check-alpn": 1, "npn": 1,
		"resolvers": 1, "resolve-prefer": 1, "resolve-net": 1, "resolve-opts": 1, "init-addr": 1,
		"addr": 1, "port": 1, "source": 1, "namespace": 1, "send-proxy": 0, "send-proxy-v2": 0,
		"send-proxy-v2-ssl": 0, "send-proxy-v2-ssl-cn": 0, "check-send-proxy": 0, "proto": 1,
		"ssl-min-ver": 1, "ssl-max-ver": 1, "ciphers": 1, "ciphersuites": 1, "no-ssl-reuse": 0,
		"force-tlsv12": 0, "force-tlsv13": 0, "no-sslv3": 0, "no-tlsv10": 0, "no-tlsv11": 0,
		"ssl-reuse": 0, "tls-tickets": 0, "no-tls-tickets": 0, "check-via-socks4": 0, "socks4": 1,
		"agent-check": 0, "agent-addr": 1, "agent-port": 1,
	}
	// globalLab are global keywords the lab owns: it runs HAProxy in the
	// foreground, unprivileged, with its files in the run dir.
	globalLab = map[string]string{
		"daemon":        "the lab runs HAProxy in the foreground",
		"master-worker": "the lab runs HAProxy in the foreground",
		"chroot":        "the lab runs HAProxy unprivileged",
		"user":          "the lab runs HAProxy unprivileged",
		"group":         "the lab runs HAProxy unprivileged",
		"uid":           "the lab runs HAProxy unprivileged",
		"gid":           "the lab runs HAProxy unprivileged",
		"pidfile":       "the lab tracks the process itself",
		"nbproc":        "not in HAProxy 2.5+",
		// TLS files of the user's: the lab reads none of them.
		"ssl-dh-param-file":  "points at your TLS files: the lab reads none of them",
		"issuers-chain-path": "points at your TLS files: the lab reads none of them",
	}
)

// strip removes opts (with their arguments) from words and returns what it removed.
func strip(words []string, opts map[string]int) (kept, dropped []string) {
	for i := 0; i < len(words); i++ {
		n, ok := opts[words[i]]
		if !ok {
			kept = append(kept, words[i])
			continue
		}
		end := min(i+1+n, len(words))
		dropped = append(dropped, strings.Join(words[i:end], " "))
		i = end - 1
	}
	return kept, dropped
}

// haFile renders a user's haproxy.cfg.
type haFile struct {
	s        *spec.Spec
	t        Target
	apps     map[string]spec.App
	binds    []spec.FileBind
	servers  []spec.FileServer
	rewrites []Rewrite
	labTLS   bool // a bind serves the lab certificate
	entryTLS bool // the entry bind is TLS
}

func (f *haFile) note(l *hacfg.Line, what, why string) {
	at := ""
	if l != nil {
		at = l.Pos()
	}
	f.rewrites = append(f.rewrites, Rewrite{File: HAProxyFile, At: at, What: what, Why: why})
}

// renderHAProxyFile renders s.HAProxy.ConfigFile for t into out: the file as
// written but for what the lab owns, every rewrite, and whether it serves
// the lab certificate.
func renderHAProxyFile(s *spec.Spec, t Target, header []string, out *Files) error {
	if t.compose() {
		return fmt.Errorf("haproxy.config_file: runs on the local runtime only in this version (got %s)", t.Runtime)
	}
	c, err := s.HAProxy.LoadHAProxyFiles()
	if err != nil {
		return fmt.Errorf("haproxy.config_file: %w", err)
	}
	f := &haFile{s: s, t: t, apps: map[string]spec.App{}, binds: s.HAProxy.Binds, servers: s.HAProxy.Servers}
	for _, a := range s.Apps {
		f.apps[a.Name] = a
	}
	if err := f.global(c); err != nil {
		return err
	}
	mode := "tcp"
	for _, sec := range c.Sections {
		var err error
		switch sec.Kind {
		case "defaults":
			mode = sectionMode(sec, "tcp")
		case "frontend":
			err = f.frontend(sec, sectionMode(sec, mode))
		case "backend":
			err = f.backend(sec)
		case "listen":
			if err = f.frontend(sec, sectionMode(sec, mode)); err == nil {
				err = f.backend(sec)
			}
		case "peers":
			err = peers(sec)
		}
		if err != nil {
			return fmt.Errorf("haproxy.config_file: %w", err)
		}
	}
	if len(f.binds) != 0 || len(f.servers) != 0 {
		return fmt.Errorf("haproxy.config_file: the files changed since the spec was read: render again")
	}
	f.prometheus(c)
	if err := f.settings(c); err != nil {
		return fmt.Errorf("haproxy.config_file: %w", err)
	}
	f.resolveConditions(c)
	var b strings.Builder
	for _, h := range header {
		b.WriteString("# " + h + "\n")
	}
	body, src := c.WriteMap(len(header))
	b.Write(body)
	out.HAProxy, out.HAProxySource, out.Explain = []byte(b.String()), src, f.rewrites
	out.LabTLS, out.EntryTLS = f.labTLS, f.entryTLS
	return nil
}

// sectionMode is the section's own mode line, else def.
func sectionMode(sec *hacfg.Section, def string) string {
	for _, l := range sec.Active() {
		if l.Keyword() == "mode" && len(l.Args) > 1 {
			def = l.Args[1]
		}
	}
	return def
}

// global rewrites the global section(s) and adds the Runtime API socket.
func (f *haFile) global(c *hacfg.Config) error {
	secs := c.Of("global")
	if len(secs) == 0 {
		sec := &hacfg.Section{Kind: "global", Header: &hacfg.Line{File: hacfg.Added, Raw: "global  # duckbench", Args: []string{"global"}, Active: true}}
		c.Sections = append([]*hacfg.Section{sec}, c.Sections...)
		secs = []*hacfg.Section{sec}
		f.note(nil, "global section", "the lab needs its Runtime API socket")
	}
	g := haproxyGlobal(f.s.HAProxy, f.t)
	sock := []string{"stats", "socket", g.StatsSocket.Addr, "mode", g.StatsSocket.Mode, "level", g.StatsSocket.Level}
	placed := false
	for _, sec := range secs {
		for _, l := range sec.Active() {
			kw := l.Keyword()
			switch {
			case globalLab[kw] != "":
				f.note(l, "dropped "+strings.Join(l.Args, " "), globalLab[kw])
				l.Comment("duckbench: " + globalLab[kw])
			case kw == "stats" && len(l.Args) > 1 && l.Args[1] == "socket":
				if placed {
					f.note(l, "dropped "+strings.Join(l.Args, " "), "the lab's Runtime API socket is the one the probes read")
					l.Comment("duckbench: one Runtime API socket, the lab's")
					continue
				}
				f.note(l, "stats socket "+l.Args[2]+" → "+g.StatsSocket.Addr, "the probes read the Runtime API in the run dir")
				l.Set(sock)
				placed = true
			case kw == "lua-load" || kw == "lua-load-per-thread":
				if len(l.Args) > 1 {
					if _, err := os.Stat(l.Args[1]); err != nil {
						return fmt.Errorf("haproxy.config_file: %s: %s %s: the Lua script is not on this machine", l.Pos(), kw, l.Args[1])
					}
				}
			}
		}
	}
	if !placed {
		secs[0].Lines = append(secs[0].Lines, hacfg.NewLine(sock, "duckbench: the probes read the Runtime API"))
		f.note(nil, "stats socket "+g.StatsSocket.Addr, "the probes read the Runtime API")
	}
	return nil
}

// frontend maps every bind to its lab port and adds X-Served-By in HTTP mode.
func (f *haFile) frontend(sec *hacfg.Section, mode string) error {
	for _, l := range sec.Active() {
		if l.Keyword() != "bind" || len(l.Args) < 2 {
			continue
		}
		if len(f.binds) == 0 || f.binds[0].At != l.Pos() {
			return fmt.Errorf("%s: the files changed since the spec was read: render again", l.Pos())
		}
		port := f.binds[0].Port
		why := "the lab listens on loopback"
		if f.binds[0].Entry {
			port = f.s.HAProxy.Port
			why = "the load's entry point (haproxy.port)"
		}
		entry := f.binds[0].Entry
		f.binds = f.binds[1:]
		kept, dropped := strip(l.Args[2:], dropBindOpts)
		addr := haproxyBind(f.t, port)
		if len(dropped) > 0 {
			why += "; dropped " + strings.Join(dropped, ", ")
		}
		f.note(l, fmt.Sprintf("bind %s → %s", l.Args[1], addr), why)
		kept = f.tlsBind(l, kept)
		if entry && spec.BindSSL(kept) >= 0 {
			f.entryTLS = true
		}
		l.Set(append([]string{"bind", addr}, kept...))
	}
	if mode == "http" && !f.s.HAProxy.ServedBy.Disabled {
		words := []string{"http-response", "set-header", ServedByHeader, "%s"}
		sec.Lines = append(sec.Lines, hacfg.NewLine(words, "duckbench: per-server latency"))
		f.note(nil, fmt.Sprintf("%s %s: http-response set-header %s %%s", sec.Kind, sec.Name, ServedByHeader), "per-server latency: each response names its server")
	}
	return nil
}

// backend maps every server to its lab app, points health checks at the
// apps' /healthz and drops a source address.
func (f *haFile) backend(sec *hacfg.Section) error {
	for _, l := range sec.Active() {
		switch l.Keyword() {
		case "source":
			f.note(l, "dropped "+strings.Join(l.Args, " "), "the lab connects to its apps from loopback")
			l.Comment("duckbench: the lab connects from loopback")
		case "option":
			if len(l.Args) == 2 && l.Args[1] == "httpchk" { // OPTIONS / by default: the apps answer 405
				f.note(l, "health check OPTIONS / → GET "+spec.DefaultHealthPath, "the builtin apps answer health checks there")
				l.Set([]string{"option", "httpchk", "GET", spec.DefaultHealthPath})
				continue
			}
			uri := 3 // option httpchk <method> <uri> [<version>]
			if len(l.Args) == 3 && strings.HasPrefix(l.Args[2], "/") {
				uri = 2 // option httpchk <uri>
			}
			if len(l.Args) > uri && l.Args[1] == "httpchk" && l.Args[uri] != spec.DefaultHealthPath {
				f.note(l, "health check "+l.Args[uri]+" → "+spec.DefaultHealthPath, "the builtin apps answer health checks there")
				words := slices.Clone(l.Args)
				words[uri] = spec.DefaultHealthPath
				l.Set(words)
			}
		case "http-check":
			if i := slices.Index(l.Args, "uri"); len(l.Args) > 1 && l.Args[1] == "send" && i > 0 && i+1 < len(l.Args) && l.Args[i+1] != spec.DefaultHealthPath {
				f.note(l, "health check "+l.Args[i+1]+" → "+spec.DefaultHealthPath, "the builtin apps answer health checks there")
				words := slices.Clone(l.Args)
				words[i+1] = spec.DefaultHealthPath
				l.Set(words)
			}
		case "default-server":
			kept, dropped := strip(l.Args[1:], dropServerOpts)
			if len(dropped) > 0 {
				f.note(l, "dropped "+strings.Join(dropped, ", "), "the lab's apps speak plain HTTP on loopback")
				l.Set(append([]string{"default-server"}, kept...))
			}
		case "server":
			if len(l.Args) < 3 {
				return fmt.Errorf("%s: server needs a name and an address", l.Pos())
			}
			line, err := f.server(l, l.Args[1], l.Args[2], l.Args[3:])
			if err != nil {
				return err
			}
			l.Set(line)
		case "server-template":
			names, err := spec.TemplateNames(l)
			if err != nil {
				return err
			}
			var raws []string
			for _, n := range names {
				words, err := f.server(l, n, l.Args[3], l.Args[4:])
				if err != nil {
					return err
				}
				raws = append(raws, "    "+hacfg.Join(words))
			}
			l.Raw = strings.Join(raws, "\n")
		}
	}
	return nil
}

// server is one server line for name (at address orig in the file), mapped
// to its app; opts are the file's options after the address.
func (f *haFile) server(l *hacfg.Line, name, orig string, opts []string) ([]string, error) {
	if len(f.servers) == 0 || f.servers[0].At != l.Pos() || f.servers[0].Server != name {
		return nil, fmt.Errorf("%s: the files changed since the spec was read: render again", l.Pos())
	}
	app, ok := f.apps[f.servers[0].App]
	if !ok {
		return nil, fmt.Errorf("%s: no app named %q", l.Pos(), f.servers[0].App)
	}
	f.servers = f.servers[1:]
	kept, dropped := strip(opts, dropServerOpts)
	addr := "127.0.0.1:" + strconv.Itoa(int(app.Port))
	why := "app " + app.Name + " stands in for it"
	if len(dropped) > 0 {
		why += "; dropped " + strings.Join(dropped, ", ")
	}
	f.note(l, fmt.Sprintf("server %s %s → %s", name, orig, addr), why)
	return append([]string{"server", name, addr}, kept...), nil
}

// peers rejects a peers section: its remote peers are not in the lab.
func peers(sec *hacfg.Section) error {
	for _, l := range sec.Active() {
		if l.Keyword() == "peer" || l.Keyword() == "server" {
			return fmt.Errorf("%s: peers %s: the lab runs one HAProxy and cannot stand in for peer %s; remove the peers section (and stick-table peers) in a copy of the file", l.Pos(), sec.Name, strings.Join(l.Args[1:min(3, len(l.Args))], " "))
		}
	}
	return nil
}

// prometheus adds the Prometheus endpoint unless the file serves one.
func (f *haFile) prometheus(c *hacfg.Config) {
	if f.s.HAProxy.Prometheus.Disabled {
		return
	}
	for _, sec := range c.Sections {
		for _, l := range sec.Active() {
			if strings.Contains(strings.Join(l.Args, " "), "use-service prometheus-exporter") {
				return
			}
		}
	}
	addr := haproxyBind(f.t, f.s.HAProxy.Prometheus.Port)
	lines := [][]string{
		{"mode", "http"},
		{"bind", addr},
		{"http-request", "use-service", "prometheus-exporter", "if", "{", "path", "/metrics", "}"},
	}
	sec := &hacfg.Section{Kind: "frontend", Name: "duckbench-prometheus",
		Header: &hacfg.Line{File: hacfg.Added, Raw: "\nfrontend duckbench-prometheus  # duckbench: the probes' Prometheus endpoint", Args: []string{"frontend", "duckbench-prometheus"}, Active: true}}
	for _, w := range lines {
		sec.Lines = append(sec.Lines, hacfg.NewLine(w, ""))
	}
	c.Sections = append(c.Sections, sec)
	f.note(nil, "frontend duckbench-prometheus on "+addr, "the probes and dashboards read HAProxy's Prometheus endpoint")
}

// resolveConditions comments out the .if blocks as they were read, so that
// HAProxy reads exactly the lines the lab mapped (a predicate evaluated
// differently here, such as feature(), would otherwise bring back a bind or
// server the lab did not see).
func (f *haFile) resolveConditions(c *hacfg.Config) {
	for _, sec := range c.Sections {
		for _, l := range sec.Lines {
			if l.Active || len(l.Args) == 0 {
				continue
			}
			if strings.HasPrefix(l.Keyword(), ".") {
				f.note(l, "resolved "+strings.Join(l.Args, " "), "conditions are evaluated once, when the spec is read, so the lab maps what HAProxy reads")
				l.Comment("duckbench: resolved when the spec was read")
				continue
			}
			l.Comment("duckbench: not taken")
		}
	}
}

var renderedLine = regexp.MustCompile(regexp.QuoteMeta(HAProxyFile) + `:(\d+)`)

// Locate adds the user's file:line to every "haproxy.cfg:N" in msg (HAProxy's
// messages name the rendered file): "haproxy.cfg:23 (your.cfg:9)".
func (f *Files) Locate(msg string) string {
	if len(f.HAProxySource) == 0 {
		return msg
	}
	return renderedLine.ReplaceAllStringFunc(msg, func(m string) string {
		n, err := strconv.Atoi(m[len(HAProxyFile)+1:])
		if err != nil || n < 1 || n > len(f.HAProxySource) || f.HAProxySource[n-1] == "" {
			return m
		}
		return m + " (" + f.HAProxySource[n-1] + ")"
	})
}

// settings applies the spec's file settings (sweep --vary
// haproxy.file.backend[web].balance=…): the directive's last active line in
// each matching section is replaced, or the directive added at its end.
func (f *haFile) settings(c *hacfg.Config) error {
	for _, fs := range f.s.HAProxy.FileSettings {
		words := append(slices.Clone(fs.Directive), fs.Value...)
		found := false
		for _, sec := range c.Of(fs.Section) {
			if fs.Name != "" && sec.Name != fs.Name {
				continue
			}
			found = true
			var last *hacfg.Line
			for _, l := range sec.Active() {
				if len(l.Args) >= len(fs.Directive) && slices.Equal(l.Args[:len(fs.Directive)], fs.Directive) {
					last = l
				}
			}
			if last != nil {
				f.note(last, strings.Join(last.Args, " ")+" → "+strings.Join(words, " "), "set by the run's settings")
				last.Set(words)
				continue
			}
			sec.Lines = append(sec.Lines, hacfg.NewLine(words, "duckbench: set by the run's settings"))
			f.note(nil, fmt.Sprintf("%s %s: %s", sec.Kind, sec.Name, strings.Join(words, " ")), "set by the run's settings")
		}
		if !found {
			return fmt.Errorf("no %s %s for the setting %s", fs.Section, fs.Name, fs)
		}
	}
	return nil
}
