package stack

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/duckbench/duckbench/configgen"
	"github.com/duckbench/duckbench/spec"
)

// plan is what prepare works out for Up: the services in start order and
// the endpoints they will serve.
type plan struct {
	st  *State
	t   configgen.Target
	bin struct{ redis, haproxy string }
	// pwEnv names the password variable when it is set ("" otherwise).
	pwEnv string
	// entryTLS: the load's entry bind serves the lab certificate.
	entryTLS bool
}

// prepare checks the programs, resolves and checks the ports, renders the
// configs into the run dir and plans every service, in start order.
func (l *Local) prepare() (*State, error) {
	s := l.spec
	var p plan
	var err error
	if p.bin.redis, err = lookBinary("redis-server", "redis-server"); err != nil {
		return nil, err
	}
	if p.bin.haproxy, err = lookBinary("haproxy", "haproxy"); err != nil {
		return nil, err
	}
	// The Runtime API is a unix socket locally: no TCP port to check.
	if err := ResolvePorts(s, PortOptions{Skip: []string{"haproxy.stats_socket.port"}}); err != nil {
		return nil, err
	}
	p.t = configgen.Target{Runtime: RuntimeLocal, RunDir: l.runDir}
	if n := len(p.t.StatsSocketPath()); n > maxSocketPath {
		return nil, fmt.Errorf("run dir %s is too long for a unix socket (%d > %d bytes): use a shorter --run-dir", l.runDir, n, maxSocketPath)
	}
	files, err := configgen.Render(s, p.t)
	if err != nil {
		return nil, err
	}
	if err := files.WriteDir(l.runDir); err != nil {
		return nil, err
	}
	p.entryTLS = files.EntryTLS
	if err := os.MkdirAll(filepath.Join(l.runDir, "logs"), 0o700); err != nil {
		return nil, fmt.Errorf("create logs dir: %w", err)
	}
	os.Remove(p.t.StatsSocketPath()) // a socket left by a killed HAProxy

	// Fail closed (ErrNoPassword): a spec that asks for a password gets one or no Redis.
	if p.pwEnv = s.Redis.PasswordEnv; p.pwEnv != "" && os.Getenv(p.pwEnv) == "" {
		return nil, fmt.Errorf("redis node %q could not read its password: redis.password_env names %s, which is not set or empty: %w",
			s.Redis.Master.Name, p.pwEnv, ErrNoPassword)
	}
	p.st = &State{Spec: s.Name, StartedAt: time.Now().UTC(),
		Endpoints: Endpoints{Runtime: RuntimeLocal, Project: s.Name, RunDir: l.runDir}}
	if err := l.planRedis(&p); err != nil {
		return nil, err
	}
	for _, a := range s.Apps {
		if err := l.planApp(&p, a); err != nil {
			return nil, err
		}
	}
	l.planHAProxy(&p)
	for i := range p.st.Services {
		p.st.Services[i].Log = filepath.Join(l.runDir, "logs", p.st.Services[i].Name+".log")
	}
	return p.st, nil
}

// planRedis plans the master and the replicas, each on an empty data
// directory: an RDB or AOF left by the previous run would warm the caches
// and skew the comparison.
func (l *Local) planRedis(p *plan) error {
	for _, n := range l.spec.Redis.Nodes() {
		health := healthRedisReplica
		if n.Master() {
			health = healthRedisMaster
		}
		if err := os.RemoveAll(p.t.RedisDir(n.Name)); err != nil {
			return fmt.Errorf("clear redis dir: %w", err)
		}
		if err := os.MkdirAll(p.t.RedisDir(n.Name), 0o700); err != nil {
			return fmt.Errorf("create redis dir: %w", err)
		}
		args := []string{p.bin.redis, filepath.Join(l.runDir, configgen.RedisFile(n.Name))}
		if p.pwEnv != "" {
			args = append(args, "-") // the password directives come on stdin
		}
		p.st.Services = append(p.st.Services, ServiceState{
			Name: n.Name, Kind: KindRedis, Role: n.Role, Args: args, Dir: l.runDir,
			SecretStdin: p.pwEnv != "", Addr: loopback(n.Port), Health: health,
		})
		p.st.Endpoints.Redis = append(p.st.Endpoints.Redis, RedisEndpoint{Name: n.Name, Role: n.Role, Addr: loopback(n.Port)})
	}
	return nil
}

// planApp plans one app: the built-in app as `AppBinary app …`, or the
// spec's command with the addresses in its environment.
func (l *Local) planApp(p *plan, a spec.App) error {
	s := l.spec
	svc := ServiceState{Name: a.Name, Kind: KindApp, Dir: l.runDir, Addr: loopback(a.Port)}
	for _, k := range sortedKeys(a.Env) {
		svc.Env = append(svc.Env, k+"="+a.Env[k])
	}
	addrs := AppAddrsOf(s, a, "127.0.0.1", "127.0.0.1")
	switch a.Kind {
	case "", spec.AppBuiltin:
		if _, err := os.Stat(l.opts.AppBinary); err != nil {
			return fmt.Errorf("app %q: app binary: %w", a.Name, err)
		}
		svc.Args = append([]string{l.opts.AppBinary}, BuiltinAppArgs(a, addrs, p.pwEnv)...)
		svc.Health, svc.HealthPath = healthHTTP, spec.DefaultHealthPath
	case spec.AppCommand:
		if len(a.Command) == 0 {
			return fmt.Errorf("app %q: kind command needs a command", a.Name)
		}
		bin, err := exec.LookPath(a.Command[0])
		if err != nil {
			return fmt.Errorf("app %q: find command: %w", a.Name, err)
		}
		svc.Args = []string{bin}
		for _, arg := range a.Command[1:] {
			svc.Args = append(svc.Args, strings.ReplaceAll(arg, "{port}", strconv.Itoa(int(a.Port))))
		}
		svc.Env = append(svc.Env, "DUCKBENCH_APP_NAME="+a.Name, "DUCKBENCH_APP_PORT="+strconv.Itoa(int(a.Port)),
			"DUCKBENCH_REDIS_MASTER="+addrs.Master, "DUCKBENCH_REDIS_REPLICAS="+strings.Join(addrs.Replicas, ","))
		svc.Health = healthTCP
	default:
		return fmt.Errorf("app %q: kind %q cannot run on the local runtime", a.Name, a.Kind)
	}
	p.st.Services = append(p.st.Services, svc)
	p.st.Endpoints.Apps = append(p.st.Endpoints.Apps, AppEndpoint{Name: a.Name, URL: "http://" + loopback(a.Port)})
	return nil
}

// planHAProxy plans HAProxy, last: it waits for every server.
func (l *Local) planHAProxy(p *plan) {
	h := l.spec.HAProxy
	p.st.Services = append(p.st.Services, ServiceState{
		Name: KindHAProxy, Kind: KindHAProxy, Dir: l.runDir,
		Args:   []string{p.bin.haproxy, "-db", "-f", filepath.Join(l.runDir, configgen.HAProxyFile)},
		Addr:   loopback(h.Port),
		Health: healthHAProxy,
	})
	ep := HAProxyEndpoint{URL: "http://" + loopback(h.Port), Stats: p.t.StatsSocketPath()}
	if p.entryTLS {
		ep.URL, ep.CA = "https://"+loopback(h.Port), p.t.LabCAPath()
	}
	if !h.Prometheus.Disabled {
		ep.Prometheus = "http://" + loopback(h.Prometheus.Port) + "/metrics"
	}
	p.st.Endpoints.HAProxy = ep
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// lookBinary finds a program on PATH, or says how to install it.
func lookBinary(name, pkg string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("find %s: %w (is %s installed? apt-get install %s)", name, ErrMissingProgram, name, pkg)
	}
	return p, nil
}

// ErrNoPassword: a Redis node of a spec that names a password variable
// could not read a password (unset, empty, unreadable); secrets fail
// closed, so the node does not start without one.
var ErrNoPassword = errors.New("secrets fail closed: no Redis node starts without its password")
