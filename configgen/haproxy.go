package configgen

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/duckbench/duckbench/spec"
)

// haproxyConfig is a whole haproxy.cfg, section by section, in file order.
type haproxyConfig struct {
	Global    hGlobal
	Defaults  hDefaults
	Resolvers *hResolvers
	Cache     *hCache
	Frontends []hFrontend
	Backends  []hBackend
}

// hGlobal is the global section.
type hGlobal struct {
	Maxconn      int
	StatsSocket  hStatsSocket
	StatsTimeout time.Duration
	Extra        []string
}

// hStatsSocket is the Runtime API: a unix socket path or an ipv4@ address.
type hStatsSocket struct {
	Addr  string
	Mode  string // unix socket permissions, e.g. "600"
	Level string
}

// hDefaults is the defaults section.
type hDefaults struct {
	Mode      string
	Options   []string
	Retries   int
	Timeouts  []hTimeout
	HTTPReuse string
	Extra     []string
}

// hTimeout is one "timeout <name> <value>" line.
type hTimeout struct {
	Name  string
	Value time.Duration
}

// hResolvers is a resolvers section (compose: Docker's embedded DNS, so a
// restarted container's new address is picked up).
type hResolvers struct {
	Name            string
	Nameservers     []string // "name addr:port"
	HoldValid       time.Duration
	AcceptedPayload int
	ResolveRetries  int
	TimeoutResolve  time.Duration
	TimeoutRetry    time.Duration
}

// hCache is HAProxy's small object cache.
type hCache struct {
	Name          string
	TotalMaxSize  int64 // megabytes
	MaxAge        int64 // seconds
	MaxObjectSize int64 // bytes
	// ProcessVary caches responses that carry a Vary header (on
	// Accept-Encoding or Referer) instead of never caching them.
	ProcessVary bool
}

// hFrontend is a frontend section.
type hFrontend struct {
	Name           string
	Comment        string
	Binds          []string
	Maxconn        int
	NoLog          bool
	HTTPRequests   []string // "http-request ..." arguments
	Stats          *hStatsPage
	UseBackends    []hUseBackend
	DefaultBackend string
	Extra          []string
}

// hStatsPage is the HTML stats page inside a frontend.
type hStatsPage struct {
	URI     string
	Refresh time.Duration
	User    string
	// PasswordEnv is expanded by HAProxy at start-up ("${NAME}"); the
	// password itself is never rendered.
	PasswordEnv string
}

// hUseBackend is "use_backend <Backend> if { path_beg <PathPrefix> }".
type hUseBackend struct {
	Backend    string
	PathPrefix string
}

// hBackend is a backend section.
type hBackend struct {
	Name          string
	Balance       string
	Check         *hHTTPCheck
	Cache         string // cache name, or "" for none
	ServedBy      bool   // set X-Served-By to the answering server's name
	DefaultServer []string
	Servers       []hServer
	Extra         []string
}

// hHTTPCheck is the active HTTP health check.
type hHTTPCheck struct {
	Method string
	URI    string
}

// hServer is one "server" line.
type hServer struct {
	// Template > 1 renders a server-template of that many slots named
	// <Name>-1…<Name>-N (a scaled swarm app).
	Template int
	Name     string
	Addr     string
	Weight   int
	Check    bool
	Maxconn  int
}

// cfgWriter prints sections: keywords at column 0, directives indented.
type cfgWriter struct{ b bytes.Buffer }

func (w *cfgWriter) comment(lines ...string) {
	for _, l := range lines {
		w.b.WriteString("# " + l + "\n")
	}
}

func (w *cfgWriter) section(kind, name string) {
	if w.b.Len() > 0 {
		w.b.WriteByte('\n')
	}
	w.b.WriteString(strings.TrimSpace(kind + " " + name))
	w.b.WriteByte('\n')
}

func (w *cfgWriter) line(format string, args ...any) {
	w.b.WriteString("    ")
	w.b.WriteString(fmt.Sprintf(format, args...))
	w.b.WriteByte('\n')
}

func (w *cfgWriter) raw(lines []string) {
	if len(lines) == 0 {
		return
	}
	w.line("# extra lines from the spec")
	for _, l := range lines {
		w.line("%s", strings.TrimSpace(l))
	}
}

// hDur prints a duration the way HAProxy reads it: the largest unit that
// keeps it exact (ms, s, m, h).
func hDur(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	case d%time.Millisecond == 0:
		return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
	}
	return strconv.FormatInt(int64(d/time.Microsecond), 10) + "us"
}

func (c *haproxyConfig) render(header []string) []byte {
	w := &cfgWriter{}
	w.comment(header...)
	c.renderGlobal(w)
	c.renderDefaults(w)
	c.renderResolvers(w)
	c.renderCache(w)
	for _, f := range c.Frontends {
		renderFrontend(w, f)
	}
	for _, b := range c.Backends {
		renderBackend(w, b)
	}
	return w.b.Bytes()
}

func (c *haproxyConfig) renderGlobal(w *cfgWriter) {
	g := c.Global
	w.section("global", "")
	if g.Maxconn > 0 {
		w.line("maxconn %d", g.Maxconn)
	}
	w.line("# Runtime API (show stat, show info): read by duckbench's probes")
	sock := "stats socket " + g.StatsSocket.Addr
	if g.StatsSocket.Mode != "" {
		sock += " mode " + g.StatsSocket.Mode
	}
	w.line("%s level %s", sock, g.StatsSocket.Level)
	if g.StatsTimeout > 0 {
		w.line("stats timeout %s", hDur(g.StatsTimeout))
	}
	w.raw(g.Extra)
}

func (c *haproxyConfig) renderDefaults(w *cfgWriter) {
	d := c.Defaults
	w.section("defaults", "")
	w.line("mode %s", d.Mode)
	for _, o := range d.Options {
		w.line("option %s", o)
	}
	if d.Retries > 0 {
		w.line("retries %d", d.Retries)
	}
	for _, t := range d.Timeouts {
		w.line("timeout %-15s %s", t.Name, hDur(t.Value))
	}
	if d.HTTPReuse != "" {
		w.line("http-reuse %s", d.HTTPReuse)
	}
	w.raw(d.Extra)
}

func (c *haproxyConfig) renderResolvers(w *cfgWriter) {
	if r := c.Resolvers; r != nil {
		w.section("resolvers", r.Name)
		for _, ns := range r.Nameservers {
			w.line("nameserver %s", ns)
		}
		if r.AcceptedPayload > 0 {
			w.line("accepted_payload_size %d", r.AcceptedPayload)
		}
		if r.ResolveRetries > 0 {
			w.line("resolve_retries %d", r.ResolveRetries)
		}
		if r.TimeoutResolve > 0 {
			w.line("timeout resolve %s", hDur(r.TimeoutResolve))
		}
		if r.TimeoutRetry > 0 {
			w.line("timeout retry %s", hDur(r.TimeoutRetry))
		}
		if r.HoldValid > 0 {
			w.line("hold valid %s", hDur(r.HoldValid))
		}
	}
}

func (c *haproxyConfig) renderCache(w *cfgWriter) {
	if ca := c.Cache; ca != nil {
		w.section("cache", ca.Name)
		w.line("total-max-size %d  # megabytes", ca.TotalMaxSize)
		w.line("max-age %d  # seconds", ca.MaxAge)
		w.line("max-object-size %d  # bytes", ca.MaxObjectSize)
		if ca.ProcessVary {
			w.line("process-vary on")
		}
	}
}

func renderFrontend(w *cfgWriter, f hFrontend) {
	w.section("frontend", f.Name)
	if f.Comment != "" {
		w.line("# %s", f.Comment)
	}
	for _, b := range f.Binds {
		w.line("bind %s", b)
	}
	if f.Maxconn > 0 {
		w.line("maxconn %d", f.Maxconn)
	}
	if f.NoLog {
		w.line("no log")
	}
	for _, r := range f.HTTPRequests {
		w.line("http-request %s", r)
	}
	if st := f.Stats; st != nil {
		w.line("stats enable")
		w.line("stats uri %s", st.URI)
		if st.Refresh > 0 {
			w.line("stats refresh %s", hDur(st.Refresh))
		}
		w.line("# the password comes from the environment when HAProxy starts")
		w.line("stats auth %s:\"${%s}\"", st.User, st.PasswordEnv)
	}
	for _, u := range f.UseBackends {
		w.line("use_backend %s if { path_beg %s }", u.Backend, u.PathPrefix)
	}
	if f.DefaultBackend != "" {
		w.line("default_backend %s", f.DefaultBackend)
	}
	w.raw(f.Extra)
}

func renderBackend(w *cfgWriter, b hBackend) {
	w.section("backend", b.Name)
	if b.Balance != "" {
		w.line("balance %s", b.Balance)
	}
	if hc := b.Check; hc != nil {
		w.line("option httpchk")
		w.line("http-check send meth %s uri %s", hc.Method, hc.URI)
	}
	if b.Cache != "" {
		w.line("# cache lookups and hits are counted on this backend")
		w.line("http-request cache-use %s", b.Cache)
		w.line("http-response cache-store %s", b.Cache)
	}
	if b.ServedBy {
		// After cache-store: a cached copy does not keep a server's name,
		// and a cache hit says <CACHE> (%s is the server name).
		w.line("http-response set-header %s %%s", ServedByHeader)
	}
	if len(b.DefaultServer) > 0 {
		w.line("default-server %s", strings.Join(b.DefaultServer, " "))
	}
	for _, s := range b.Servers {
		l := fmt.Sprintf("server %s %s weight %d", s.Name, s.Addr, s.Weight)
		if s.Template > 1 {
			// One slot per task: Docker's DNS answers the service name
			// with every task's address (endpoint mode dnsrr).
			l = fmt.Sprintf("server-template %s- %d %s weight %d", s.Name, s.Template, s.Addr, s.Weight)
		}
		if s.Check {
			l += " check"
		}
		if s.Maxconn > 0 {
			l += " maxconn " + strconv.Itoa(s.Maxconn)
		}
		w.line("%s", l)
	}
	w.raw(b.Extra)
}

// buildHAProxy maps the spec onto haproxy.cfg's sections.
func buildHAProxy(s *spec.Spec, t Target) (*haproxyConfig, error) {
	h := s.HAProxy
	for _, raw := range []struct {
		path  string
		lines []string
	}{{"haproxy.extra.global", h.Extra.Global}, {"haproxy.extra.defaults", h.Extra.Defaults}, {"haproxy.extra.frontend", h.Extra.Frontend}} {
		if err := checkRaw(raw.path, raw.lines); err != nil {
			return nil, err
		}
	}
	mode := h.Mode
	if mode == "" {
		mode = "http"
	}
	if mode != "http" {
		return nil, fmt.Errorf("haproxy.mode: only http is supported (got %q)", mode)
	}
	c := &haproxyConfig{Global: haproxyGlobal(h, t), Defaults: haproxyDefaults(h, mode)}
	if t.compose() {
		c.Resolvers = &hResolvers{
			Name:            "docker",
			Nameservers:     []string{"dns 127.0.0.11:53"},
			AcceptedPayload: 8192,
			ResolveRetries:  3,
			TimeoutResolve:  time.Second,
			TimeoutRetry:    time.Second,
			HoldValid:       10 * time.Second,
		}
	}
	if len(h.Backends) == 0 {
		return nil, fmt.Errorf("haproxy.backends: at least one backend is needed")
	}
	apps := map[string]spec.App{}
	for _, a := range s.Apps {
		apps[a.Name] = a
	}
	backends := map[string]bool{}
	anyCache := false
	for i, b := range h.Backends {
		path := fmt.Sprintf("haproxy.backends[%d]", i)
		if backends[b.Name] {
			return nil, fmt.Errorf("%s.name: duplicate backend %q", path, b.Name)
		}
		backends[b.Name] = true
		hb, err := haproxyBackend(b, path, apps, t, !h.ServedBy.Disabled)
		if err != nil {
			return nil, err
		}
		anyCache = anyCache || b.Cache
		c.Backends = append(c.Backends, hb)
	}
	if anyCache {
		ca, err := haproxyCache(h.Cache)
		if err != nil {
			return nil, err
		}
		c.Cache = ca
	}
	fe, err := haproxyFrontends(h, backends, t)
	if err != nil {
		return nil, err
	}
	c.Frontends = fe
	return c, nil
}

// haproxyBind returns the listen address of a frontend: loopback only for
// local processes; every interface inside a container, whose port compose
// publishes on 127.0.0.1 only.
func haproxyBind(t Target, p spec.Port) string {
	if t.compose() {
		return fmt.Sprintf("*:%d", p)
	}
	return fmt.Sprintf("127.0.0.1:%d", p)
}

// haproxyGlobal is the global section: connection cap and the Runtime API
// (a unix socket, mode 600, locally; TCP in a container).
func haproxyGlobal(h spec.HAProxy, t Target) hGlobal {
	g := hGlobal{Maxconn: h.Maxconn, StatsTimeout: 30 * time.Second, Extra: h.Extra.Global}
	if t.compose() {
		g.StatsSocket = hStatsSocket{Addr: fmt.Sprintf("ipv4@0.0.0.0:%d", h.StatsSocket.Port), Level: "admin"}
	} else {
		g.StatsSocket = hStatsSocket{Addr: t.StatsSocketPath(), Mode: "600", Level: "admin"}
	}
	return g
}

// haproxyDefaults is the defaults section: mode, retries and the timeouts
// the spec sets.
func haproxyDefaults(h spec.HAProxy, mode string) hDefaults {
	to := h.Timeouts
	d := hDefaults{
		Mode: mode,
		// A killed app must not stall the load: retry a failed connection
		// on another server at once (redispatch on every retry) instead
		// of three times on the dead one with a 1 s turn-around each.
		Options:   []string{"dontlognull", "forwardfor", "redispatch 1"},
		Retries:   2,
		HTTPReuse: "safe",
		Extra:     h.Extra.Defaults,
	}
	for _, tt := range []hTimeout{
		{"connect", to.Connect.D()}, {"client", to.Client.D()}, {"server", to.Server.D()},
		{"queue", to.Queue.D()}, {"http-keep-alive", to.HTTPKeepAlive.D()}, {"http-request", to.HTTPRequest.D()},
	} {
		if tt.Value > 0 {
			d.Timeouts = append(d.Timeouts, tt)
		}
	}
	return d
}

// haproxyBackend is one backend section with its health check and servers;
// path is its field path for messages.
// servedBy adds the X-Served-By response header.
func haproxyBackend(b spec.Backend, path string, apps map[string]spec.App, t Target, servedBy bool) (hBackend, error) {
	if !isToken(b.Name) {
		return hBackend{}, fmt.Errorf("%s.name: must be letters, digits, '-', '_', '.' or ':' (got %q)", path, b.Name)
	}
	if b.Balance != "" && !slices.Contains(spec.BalanceAlgorithms, b.Balance) {
		return hBackend{}, fmt.Errorf("%s.balance: must be one of %s (got %q)", path, strings.Join(spec.BalanceAlgorithms, ", "), b.Balance)
	}
	if err := checkRaw(path+".extra", b.Extra); err != nil {
		return hBackend{}, err
	}
	hb := hBackend{Name: b.Name, Balance: b.Balance, Extra: b.Extra}
	hc := b.HealthCheck
	if !hc.Disabled {
		uri := hc.Path
		if uri == "" {
			uri = spec.DefaultHealthPath
		}
		if !strings.HasPrefix(uri, "/") || strings.ContainsAny(uri, " \t\r\n\"'\\#") {
			return hBackend{}, fmt.Errorf("%s.health_check.path: must be a path without spaces or quotes (got %q)", path, uri)
		}
		hb.Check = &hHTTPCheck{Method: "GET", URI: uri}
		if hc.Interval > 0 {
			hb.DefaultServer = append(hb.DefaultServer, "inter "+hDur(hc.Interval.D()))
		}
		if hc.Rise > 0 {
			hb.DefaultServer = append(hb.DefaultServer, "rise "+strconv.Itoa(hc.Rise))
		}
		if hc.Fall > 0 {
			hb.DefaultServer = append(hb.DefaultServer, "fall "+strconv.Itoa(hc.Fall))
		}
	}
	if t.compose() {
		// Start even if an app's name does not resolve yet, and follow
		// its address when the container is recreated.
		hb.DefaultServer = append(hb.DefaultServer, "resolvers docker", "init-addr last,libc,none")
	}
	if b.Cache {
		hb.Cache = CacheName
	}
	hb.ServedBy = servedBy
	servers, err := haproxyServers(b, path, apps, t)
	if err != nil {
		return hBackend{}, err
	}
	hb.Servers = servers
	return hb, nil
}

// haproxyServers are a backend's server lines, one per app it names.
func haproxyServers(b spec.Backend, path string, apps map[string]spec.App, t Target) ([]hServer, error) {
	if len(b.Servers) == 0 {
		return nil, fmt.Errorf("%s.servers: at least one server is needed", path)
	}
	var out []hServer
	seen := map[string]bool{}
	for j, sv := range b.Servers {
		a, ok := apps[sv.App]
		if !ok {
			return nil, fmt.Errorf("%s.servers[%d].app: no app named %q", path, j, sv.App)
		}
		if !isToken(a.Name) {
			return nil, fmt.Errorf("%s.servers[%d].app: app name must be letters, digits, '-', '_', '.' or ':' (got %q)", path, j, a.Name)
		}
		if seen[sv.App] {
			return nil, fmt.Errorf("%s.servers[%d].app: %q listed twice", path, j, sv.App)
		}
		seen[sv.App] = true
		weight := 1
		if sv.Weight != nil {
			weight = *sv.Weight
		}
		if weight < 0 || weight > 256 {
			return nil, fmt.Errorf("%s.servers[%d].weight: must be 0-256 (got %d)", path, j, weight)
		}
		host := "127.0.0.1"
		if t.compose() {
			host = a.Name // the compose service name
		}
		tmpl := 0
		if t.swarm() && a.Replicas > 1 {
			tmpl = a.Replicas
		}
		out = append(out, hServer{
			Template: tmpl,
			Name:     a.Name,
			Addr:     fmt.Sprintf("%s:%d", host, a.Port),
			Weight:   weight,
			Check:    !b.HealthCheck.Disabled,
			Maxconn:  sv.Maxconn,
		})
	}
	return out, nil
}

// haproxyCache is the cache section, for when a backend uses the cache.
func haproxyCache(ca spec.Cache) (*hCache, error) {
	if ca.Size <= 0 {
		return nil, fmt.Errorf("haproxy.cache.size: must be set when a backend uses the cache")
	}
	mb := (int64(ca.Size) + (1<<20 - 1)) >> 20 // HAProxy counts whole megabytes
	if mb > 4095 {
		return nil, fmt.Errorf("haproxy.cache.size: at most 4095mb (got %s)", ca.Size)
	}
	maxAge := int64(ca.MaxAge.D() / time.Second)
	if ca.MaxAge > 0 && maxAge == 0 {
		maxAge = 1
	}
	if maxAge <= 0 {
		maxAge = 60 // HAProxy's own default
	}
	obj := int64(ca.MaxObjectSize)
	if obj <= 0 {
		obj = mb << 20 / 256 // HAProxy's own default
	}
	if obj > mb<<20/2 {
		return nil, fmt.Errorf("haproxy.cache.max_object_size: at most half of the cache size (got %s of %dmb)", ca.MaxObjectSize, mb)
	}
	return &hCache{Name: CacheName, TotalMaxSize: mb, MaxAge: maxAge, MaxObjectSize: obj, ProcessVary: true}, nil
}

// haproxyFrontends are the load entry point with its routes, HAProxy's
// Prometheus exporter (unless disabled) and the stats page (when enabled).
func haproxyFrontends(h spec.HAProxy, backends map[string]bool, t Target) ([]hFrontend, error) {
	main := hFrontend{
		Name:           "main",
		Comment:        "the stack's entry point: load goes here",
		Binds:          []string{haproxyBind(t, h.Port)},
		Maxconn:        h.Maxconn,
		DefaultBackend: h.Backends[0].Name,
		Extra:          h.Extra.Frontend,
	}
	for i, r := range h.Routes {
		if !backends[r.Backend] {
			return nil, fmt.Errorf("haproxy.routes[%d].backend: no backend named %q", i, r.Backend)
		}
		if r.PathPrefix == "" || strings.ContainsAny(r.PathPrefix, " \t\r\n{}#\"'\\") {
			return nil, fmt.Errorf("haproxy.routes[%d].path_prefix: must be a path without spaces, quotes or braces (got %q)", i, r.PathPrefix)
		}
		main.UseBackends = append(main.UseBackends, hUseBackend{Backend: r.Backend, PathPrefix: r.PathPrefix})
	}
	out := []hFrontend{main}
	if !h.Prometheus.Disabled {
		out = append(out, hFrontend{
			Name:         "prometheus",
			Comment:      "HAProxy's built-in Prometheus exporter",
			Binds:        []string{haproxyBind(t, h.Prometheus.Port)},
			NoLog:        true,
			HTTPRequests: []string{"use-service prometheus-exporter if { path /metrics }"},
		})
	}
	if sp := h.StatsPage; sp.Enabled {
		if sp.User == "" || strings.ContainsAny(sp.User, " \t\r\n:\"'\\#$") {
			return nil, fmt.Errorf("haproxy.stats_page.user: must be a plain name when the stats page is enabled (got %q)", sp.User)
		}
		if !isEnvName(sp.PasswordEnv) {
			return nil, fmt.Errorf("haproxy.stats_page.password_env: must name an environment variable when the stats page is enabled (got %q)", sp.PasswordEnv)
		}
		out = append(out, hFrontend{
			Name:    "stats",
			Comment: "HTML stats page, behind credentials",
			Binds:   []string{haproxyBind(t, sp.Port)},
			NoLog:   true,
			Stats:   &hStatsPage{URI: "/", Refresh: 5 * time.Second, User: sp.User, PasswordEnv: sp.PasswordEnv},
		})
	}
	return out, nil
}

// isToken reports whether s is usable as an HAProxy proxy or server name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '-', r == '_', r == '.', r == ':':
		default:
			return false
		}
	}
	return true
}

// isEnvName reports whether s is a portable environment variable name.
func isEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
