package spec

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Enumerations the spec accepts (also used by the JSON Schema).
var (
	Runtimes          = []string{"auto", "local", "compose", "swarm"}
	AppKinds          = []string{AppBuiltin, AppCommand, AppImage}
	HAProxyModes      = []string{"http"}
	LoadShapes        = []string{"constant", "ramp", "sine", "steps"}
	KeyDistributions  = []string{"uniform", "zipf", "sequential"}
	HTTPMethods       = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
	MaxmemoryPolicies = []string{"noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
		"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"}
)

// MaxWeight is HAProxy's largest server weight.
const MaxWeight = 256

var (
	nameRE   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	envVarRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// validator collects located errors.
type validator struct {
	s    *Spec
	errs Errors
}

// at finds the position of path, or of its closest written ancestor.
func (v *validator) at(path string) (int, int) {
	m := v.s.meta
	if m == nil {
		return 0, 0
	}
	for p := path; ; {
		if pos, ok := m.pos[p]; ok {
			return pos.line, pos.col
		}
		if p == "" {
			return 1, 1
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			p = ""
		} else {
			p = p[:i]
		}
	}
}

func (v *validator) errorf(path, format string, args ...any) {
	line, col := v.at(path)
	file := ""
	if v.s.meta != nil {
		file = v.s.meta.file
	}
	v.errs = append(v.errs, FieldError{File: file, Path: path, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) oneOf(path, got string, allowed []string) {
	if slices.Contains(allowed, got) {
		return
	}
	v.errorf(path, "must be one of %s (got %q)%s", strings.Join(allowed, ", "), got, didYouMean(got, allowed))
}

func (v *validator) name(path, got string) {
	switch {
	case got == "":
		v.errorf(path, "required")
	case !nameRE.MatchString(got):
		v.errorf(path, "must be lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (got %q)", got)
	}
}

// raw is the text written at path, if it was decoded from text.
func (v *validator) raw(path string) (string, bool) {
	if v.s.meta == nil {
		return "", false
	}
	t, ok := v.s.meta.raw[path]
	return t, ok
}

func (v *validator) port(path string, p Port) {
	if p != PortAuto && (p < 1 || p > 65535) {
		got := strconv.Itoa(int(p))
		if t, ok := v.raw(path); ok {
			got = strings.TrimSpace(t)
		} else if p < 0 {
			got = "a negative number"
		}
		v.errorf(path, "must be 1-65535 (got %s)", got)
	}
}

func (v *validator) positive(path string, d Duration) {
	if d <= 0 {
		v.errorf(path, "must be > 0 (got %s)", d)
	}
}

func (v *validator) nonNegative(path string, d Duration) {
	if d < 0 {
		v.errorf(path, "must not be negative (got %s)", d)
	}
}

func (v *validator) envVar(path, got string) {
	if got != "" && !envVarRE.MatchString(got) {
		v.errorf(path, "must be an environment variable name like REDIS_PASSWORD (got %q)", got)
	}
}

func (v *validator) rawLines(path string, lines []string) {
	for i, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			v.errorf(fmt.Sprintf("%s[%d]", path, i), "must be a single line")
		}
	}
}

// Validate checks the spec (defaults applied) field by field and across
// fields. It returns Errors listing every problem, or nil.
func (s *Spec) Validate() error {
	v := &validator{s: s}
	v.spec()
	if len(v.errs) == 0 {
		return nil
	}
	return v.errs.sorted()
}

func (v *validator) spec() {
	s := v.s
	if s.Version != "" && s.Version != APIVersion {
		v.errorf("version", "unsupported version %q (this build reads %q)", s.Version, APIVersion)
	}
	v.name("name", s.Name)
	if s.Runtime != "" {
		v.oneOf("runtime", s.Runtime, Runtimes)
	}

	// Names share one namespace: they become compose services, HAProxy
	// server names and fault targets.
	names := map[string]string{} // name -> path of its first user
	claim := func(path, name string) {
		if name == "" {
			return
		}
		if name == "haproxy" {
			v.errorf(path, "name %q is reserved", name)
			return
		}
		if first, dup := names[name]; dup {
			v.errorf(path, "name %q is already used by %s", name, first)
			return
		}
		names[name] = path
	}
	// ports maps each fixed listener port to its first user.
	ports := map[Port]string{}
	listen := func(path string, p Port) {
		if p == PortAuto || p < 1 || p > 65535 {
			return
		}
		if first, dup := ports[p]; dup {
			v.errorf(path, "port %d is already used by %s", p, first)
			return
		}
		ports[p] = path
	}

	v.redis(claim, listen)

	appNames := []string{}
	if len(s.Apps) == 0 {
		v.errorf("apps", "at least one app is required")
	}
	for i, a := range s.Apps {
		p := fmt.Sprintf("apps[%d]", i)
		v.name(p+".name", a.Name)
		claim(p+".name", a.Name)
		appNames = append(appNames, a.Name)
		v.port(p+".port", a.Port)
		listen(p+".port", a.Port)
		v.oneOf(p+".kind", a.Kind, AppKinds)
		switch a.Kind {
		case AppCommand:
			if len(a.Command) == 0 || strings.TrimSpace(a.Command[0]) == "" {
				v.errorf(p+".command", "required when kind is command")
			}
		case AppImage:
			if a.Image == "" {
				v.errorf(p+".image", "required when kind is image")
			}
		}
		if a.Replicas < 0 || a.Replicas > 64 {
			v.errorf(p+".replicas", "must be 0-64 (got %d; 0 means 1)", a.Replicas)
		}
		v.placement(p+".placement", a.Placement)
		if a.MaxReplicasPerNode < 0 || a.MaxReplicasPerNode > 64 {
			v.errorf(p+".max_replicas_per_node", "must be 0-64 (got %d; 0 means no cap)", a.MaxReplicasPerNode)
		}
		if a.Kind != AppCommand && len(a.Command) > 0 {
			v.errorf(p+".command", "only used when kind is command (kind is %q)", a.Kind)
		}
		for k := range a.Env {
			if !envVarRE.MatchString(k) {
				v.errorf(p+".env."+k, "must be an environment variable name like APP_MODE (got %q)", k)
			}
		}
		v.nonNegative(p+".origin_cost", a.OriginCost)
		v.nonNegative(p+".cache_ttl", a.CacheTTL) // an explicit 0: values never expire
		if a.MaxConcurrency < 0 {
			v.errorf(p+".max_concurrency", "must not be negative (got %d)", a.MaxConcurrency)
		}
	}

	v.haproxy(claim, listen, appNames)
	v.load()
	v.slo()
	v.check()
	v.probes(listen)
	v.faults()
	v.sweep()
}

func (v *validator) sweep() {
	sw := v.s.Sweep
	if sw == nil {
		return
	}
	if len(sw.Vary) == 0 {
		v.errorf("sweep.vary", "must list at least one field to vary")
	}
	for i, f := range sw.Vary {
		p := fmt.Sprintf("sweep.vary[%d]", i)
		if _, err := ParseFieldPath(f.Path); err != nil {
			v.errorf(p+".path", "%v", err)
		}
		if len(f.Values) == 0 {
			v.errorf(p+".values", "must list at least one value")
		}
		for j, val := range f.Values {
			if strings.TrimSpace(val) == "" {
				v.errorf(fmt.Sprintf("%s.values[%d]", p, j), "must not be empty")
			}
		}
	}
	if sw.Rounds < 0 {
		v.errorf("sweep.rounds", "must be >= 1 (got %d)", sw.Rounds)
	}
	if sw.Rate != nil && *sw.Rate <= 0 && !sw.Rate.IsMax() {
		v.errorf("sweep.rate", `must be a positive number of requests per second or "max"`)
	}
}

func (v *validator) redis(claim func(string, string), listen func(string, Port)) {
	r := v.s.Redis
	v.envVar("redis.password_env", r.PasswordEnv)
	v.redisSettings("redis.defaults", r.Defaults)
	nodes := append([]RedisNode{r.Master}, r.Replicas...)
	for i, n := range nodes {
		p := "redis.master"
		if i > 0 {
			p = fmt.Sprintf("redis.replicas[%d]", i-1)
		}
		v.name(p+".name", n.Name)
		claim(p+".name", n.Name)
		v.port(p+".port", n.Port)
		listen(p+".port", n.Port)
		v.placement(p+".placement", n.Placement)
		v.redisSettings(p, n.RedisSettings)
	}
}

func (v *validator) redisSettings(p string, rs RedisSettings) {
	if rs.MaxmemoryPolicy != "" {
		v.oneOf(p+".maxmemory_policy", rs.MaxmemoryPolicy, MaxmemoryPolicies)
	}
	if rs.ReplBacklogSize != nil && *rs.ReplBacklogSize < 16<<10 {
		v.errorf(p+".repl_backlog_size", "must be at least 16kb (got %s)", *rs.ReplBacklogSize)
	}
	if rs.Save != nil && strings.ContainsAny(*rs.Save, "\r\n") {
		v.errorf(p+".save", "must be a single line")
	}
	v.rawLines(p+".extra", rs.Extra)
	for i, l := range rs.Extra {
		f := strings.Fields(strings.ToLower(l))
		if len(f) > 0 && (f[0] == "requirepass" || f[0] == "masterauth") {
			v.errorf(fmt.Sprintf("%s.extra[%d]", p, i), "passwords must not be written in the spec; use redis.password_env")
		}
	}
}

func (v *validator) haproxy(claim func(string, string), listen func(string, Port), apps []string) {
	h := v.s.HAProxy
	v.port("haproxy.port", h.Port)
	v.placement("haproxy.placement", h.Placement)
	listen("haproxy.port", h.Port)
	v.oneOf("haproxy.mode", h.Mode, HAProxyModes)
	if h.Maxconn < 1 {
		v.errorf("haproxy.maxconn", "must be >= 1 (got %d)", h.Maxconn)
	}
	t := h.Timeouts
	v.positive("haproxy.timeouts.connect", t.Connect)
	v.positive("haproxy.timeouts.client", t.Client)
	v.positive("haproxy.timeouts.server", t.Server)
	v.positive("haproxy.timeouts.queue", t.Queue)
	v.positive("haproxy.timeouts.http_keep_alive", t.HTTPKeepAlive)
	v.positive("haproxy.timeouts.http_request", t.HTTPRequest)

	backends := map[string]bool{}
	var backendNames []string
	for i, b := range h.Backends {
		p := fmt.Sprintf("haproxy.backends[%d]", i)
		if len(h.ConfigFile) == 0 { // a file's backends are named as HAProxy allows
			v.name(p+".name", b.Name)
			claim(p+".name", b.Name)
		}
		backends[b.Name] = true
		backendNames = append(backendNames, b.Name)
		v.oneOf(p+".balance", b.Balance, BalanceAlgorithms)
		if len(b.Servers) == 0 && len(v.s.Apps) > 0 {
			v.errorf(p+".servers", "at least one server is required")
		}
		inBackend := map[string]string{}
		for j, srv := range b.Servers {
			sp := fmt.Sprintf("%s.servers[%d]", p, j)
			switch {
			case srv.App == "":
				v.errorf(sp+".app", "required")
			case !slices.Contains(apps, srv.App):
				v.errorf(sp+".app", "unknown app %q (apps: %s)%s", srv.App, strings.Join(apps, ", "), didYouMean(srv.App, apps))
			case inBackend[srv.App] != "":
				v.errorf(sp+".app", "app %q is already in this backend at %s", srv.App, inBackend[srv.App])
			default:
				inBackend[srv.App] = sp
			}
			if srv.Weight != nil && (*srv.Weight < 0 || *srv.Weight > MaxWeight) {
				v.errorf(sp+".weight", "must be 0-%d (got %d)", MaxWeight, *srv.Weight)
			}
			if srv.Maxconn < 0 {
				v.errorf(sp+".maxconn", "must not be negative (got %d)", srv.Maxconn)
			}
		}
		hc := b.HealthCheck
		if !hc.Disabled {
			if !strings.HasPrefix(hc.Path, "/") || strings.ContainsAny(hc.Path, " \t\r\n") {
				v.errorf(p+".health_check.path", "must be a path starting with '/' and without spaces (got %q)", hc.Path)
			}
			v.positive(p+".health_check.interval", hc.Interval)
			if hc.Rise < 1 {
				v.errorf(p+".health_check.rise", "must be >= 1 (got %d)", hc.Rise)
			}
			if hc.Fall < 1 {
				v.errorf(p+".health_check.fall", "must be >= 1 (got %d)", hc.Fall)
			}
		}
		if b.Cache && h.Cache.Size == 0 {
			v.errorf(p+".cache", "needs haproxy.cache.size > 0")
		}
		v.rawLines(p+".extra", b.Extra)
	}
	for i, r := range h.Routes {
		p := fmt.Sprintf("haproxy.routes[%d]", i)
		if !strings.HasPrefix(r.PathPrefix, "/") || strings.ContainsAny(r.PathPrefix, " \t\r\n") {
			v.errorf(p+".path_prefix", "must start with '/' and have no spaces (got %q)", r.PathPrefix)
		}
		if !backends[r.Backend] {
			v.errorf(p+".backend", "unknown backend %q (backends: %s)%s", r.Backend, strings.Join(backendNames, ", "), didYouMean(r.Backend, backendNames))
		}
	}

	v.cache(h.Cache)
	v.haproxyListeners(h, listen)
	v.rawLines("haproxy.extra.global", h.Extra.Global)
	v.rawLines("haproxy.extra.defaults", h.Extra.Defaults)
	v.rawLines("haproxy.extra.frontend", h.Extra.Frontend)
}

// cache checks haproxy.cache.
func (v *validator) cache(c Cache) {
	switch {
	case c.Size < 0:
		v.errorf("haproxy.cache.size", "must not be negative")
	case c.Size%(1<<20) != 0 || c.Size > 4095<<20:
		v.errorf("haproxy.cache.size", "must be a whole number of megabytes, at most 4095mb (got %s)", c.Size)
	}
	if c.Size > 0 && c.MaxObjectSize > c.Size/2 {
		v.errorf("haproxy.cache.max_object_size", "must be at most half of haproxy.cache.size (%s) (got %s)", c.Size/2, c.MaxObjectSize)
	}
	if c.MaxAge < 0 || (c.MaxAge > 0 && c.MaxAge.D()%1e9 != 0) {
		v.errorf("haproxy.cache.max_age", "must be a whole number of seconds (got %s)", c.MaxAge)
	}
}

// haproxyListeners checks the ports HAProxy listens on besides haproxy.port
// (the config file's other binds, the stats socket, the Prometheus endpoint,
// the stats page) and the stats page's credentials.
func (v *validator) haproxyListeners(h HAProxy, listen func(string, Port)) {
	for i := range h.Binds {
		if h.Binds[i].Entry {
			continue
		}
		p := fmt.Sprintf("haproxy.binds[%d].port", i)
		v.port(p, h.Binds[i].Port)
		listen(p, h.Binds[i].Port)
	}
	v.port("haproxy.stats_socket.port", h.StatsSocket.Port)
	listen("haproxy.stats_socket.port", h.StatsSocket.Port)
	if !h.Prometheus.Disabled {
		v.port("haproxy.prometheus.port", h.Prometheus.Port)
		listen("haproxy.prometheus.port", h.Prometheus.Port)
	}
	sp := h.StatsPage
	if sp.Enabled {
		v.port("haproxy.stats_page.port", sp.Port)
		listen("haproxy.stats_page.port", sp.Port)
		if sp.User == "" {
			v.errorf("haproxy.stats_page.user", "required when the stats page is enabled")
		}
		if sp.PasswordEnv == "" {
			v.errorf("haproxy.stats_page.password_env", "required when the stats page is enabled")
		}
	}
	if strings.ContainsAny(sp.User, ": \t\r\n") {
		v.errorf("haproxy.stats_page.user", "must not contain ':' or spaces (got %q)", sp.User)
	}
	v.envVar("haproxy.stats_page.password_env", sp.PasswordEnv)
}

func (v *validator) load() {
	l := v.s.Load
	v.positive("load.duration", l.Duration)
	v.oneOf("load.shape", l.Shape, LoadShapes)
	switch {
	case l.Rate < 0 && !l.Rate.IsMax():
		got := "a negative number"
		if t, ok := v.raw("load.rate"); ok {
			got = strings.TrimSpace(t)
		}
		v.errorf("load.rate", "must not be negative (got %s)", got)
	case l.Rate == 0 && l.Shape != "steps":
		v.errorf("load.rate", "must be > 0 or \"max\" (got 0)")
	case l.Rate.IsMax() && l.Shape != "constant" && slices.Contains(LoadShapes, l.Shape):
		v.errorf("load.rate", "\"max\" only works with shape constant (shape is %q)", l.Shape)
	}
	if l.Shape != "ramp" && l.RampFrom != 0 {
		v.errorf("load.ramp_from", "only used with shape ramp (shape is %q)", l.Shape)
	}
	if l.Shape != "sine" && (l.Amplitude != 0 || l.Period != 0) {
		path := "load.amplitude"
		if l.Amplitude == 0 {
			path = "load.period"
		}
		v.errorf(path, "only used with shape sine (shape is %q)", l.Shape)
	}
	if l.Shape != "steps" && len(l.Steps) > 0 {
		v.errorf("load.steps", "only used with shape steps (shape is %q)", l.Shape)
	}
	switch l.Shape {
	case "ramp":
		if l.RampFrom < 0 {
			v.errorf("load.ramp_from", "must not be negative (got %g)", l.RampFrom)
		}
	case "sine":
		v.positive("load.period", l.Period)
		if l.Amplitude <= 0 || (l.Rate > 0 && l.Amplitude > float64(l.Rate)) {
			v.errorf("load.amplitude", "must be > 0 and at most load.rate (%s) (got %g)", l.Rate, l.Amplitude)
		}
	case "steps":
		if len(l.Steps) == 0 {
			v.errorf("load.steps", "at least one step is required with shape steps")
		}
		for i, st := range l.Steps {
			p := fmt.Sprintf("load.steps[%d]", i)
			if st.Rate <= 0 {
				v.errorf(p+".rate", "must be > 0 (got %g)", st.Rate)
			}
			v.positive(p+".for", st.For)
		}
	}
	v.nonNegative("load.warmup", l.Warmup)
	for _, f := range []struct {
		path string
		n    int
	}{{"load.workers", l.Workers}, {"load.max_workers", l.MaxWorkers}, {"load.connections", l.Connections}} {
		if f.n < 0 {
			v.errorf(f.path, "must not be negative (got %d)", f.n)
		}
	}
	if l.Workers > 0 && l.MaxWorkers > 0 && l.Workers > l.MaxWorkers {
		v.errorf("load.workers", "must be at most load.max_workers (%d) (got %d)", l.MaxWorkers, l.Workers)
	}
	v.positive("load.timeout", l.Timeout)

	k := l.Keys
	v.oneOf("load.keys.distribution", k.Distribution, KeyDistributions)
	if k.Count < 1 {
		v.errorf("load.keys.count", "must be >= 1 (got %d)", k.Count)
	}
	if k.ZipfS <= 1 {
		v.errorf("load.keys.zipf_s", "must be > 1 (got %g)", k.ZipfS)
	}
	if k.ZipfV < 1 {
		v.errorf("load.keys.zipf_v", "must be >= 1 (got %g)", k.ZipfV)
	}
	if strings.ContainsAny(k.Prefix, "/?# \t\r\n") {
		v.errorf("load.keys.prefix", "must not contain '/', '?', '#' or spaces (got %q)", k.Prefix)
	}

	names := map[string]string{}
	for i, t := range l.Targets {
		p := fmt.Sprintf("load.targets[%d]", i)
		if !strings.HasPrefix(t.Path, "/") || strings.ContainsAny(t.Path, " \t\r\n") {
			v.errorf(p+".path", "must start with '/' and have no spaces (got %q)", t.Path)
		}
		if !slices.Contains(HTTPMethods, t.Method) {
			v.errorf(p+".method", "unknown method %q (want one of %s)%s", t.Method, strings.Join(HTTPMethods, ", "), didYouMean(strings.ToUpper(t.Method), HTTPMethods))
		}
		if t.Weight < 1 {
			v.errorf(p+".weight", "must be >= 1 (got %d)", t.Weight)
		}
		if first, dup := names[t.Name]; dup {
			v.errorf(p+".name", "target name %q is already used by %s", t.Name, first)
		} else {
			names[t.Name] = p
		}
		if t.Body != "" && (t.Method == "GET" || t.Method == "HEAD") {
			v.errorf(p+".body", "a %s request has no body", t.Method)
		}
	}
}

func (v *validator) slo() {
	o := v.s.SLO
	seq := []struct {
		path string
		d    Duration
	}{{"slo.p50", o.P50}, {"slo.p90", o.P90}, {"slo.p99", o.P99}, {"slo.p999", o.P999}, {"slo.max", o.Max}}
	var prev string
	var prevD Duration
	for _, q := range seq {
		v.nonNegative(q.path, q.d)
		if q.d > 0 {
			if prev != "" && q.d < prevD {
				v.errorf(q.path, "must be at least %s (%s) (got %s)", prev, prevD, q.d)
			}
			prev, prevD = q.path, q.d
		}
	}
	if o.Success < 0 || o.Success > 1 {
		v.errorf("slo.success", "must be between 0%% and 100%% (got %s)", o.Success)
	}
	if o.MinRate < 0 {
		v.errorf("slo.min_rate", "must not be negative (got %g)", o.MinRate)
	}
	v.nonNegative("slo.max_replication_delay", o.MaxReplicationDelay)
}

func (v *validator) check() {
	c := v.s.Check
	if c.MaxP99Regression < 0 {
		v.errorf("check.max_p99_regression", "must not be negative (got %s)", c.MaxP99Regression)
	}
	if c.MaxThroughputDrop < 0 || c.MaxThroughputDrop > 1 {
		v.errorf("check.max_throughput_drop", "must be between 0%% and 100%% (got %s)", c.MaxThroughputDrop)
	}
	if c.MaxErrorRate < 0 || c.MaxErrorRate > 1 {
		v.errorf("check.max_error_rate", "must be between 0%% and 100%% (got %s)", c.MaxErrorRate)
	}
	if c.Alpha <= 0 || c.Alpha >= 0.5 {
		v.errorf("check.alpha", "must be > 0 and < 0.5 (got %g)", c.Alpha)
	}
}

func (v *validator) probes(listen func(string, Port)) {
	p := v.s.Probes
	v.positive("probes.heartbeat_interval", p.HeartbeatInterval)
	v.positive("probes.interval", p.Interval)
	if p.Interval > 0 && p.HeartbeatInterval > p.Interval {
		v.errorf("probes.heartbeat_interval", "must be at most probes.interval (%s) (got %s)", p.Interval, p.HeartbeatInterval)
	}
	host, port, err := net.SplitHostPort(p.Listen)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil || n < 0 || n > 65535 {
		v.errorf("probes.listen", "must be host:port like 127.0.0.1:9477 (got %q)", p.Listen)
		return
	}
	if host != "" && host != "localhost" && net.ParseIP(host) == nil {
		v.errorf("probes.listen", "host must be an IP address or localhost (got %q)", host)
	}
	if n > 0 {
		listen("probes.listen", Port(n))
	}
}

func (v *validator) faults() {
	targets := []string{"haproxy"}
	targets = append(targets, v.s.Redis.names()...)
	for _, a := range v.s.Apps {
		targets = append(targets, a.Name)
	}
	dur := v.s.Load.Duration
	for i, f := range v.s.Faults {
		p := fmt.Sprintf("faults[%d]", i)
		if !slices.Contains(targets, f.Target) {
			v.errorf(p+".target", "unknown target %q (want a redis node, an app or haproxy: %s)%s", f.Target, strings.Join(targets, ", "), didYouMean(f.Target, targets))
		}
		v.oneOf(p+".action", string(f.Action), FaultActions)
		switch {
		case f.At < 0:
			v.errorf(p+".at", "must not be negative (got %s)", f.At)
		case dur > 0 && f.At >= dur:
			v.errorf(p+".at", "%s is beyond the load duration (%s)", f.At, dur)
		}
		switch {
		case f.For < 0:
			v.errorf(p+".for", "must not be negative (got %s)", f.For)
		case f.Action == FaultPause && f.For == 0:
			v.errorf(p+".for", "required with action pause")
		case (f.Action == FaultCont || f.Action == FaultRestart) && f.For != 0:
			v.errorf(p+".for", "not used with action %s", f.Action)
		}
	}
}

// placement checks swarm placement constraints: "<field> == <value>" or
// "<field> != <value>", as `docker service create --constraint` takes them.
func (v *validator) placement(path string, cs []string) {
	for i, c := range cs {
		op := "=="
		if !strings.Contains(c, op) {
			op = "!="
		}
		k, val, ok := strings.Cut(c, op)
		if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(val) == "" || strings.ContainsAny(c, "\n\r") {
			v.errorf(fmt.Sprintf("%s[%d]", path, i), "must be a swarm constraint like \"node.labels.duckbench==app\" (got %q)", c)
		}
	}
}
