// Package specimport writes a starting spec for a user's own haproxy.cfg
// (and redis.conf): the files referenced by config_file, one builtin app per
// server, load targets read from the frontend the load goes to. It says what
// it guessed. It reads the files and returns text; it writes nothing.
package specimport

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/duckbench/duckbench/hacfg"
	"github.com/duckbench/duckbench/rediscfg"
	"github.com/duckbench/duckbench/spec"
)

// LabFile is the frontend and backend import adds when the user's files
// have none: a config of Debian's kind (global and defaults only) still
// needs somewhere for the load to go.
const LabFile = `# Written by duckbench import: your files have no frontend or no server, and
# the load needs both. Edit freely; it is loaded after your files.
frontend lab
    bind :80
    default_backend lab

backend lab
    balance roundrobin
    server app1 127.0.0.1:8001 check
    server app2 127.0.0.1:8002 check
`

// Result is what Build made.
type Result struct {
	// Spec is the spec's YAML.
	Spec []byte
	// LabFile is true when the spec loads LabFile (the caller writes it
	// next to the spec as LabName).
	LabFile bool
	// Guesses are what import assumed, one line each.
	Guesses []string
}

// LabName is the file name of LabFile for a spec named name.
func LabName(name string) string { return name + "-lab.cfg" }

var notName = regexp.MustCompile(`[^a-z0-9-]+`)

// Name derives a spec name from a config file name.
func Name(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	n := strings.Trim(notName.ReplaceAllString(strings.ToLower(base), "-"), "-")
	if n == "" {
		return "imported"
	}
	return n
}

// Build reads haproxyPaths (haproxy -f order) and redisPath ("" for none)
// and returns a spec named name that references them by absolute path.
func Build(name string, haproxyPaths []string, redisPath string) (*Result, error) {
	var abs []string
	for _, p := range haproxyPaths {
		a, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		abs = append(abs, a)
	}
	c, err := hacfg.Load(abs, spec.HAProxyOptions())
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	res := &Result{}
	servers, err := spec.FileServers(c)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	if len(servers) == 0 || !hasBind(c) {
		res.LabFile = true
		abs = append(abs, LabName(name))
		lab, _ := hacfg.Parse(LabName(name), []byte(LabFile), spec.HAProxyOptions())
		c.Sections = append(c.Sections, lab.Sections...)
		servers, _ = spec.FileServers(c)
		res.Guesses = append(res.Guesses, fmt.Sprintf("no frontend with a bind or no server in your files: added %s (frontend lab, backend lab with two servers), loaded last", LabName(name)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by duckbench import from %s. Edit freely.\n", strings.Join(haproxyPaths, ", "))
	fmt.Fprintf(&b, "version: %s\nname: %s\n", spec.APIVersion, name)
	b.WriteString("haproxy:\n  config_file:\n")
	for _, p := range abs {
		fmt.Fprintf(&b, "    - %s\n", strconv.Quote(p))
	}
	b.WriteString("  port: auto\n  prometheus: {port: auto}\n")
	res.apps(&b, servers)
	if redisPath != "" {
		a, err := filepath.Abs(redisPath)
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		if _, err := rediscfg.Load(a, ""); err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		fmt.Fprintf(&b, "redis:\n  config_file: %s\n", strconv.Quote(a))
	} else {
		b.WriteString("redis:\n")
		res.Guesses = append(res.Guesses, "no redis.conf given: redis-server's defaults for the master and replica")
	}
	b.WriteString("  master: {port: auto}\n  replicas:\n    - {port: auto}\n")
	res.Guesses = append(res.Guesses, "one master and one replica (the lab's replication)")
	b.WriteString("load:\n  duration: 10s\n  rate: 50\n  targets:\n")
	for _, t := range targets(c, res) {
		fmt.Fprintf(&b, "    - {path: %s}\n", strconv.Quote(t))
	}
	res.Guesses = append(res.Guesses, "load: 50 req/s for 10 s (set load.rate and load.duration)")
	res.Spec = []byte(b.String())
	return res, nil
}

func hasBind(c *hacfg.Config) bool {
	for _, sec := range c.Of("frontend", "listen") {
		for _, l := range sec.Active() {
			if l.Keyword() == "bind" {
				return true
			}
		}
	}
	return false
}

// apps writes one builtin app per server (named as the spec names them)
// and notes the weights and maxconn the file keeps.
func (r *Result) apps(b *strings.Builder, servers []spec.FileServer) {
	names := spec.AppNames(servers)
	b.WriteString("apps:\n")
	for i, fs := range servers {
		fmt.Fprintf(b, "  - {name: %s, port: auto}  # %s: server %s of backend %s\n", names[i], fs.At, fs.Server, fs.Backend)
		kept := ""
		if fs.Weight != nil {
			kept += fmt.Sprintf(" weight %d", *fs.Weight)
		}
		if fs.Maxconn > 0 {
			kept += fmt.Sprintf(" maxconn %d", fs.Maxconn)
		}
		if kept != "" {
			r.Guesses = append(r.Guesses, fmt.Sprintf("%s: server %s keeps%s (in the file, used as written)", fs.At, fs.Server, kept))
		}
	}
	r.Guesses = append(r.Guesses, fmt.Sprintf("%d builtin app(s), one per server, standing in for your servers", len(servers)))
}

var pathACL = regexp.MustCompile(`^(path_beg|path)$`)

// targets reads the load's targets from the frontend the load goes to:
// default_backend gives /kv/{key}; use_backend with a path ACL gives that
// prefix before /kv/{key} (the builtin apps answer /kv/ paths: the config
// must strip the prefix, or those requests are 404s).
func targets(c *hacfg.Config, r *Result) []string {
	out := []string{"/kv/{key}"}
	for _, sec := range c.Of("frontend", "listen") {
		acls := map[string]string{}
		routes := false
		for _, l := range sec.Active() {
			switch l.Keyword() {
			case "acl":
				if len(l.Args) > 3 && pathACL.MatchString(l.Args[2]) {
					acls[l.Args[1]] = l.Args[3]
				}
			case "default_backend", "server", "server-template":
				routes = true
			case "use_backend":
				routes = true
				prefix := usePrefix(l.Args, acls)
				if prefix == "" {
					r.Guesses = append(r.Guesses, fmt.Sprintf("%s: %s: condition not read as a path (no target for it)", l.Pos(), strings.Join(l.Args, " ")))
					continue
				}
				t := strings.TrimSuffix(prefix, "/") + "/kv/{key}"
				out = append(out, t)
				r.Guesses = append(r.Guesses, fmt.Sprintf("%s: target %s for backend %s (the builtin apps answer /kv/: the config must strip %s)", l.Pos(), t, l.Args[1], prefix))
			}
		}
		if routes {
			r.Guesses = append(r.Guesses, fmt.Sprintf("targets read from %s %s, the load's entry point", sec.Kind, sec.Name))
			for _, l := range sec.Active() {
				if l.Keyword() == "bind" && len(l.Args) > 2 && spec.BindSSL(l.Args[2:]) >= 0 {
					r.Guesses = append(r.Guesses, fmt.Sprintf("%s: the load speaks https to this TLS bind, served with a lab certificate made per run (your crt is not read)", l.Pos()))
					break
				}
			}
			return out
		}
	}
	return out
}

// usePrefix finds the path prefix of a use_backend condition: a named
// path ACL or an inline { path_beg /x }.
func usePrefix(args []string, acls map[string]string) string {
	for i := 2; i < len(args); i++ {
		if p, ok := acls[args[i]]; ok {
			return p
		}
		if pathACL.MatchString(args[i]) && i+1 < len(args) && strings.HasPrefix(args[i+1], "/") {
			return args[i+1]
		}
	}
	return ""
}
