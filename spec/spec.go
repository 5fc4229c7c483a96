// Package spec is the declarative model of a duckbench stack: one YAML file
// describes Redis (a master and its replicas), the apps, HAProxy in front of
// them, the load to drive, the SLO to judge it by and the faults to inject.
//
// Load reads a spec without side effects: defaults, then strict decoding, then
// validation. Every error names the file, the field path and the line.
package spec

// APIVersion is the only spec version this build reads.
const APIVersion = "duckbench/v1"

// Spec is a whole stack. Field docs name the YAML key and the default.
type Spec struct {
	// Version must be APIVersion (key: version). Optional; defaults to APIVersion.
	Version string `yaml:"version,omitempty" json:"version,omitempty"`
	// Name names the stack; it prefixes run directories, compose projects and
	// result folders. Lowercase letters, digits and '-'. Required.
	Name string `yaml:"name" json:"name"`
	// Runtime is the default stack driver: auto (default), local, compose or
	// swarm.
	Runtime string `yaml:"runtime,omitempty" json:"runtime,omitempty"`

	// Redis is the master and its replicas (default: one master, no replicas).
	Redis Redis `yaml:"redis" json:"redis"`
	// Apps are the web app instances behind HAProxy; at least one.
	Apps []App `yaml:"apps" json:"apps"`
	// HAProxy is the load balancer in front of the apps.
	HAProxy HAProxy `yaml:"haproxy" json:"haproxy"`

	// Load is the attack driven through HAProxy.
	Load Workload `yaml:"load,omitempty" json:"load,omitempty"`
	// SLO is what a run must meet to pass (exit 1 otherwise).
	SLO SLO `yaml:"slo,omitempty" json:"slo,omitempty"`
	// Check holds the regression thresholds of compare and check.
	Check Check `yaml:"check,omitempty" json:"check,omitempty"`
	// Probes configures replication/HAProxy sampling and the exporter.
	Probes Probes `yaml:"probes,omitempty" json:"probes,omitempty"`
	// Faults are failures injected during the attack.
	Faults []Fault `yaml:"faults,omitempty" json:"faults,omitempty"`
	// Sweep is what duckbench sweep varies when no --vary is given.
	Sweep *Sweep `yaml:"sweep,omitempty" json:"sweep,omitempty"`

	// meta holds positions and explicitly written fields when the spec came
	// from Parse; nil for a spec built in code.
	meta *meta
}

// Redis is a master with zero or more replicas.
type Redis struct {
	// Image is the container image for the compose runtime (default "redis:7.0").
	Image string `yaml:"image,omitempty" json:"image,omitempty"`
	// PasswordEnv names an environment variable holding the password
	// (requirepass/masterauth). The password itself never appears in a spec,
	// a rendered file left on disk, a log or a result.
	PasswordEnv string `yaml:"password_env,omitempty" json:"password_env,omitempty"`
	// Defaults apply to every node; a node's own settings override them.
	Defaults RedisSettings `yaml:"defaults,omitempty" json:"defaults,omitempty"`
	// Master is the node every replica replicates from.
	Master RedisNode `yaml:"master" json:"master"`
	// Replicas each run "replicaof" the master.
	Replicas []RedisNode `yaml:"replicas,omitempty" json:"replicas,omitempty"`
	// ConfigFile is the user's own redis.conf for every node (a node's own
	// config_file wins), relative to the spec. The lab keeps it except
	// port, bind, replicaof, dir, pidfile, logfile, daemonize, supervised,
	// unixsocket and the password (see render --explain); the settings the
	// spec names are applied after it.
	ConfigFile string `yaml:"config_file,omitempty" json:"config_file,omitempty"`
	// FileSettings are directives set in every node's config_file by sweep
	// settings (redis.file.maxmemory-policy=…).
	FileSettings []FileSetting `yaml:"-" json:"file_settings,omitempty"`
}

// RedisNode is one redis-server.
type RedisNode struct {
	// Name is unique across the spec (default "redis-master", "redis-replica-N").
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// Port on 127.0.0.1: 1-65535 or "auto" (default: master 6379, replicas 6380+).
	Port Port `yaml:"port,omitempty" json:"port,omitempty"`
	// Placement pins the node on the swarm runtime: constraints such as
	// "node.labels.duckbench==redis-master" (ignored elsewhere).
	Placement []string `yaml:"placement,omitempty" json:"placement,omitempty"`
	// ConfigFile is this node's own redis.conf (see Redis.ConfigFile).
	ConfigFile string `yaml:"config_file,omitempty" json:"config_file,omitempty"`
	// ConfigSHA256 is the sha256 of its config file as read, includes too
	// (so that the spec's hash changes with the file).
	ConfigSHA256  string `yaml:"-" json:"config_sha256,omitempty"`
	RedisSettings `yaml:",inline" json:",inline"`
}

// RedisSettings are the redis.conf settings the spec knows by name. A nil
// pointer means "not set here": the node inherits Redis.Defaults, then
// redis-server's own default.
type RedisSettings struct {
	// Maxmemory is redis.conf maxmemory, e.g. 256mb.
	Maxmemory *ByteSize `yaml:"maxmemory,omitempty" json:"maxmemory,omitempty"`
	// MaxmemoryPolicy is the eviction policy, e.g. allkeys-lru.
	MaxmemoryPolicy string `yaml:"maxmemory_policy,omitempty" json:"maxmemory_policy,omitempty"`
	// Appendonly turns the AOF on.
	Appendonly *bool `yaml:"appendonly,omitempty" json:"appendonly,omitempty"`
	// Save is the RDB snapshot schedule, e.g. "900 1"; "" disables snapshots.
	Save *string `yaml:"save,omitempty" json:"save,omitempty"`
	// ReplBacklogSize is the replication backlog (at least 16kb).
	ReplBacklogSize *ByteSize `yaml:"repl_backlog_size,omitempty" json:"repl_backlog_size,omitempty"`
	// ReplDisklessSync sends full syncs over the socket, not through disk.
	ReplDisklessSync *bool `yaml:"repl_diskless_sync,omitempty" json:"repl_diskless_sync,omitempty"`
	// Extra holds raw redis.conf lines appended verbatim, e.g. "hz 50".
	Extra []string `yaml:"extra,omitempty" json:"extra,omitempty"`
}

// App kinds.
const (
	AppBuiltin = "builtin" // the reference app: `duckbench app`
	AppCommand = "command" // a user command (local runtime)
	AppImage   = "image"   // a user image (compose runtime)
)

// App is one web app instance behind HAProxy.
type App struct {
	// Name is unique across the spec; it is the HAProxy server name and the
	// X-Served-By value of the reference app.
	Name string `yaml:"name" json:"name"`
	// Kind is builtin (default), command or image.
	Kind string `yaml:"kind,omitempty" json:"kind,omitempty"`
	// Port on 127.0.0.1: 1-65535 or "auto" (default 8001, 8002, …).
	Port Port `yaml:"port,omitempty" json:"port,omitempty"`
	// Command runs a user app (kind command); {port} is replaced by the port.
	Command []string `yaml:"command,omitempty" json:"command,omitempty"`
	// Image overrides the container image (kind image, or builtin on compose;
	// builtin default "duckbench:<version>", see duckbench image build).
	Image string `yaml:"image,omitempty" json:"image,omitempty"`
	// Env is extra environment for the app process or container.
	Env map[string]string `yaml:"env,omitempty" json:"env,omitempty"`
	// OriginCost is the reference app's simulated cost of computing a value on
	// a cache miss (default 2ms).
	OriginCost Duration `yaml:"origin_cost,omitempty" json:"origin_cost,omitempty"`
	// CacheTTL is how long the reference app keeps computed values in Redis
	// (default 60s); it is also the Cache-Control max-age it sends.
	CacheTTL Duration `yaml:"cache_ttl,omitempty" json:"cache_ttl,omitempty"`
	// MaxConcurrency caps in-flight requests in the reference app (0 = no cap);
	// excess requests get 503. Gives a stack of known capacity.
	MaxConcurrency int `yaml:"max_concurrency,omitempty" json:"max_concurrency,omitempty"`
	// Replicas is the number of tasks of this app on the swarm runtime
	// (default 1); HAProxy finds them through Docker's DNS. Other runtimes
	// run one instance.
	Replicas int `yaml:"replicas,omitempty" json:"replicas,omitempty"`
	// Placement pins the app's tasks on the swarm runtime to nodes:
	// constraints such as "node.labels.duckbench==app" (ignored elsewhere).
	Placement []string `yaml:"placement,omitempty" json:"placement,omitempty"`
	// MaxReplicasPerNode caps the app's tasks on one swarm node (0: no
	// cap): replicas: 3 with 1 puts them on three nodes (ignored elsewhere).
	MaxReplicasPerNode int `yaml:"max_replicas_per_node,omitempty" json:"max_replicas_per_node,omitempty"`
}

// Balance algorithms HAProxy accepts here.
var BalanceAlgorithms = []string{"roundrobin", "leastconn", "source", "uri", "random"}

// HAProxy is the load balancer in front of the apps.
type HAProxy struct {
	// Image for the compose runtime (default "haproxy:2.6").
	Image string `yaml:"image,omitempty" json:"image,omitempty"`
	// Placement pins HAProxy on the swarm runtime: constraints such as
	// "node.labels.duckbench==lb" (ignored elsewhere).
	Placement []string `yaml:"placement,omitempty" json:"placement,omitempty"`
	// Port is the frontend port (default 6301, as in the origin lab).
	Port Port `yaml:"port,omitempty" json:"port,omitempty"`
	// Mode is http (default); the only mode supported now.
	Mode string `yaml:"mode,omitempty" json:"mode,omitempty"`
	// Maxconn is the global and frontend connection cap (default 4096).
	Maxconn int `yaml:"maxconn,omitempty" json:"maxconn,omitempty"`
	// Timeouts of HAProxy's defaults section.
	Timeouts Timeouts `yaml:"timeouts,omitempty" json:"timeouts,omitempty"`
	// Backends; default one backend "apps" holding every app with weight 1.
	Backends []Backend `yaml:"backends,omitempty" json:"backends,omitempty"`
	// Routes send a path prefix to a backend; the first backend is the default.
	Routes []Route `yaml:"routes,omitempty" json:"routes,omitempty"`
	// Cache is HAProxy's small object cache, used by backends with cache: true.
	Cache Cache `yaml:"cache,omitempty" json:"cache,omitempty"`
	// StatsSocket is the Runtime API (always on; a unix socket, mode 600, in
	// the run dir locally; a TCP port published on 127.0.0.1 with compose).
	StatsSocket StatsSocket `yaml:"stats_socket,omitempty" json:"stats_socket,omitempty"`
	// Prometheus is HAProxy's built-in exporter (default on, port 8405).
	Prometheus PromEndpoint `yaml:"prometheus,omitempty" json:"prometheus,omitempty"`
	// StatsPage is the HTML stats page: off unless enabled, and then only
	// with credentials.
	StatsPage StatsPage `yaml:"stats_page,omitempty" json:"stats_page,omitempty"`
	// ServedBy is the X-Served-By response header HAProxy sets to the name
	// of the server that answered (default on): duckbench attributes each
	// response to a server by it, for any app. It replaces an app's own
	// X-Served-By; a cache hit says <CACHE>.
	ServedBy ServedByHeader `yaml:"served_by,omitempty" json:"served_by,omitzero"`
	// Extra holds raw haproxy.cfg lines per section.
	Extra RawHAProxy `yaml:"extra,omitempty" json:"extra,omitempty"`
	// ConfigFile is the user's own haproxy.cfg: one path or a list of files
	// and directories read as haproxy -f reads them (relative to the spec).
	// The lab uses it as written except for binds, servers, the stats socket,
	// what runs a daemon and TLS certificates (TLS binds serve a lab
	// certificate made per run; see render --explain). Backends and routes
	// then come from the file.
	ConfigFile Paths `yaml:"config_file,omitempty" json:"config_file,omitempty"`
	// Binds are config_file's bind lines and their lab ports (filled in
	// when the spec is read).
	Binds []FileBind `yaml:"-" json:"binds,omitempty"`
	// Servers are config_file's servers and their lab apps (filled in when
	// the spec is read).
	Servers []FileServer `yaml:"-" json:"servers,omitempty"`
	// ConfigSHA256 is the sha256 of config_file as read (so that the spec's
	// hash changes with the file).
	ConfigSHA256 string `yaml:"-" json:"config_sha256,omitempty"`
	// FileSettings are directives set in config_file by sweep or ab
	// settings (haproxy.file.backend[web].balance=…).
	FileSettings []FileSetting `yaml:"-" json:"file_settings,omitempty"`
}

// Timeouts for HAProxy's defaults section.
type Timeouts struct {
	Connect Duration `yaml:"connect,omitempty" json:"connect,omitempty"` // default 5s
	Client  Duration `yaml:"client,omitempty" json:"client,omitempty"`   // default 30s
	Server  Duration `yaml:"server,omitempty" json:"server,omitempty"`   // default 30s
	Queue   Duration `yaml:"queue,omitempty" json:"queue,omitempty"`     // default 5s
	// HTTPKeepAlive and HTTPRequest default to 10s each.
	HTTPKeepAlive Duration `yaml:"http_keep_alive,omitempty" json:"http_keep_alive,omitempty"`
	HTTPRequest   Duration `yaml:"http_request,omitempty" json:"http_request,omitempty"`
}

// Backend is one HAProxy backend.
type Backend struct {
	// Name is the HAProxy backend name, unique across the spec.
	Name string `yaml:"name" json:"name"`
	// Balance is one of BalanceAlgorithms (default roundrobin).
	Balance string   `yaml:"balance,omitempty" json:"balance,omitempty"`
	Servers []Server `yaml:"servers,omitempty" json:"servers,omitempty"`
	// HealthCheck is on by default (GET /healthz every 2s, rise 2, fall 3).
	HealthCheck HealthCheck `yaml:"health_check,omitempty" json:"health_check,omitempty"`
	// Cache turns HAProxy's object cache on for this backend.
	Cache bool `yaml:"cache,omitempty" json:"cache,omitempty"`
	// Extra raw lines for this backend section.
	Extra []string `yaml:"extra,omitempty" json:"extra,omitempty"`
}

// Server puts an app in a backend.
type Server struct {
	// App names an entry of apps.
	App string `yaml:"app" json:"app"`
	// Weight 0-256 (default 1; 0 takes the server out of rotation).
	Weight *int `yaml:"weight,omitempty" json:"weight,omitempty"`
	// Maxconn caps connections to this server (0 = none).
	Maxconn int `yaml:"maxconn,omitempty" json:"maxconn,omitempty"`
}

// HealthCheck is HAProxy's active HTTP check.
type HealthCheck struct {
	Disabled bool     `yaml:"disabled,omitempty" json:"disabled,omitempty"`
	Path     string   `yaml:"path,omitempty" json:"path,omitempty"`         // default /healthz
	Interval Duration `yaml:"interval,omitempty" json:"interval,omitempty"` // default 2s
	Rise     int      `yaml:"rise,omitempty" json:"rise,omitempty"`         // default 2
	Fall     int      `yaml:"fall,omitempty" json:"fall,omitempty"`         // default 3
}

// Route sends requests whose path starts with PathPrefix to Backend.
type Route struct {
	PathPrefix string `yaml:"path_prefix" json:"path_prefix"`
	Backend    string `yaml:"backend" json:"backend"`
}

// Cache is HAProxy's small object cache ("cache" section).
type Cache struct {
	Size          ByteSize `yaml:"size,omitempty" json:"size,omitempty"`                       // total-max-size, default 64mb
	MaxAge        Duration `yaml:"max_age,omitempty" json:"max_age,omitempty"`                 // default 60s
	MaxObjectSize ByteSize `yaml:"max_object_size,omitempty" json:"max_object_size,omitempty"` // default 512kb; at most half of size
}

// StatsSocket is the Runtime API socket.
type StatsSocket struct {
	// Port for compose (TCP inside the container, published on 127.0.0.1;
	// default 9999). The local runtime uses a unix socket in the run dir.
	Port Port `yaml:"port,omitempty" json:"port,omitempty"`
}

// PromEndpoint is HAProxy's built-in Prometheus exporter.
type PromEndpoint struct {
	Disabled bool `yaml:"disabled,omitempty" json:"disabled,omitempty"`
	Port     Port `yaml:"port,omitempty" json:"port,omitempty"` // default 8405
}

// ServedByHeader is HAProxy's X-Served-By response header.
type ServedByHeader struct {
	// Disabled leaves the header to the apps (the reference app sets its
	// own name; other apps' responses are then unattributed).
	Disabled bool `yaml:"disabled,omitempty" json:"disabled,omitempty"`
}

// StatsPage is HAProxy's HTML stats page.
type StatsPage struct {
	// Enabled turns the page on; User and PasswordEnv are then required.
	Enabled bool `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	Port    Port `yaml:"port,omitempty" json:"port,omitempty"` // default 8404
	// User is the basic-auth user name.
	User string `yaml:"user,omitempty" json:"user,omitempty"`
	// PasswordEnv names the environment variable holding the password.
	PasswordEnv string `yaml:"password_env,omitempty" json:"password_env,omitempty"`
}

// RawHAProxy holds raw haproxy.cfg lines appended to a section.
type RawHAProxy struct {
	Global   []string `yaml:"global,omitempty" json:"global,omitempty"`
	Defaults []string `yaml:"defaults,omitempty" json:"defaults,omitempty"`
	Frontend []string `yaml:"frontend,omitempty" json:"frontend,omitempty"`
}

// Workload describes the attack driven through HAProxy.
type Workload struct {
	// Duration of the attack (default 10s).
	Duration Duration `yaml:"duration,omitempty" json:"duration,omitempty"`
	// Rate in requests per second, or "max" for as fast as possible (default 100).
	Rate Rate `yaml:"rate,omitempty" json:"rate,omitempty"`
	// Shape: constant (default), ramp, sine or steps.
	Shape string `yaml:"shape,omitempty" json:"shape,omitempty"`
	// Ramp: linear from From to Rate over Duration (shape ramp).
	RampFrom float64 `yaml:"ramp_from,omitempty" json:"ramp_from,omitempty"`
	// Sine: Rate is the mean; Amplitude and Period (shape sine).
	Amplitude float64  `yaml:"amplitude,omitempty" json:"amplitude,omitempty"`
	Period    Duration `yaml:"period,omitempty" json:"period,omitempty"`
	// Steps: successive constant rates (shape steps).
	Steps []Step `yaml:"steps,omitempty" json:"steps,omitempty"`
	// Warmup is a period before the measured attack whose results are dropped.
	Warmup Duration `yaml:"warmup,omitempty" json:"warmup,omitempty"`
	// Workers is the initial worker count; MaxWorkers caps them (default: sized
	// from the rate and the cores). Connections caps open connections per host.
	Workers     int   `yaml:"workers,omitempty" json:"workers,omitempty"`
	MaxWorkers  int   `yaml:"max_workers,omitempty" json:"max_workers,omitempty"`
	Connections int   `yaml:"connections,omitempty" json:"connections,omitempty"`
	KeepAlive   *bool `yaml:"keepalive,omitempty" json:"keepalive,omitempty"` // default true
	// Timeout per request (default 5s).
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// Seed makes the request sequence repeatable (default 1).
	Seed int64 `yaml:"seed,omitempty" json:"seed,omitempty"`
	// Keys says how {key} in target paths is chosen.
	Keys Keys `yaml:"keys,omitempty" json:"keys,omitempty"`
	// Targets is the request mix; default one target GET /kv/{key}.
	Targets []Target `yaml:"targets,omitempty" json:"targets,omitempty"`
}

// Step is one stage of a steps shape.
type Step struct {
	Rate float64  `yaml:"rate" json:"rate"`
	For  Duration `yaml:"for" json:"for"`
}

// Keys is how {key} in a target path is chosen.
type Keys struct {
	// Distribution: uniform (default), zipf or sequential.
	Distribution string `yaml:"distribution,omitempty" json:"distribution,omitempty"`
	// Count of distinct keys (default 1000).
	Count int `yaml:"count,omitempty" json:"count,omitempty"`
	// ZipfS (>1, default 1.1) and ZipfV (>=1, default 1) shape the zipf skew.
	ZipfS float64 `yaml:"zipf_s,omitempty" json:"zipf_s,omitempty"`
	ZipfV float64 `yaml:"zipf_v,omitempty" json:"zipf_v,omitempty"`
	// Prefix is prepended to each key (default "k").
	Prefix string `yaml:"prefix,omitempty" json:"prefix,omitempty"`
}

// Target is one entry of the request mix.
type Target struct {
	Name   string `yaml:"name,omitempty" json:"name,omitempty"`     // default METHOD PATH
	Method string `yaml:"method,omitempty" json:"method,omitempty"` // default GET
	// Path may hold {key}; it is relative to the HAProxy frontend.
	Path    string            `yaml:"path" json:"path"`
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	Body    string            `yaml:"body,omitempty" json:"body,omitempty"`
	// Weight in the mix (default 1).
	Weight int `yaml:"weight,omitempty" json:"weight,omitempty"`
}

// SLO thresholds; a zero value means "not checked".
type SLO struct {
	P50  Duration `yaml:"p50,omitempty" json:"p50,omitempty"`
	P90  Duration `yaml:"p90,omitempty" json:"p90,omitempty"`
	P99  Duration `yaml:"p99,omitempty" json:"p99,omitempty"`
	P999 Duration `yaml:"p999,omitempty" json:"p999,omitempty"`
	Max  Duration `yaml:"max,omitempty" json:"max,omitempty"`
	// Success is the minimum share of 2xx/3xx responses, e.g. "99.9%".
	Success Percent `yaml:"success,omitempty" json:"success,omitempty"`
	// MinRate is the minimum achieved request rate (req/s).
	MinRate float64 `yaml:"min_rate,omitempty" json:"min_rate,omitempty"`
	// MaxReplicationDelay bounds the p99 replication delay of every replica.
	MaxReplicationDelay Duration `yaml:"max_replication_delay,omitempty" json:"max_replication_delay,omitempty"`
}

// Check holds regression thresholds for compare/check; flags override them.
type Check struct {
	MaxP99Regression  Percent `yaml:"max_p99_regression,omitempty" json:"max_p99_regression,omitempty"`   // default 10%
	MaxThroughputDrop Percent `yaml:"max_throughput_drop,omitempty" json:"max_throughput_drop,omitempty"` // default 5%
	MaxErrorRate      Percent `yaml:"max_error_rate,omitempty" json:"max_error_rate,omitempty"`           // default 0.1%
	Alpha             float64 `yaml:"alpha,omitempty" json:"alpha,omitempty"`                             // significance level, default 0.05
}

// Probes configures the replication and HAProxy probes and the exporter.
type Probes struct {
	// HeartbeatInterval is how often the heartbeat is published on the master
	// and pushed to a subscriber on every replica (default 100ms).
	HeartbeatInterval Duration `yaml:"heartbeat_interval,omitempty" json:"heartbeat_interval,omitempty"`
	// Interval between INFO / show stat samples stored in the result (default 1s).
	Interval Duration `yaml:"interval,omitempty" json:"interval,omitempty"`
	// Listen is the exporter address (default 127.0.0.1:9477).
	Listen string `yaml:"listen,omitempty" json:"listen,omitempty"`
}

// FaultAction is what a fault does to its target. A driver applies kill,
// stop, cont and restart; pause is the spec's shorthand for stop, then cont
// after For.
type FaultAction string

// Fault actions.
const (
	FaultKill    FaultAction = "kill"    // SIGKILL, or docker kill
	FaultStop    FaultAction = "stop"    // SIGSTOP, or docker pause
	FaultCont    FaultAction = "cont"    // SIGCONT, or docker unpause
	FaultRestart FaultAction = "restart" // stop, start again, wait until it answers
	FaultPause   FaultAction = "pause"   // stop now, cont after For (spec only)
)

// FaultActions lists the actions a spec may name.
var FaultActions = []string{string(FaultKill), string(FaultStop), string(FaultCont), string(FaultRestart), string(FaultPause)}

// Sweep configures duckbench sweep; its flags override it.
type Sweep struct {
	// Vary lists the fields to vary and their values; the first value of
	// each is the baseline.
	Vary []SweepVary `yaml:"vary" json:"vary"`
	// Rounds is the number of runs per variant (default 4).
	Rounds int `yaml:"rounds,omitempty" json:"rounds,omitempty"`
	// Rate makes every run a fixed-rate run at this rate (req/s or "max")
	// instead of a capacity search under the SLO.
	Rate *Rate `yaml:"rate,omitempty" json:"rate,omitempty"`
}

// SweepVary is one swept field.
type SweepVary struct {
	// Path is a field path as validate prints it; [*] is every item of a
	// list, e.g. haproxy.backends[0].servers[*].maxconn.
	Path string `yaml:"path" json:"path"`
	// Values are written as in the spec (8, 2ms, leastconn).
	Values []string `yaml:"values" json:"values"`
}

// Fault is one injected failure during the attack.
type Fault struct {
	// At is the offset from the start of the attack.
	At Duration `yaml:"at" json:"at"`
	// Action: kill, stop (SIGSTOP), cont, restart or pause (stop, then cont after For).
	Action FaultAction `yaml:"action" json:"action"`
	// Target names a Redis node, an app, or "haproxy".
	Target string `yaml:"target" json:"target"`
	// For: with stop/pause/kill, recover (cont/restart) after this long.
	For Duration `yaml:"for,omitempty" json:"for,omitempty"`
}
