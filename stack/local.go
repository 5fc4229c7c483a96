package stack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/duckbench/duckbench/configgen"
	"github.com/duckbench/duckbench/spec"
)

// Defaults of LocalOptions.
const (
	// DefaultStopTimeout is how long a service gets between SIGTERM and SIGKILL.
	DefaultStopTimeout = 10 * time.Second
	// DefaultReadyTimeout bounds the wait for one service to become healthy.
	DefaultReadyTimeout = 30 * time.Second
	// pollInterval paces readiness polling.
	pollInterval = 25 * time.Millisecond
)

// Service kinds in State and Status.
const (
	KindRedis   = "redis"
	KindApp     = "app"
	KindHAProxy = "haproxy"
)

// Health checks a ServiceState can name.
const (
	healthRedisMaster  = "redis-master"
	healthRedisReplica = "redis-replica"
	healthHTTP         = "http"
	healthTCP          = "tcp"
	healthHAProxy      = "haproxy"
)

// ErrMissingBinary is wrapped when a program the stack needs is not on PATH;
// the message carries the install hint. It is configgen's sentinel, so one
// errors.Is covers both packages.
var ErrMissingBinary = configgen.ErrMissingBinary

// ErrAlreadyUp is returned by Up when the run directory's state file names
// processes that still run.
var ErrAlreadyUp = errors.New("stack is already up")

// ErrPortInUse is wrapped when a port from the spec is taken by another program.
var ErrPortInUse = errors.New("port already in use")

// maxSocketPath is the longest unix socket path Linux accepts (sun_path - 1).
const maxSocketPath = 107

// LocalOptions configure the local driver.
type LocalOptions struct {
	// RunDir holds the rendered configs, logs/, Redis data directories, the
	// Runtime API socket and state.json (default .duckbench/<spec name>
	// under the working directory).
	RunDir string
	// AppBinary runs the built-in app as `AppBinary app …` (default: this
	// executable).
	AppBinary string
	// Log receives one line of progress per step (default: discarded).
	Log io.Writer
	// StopTimeout is the grace period between SIGTERM and SIGKILL
	// (default DefaultStopTimeout).
	StopTimeout time.Duration
	// ReadyTimeout bounds the wait for each service (default DefaultReadyTimeout).
	ReadyTimeout time.Duration
}

// Local runs a stack as child processes on 127.0.0.1. Each child gets its
// own process group (a Ctrl-C on the terminal reaches duckbench only, which
// then tears down in order) and no parent-death signal: the stack outlives
// `duckbench up`, and state.json lets a later `duckbench down` stop it, even
// after duckbench was killed.
type Local struct {
	spec   *spec.Spec
	opts   LocalOptions
	runDir string

	mu       sync.Mutex
	state    *State                // nil until Up, or loaded from disk by Fault
	children map[int]chan struct{} // processes this process started: closed when reaped
}

var _ Driver = (*Local)(nil)

// NewLocal returns the local driver for s (defaults applied). It starts
// nothing and needs no binary: Status and Down work wherever the state is.
func NewLocal(s *spec.Spec, opts LocalOptions) (*Local, error) {
	if s == nil {
		return nil, errors.New("new local driver: nil spec")
	}
	if opts.RunDir == "" {
		opts.RunDir = filepath.Join(".duckbench", s.Name)
	}
	dir, err := filepath.Abs(opts.RunDir)
	if err != nil {
		return nil, fmt.Errorf("new local driver: run dir: %w", err)
	}
	if opts.AppBinary == "" {
		if opts.AppBinary, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("new local driver: find own executable: %w", err)
		}
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = DefaultStopTimeout
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = DefaultReadyTimeout
	}
	return &Local{spec: cloneSpec(s), opts: opts, runDir: dir, children: map[int]chan struct{}{}}, nil
}

// RunDir returns the absolute run directory.
func (l *Local) RunDir() string { return l.runDir }

// cloneSpec copies what Up changes (ports), so the caller's spec keeps "auto".
func cloneSpec(s *spec.Spec) *spec.Spec {
	c := *s
	c.Redis.Replicas = append([]spec.RedisNode(nil), s.Redis.Replicas...)
	c.Apps = append([]spec.App(nil), s.Apps...)
	return &c
}

func (l *Local) logf(format string, args ...any) {
	fmt.Fprintf(l.opts.Log, format+"\n", args...)
}

// lock takes an exclusive lock on the run directory for the life of one Up
// or Down, so that two duckbench processes cannot race on one stack.
func (l *Local) lock() (unlock func(), err error) {
	if err := os.MkdirAll(l.runDir, 0o700); err != nil {
		return nil, fmt.Errorf("create run dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(l.runDir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock run dir: %w", err)
	}
	// Wait a little: a duckbench killed in the middle of starting a child
	// leaves the lock to that child until its exec, a moment later.
	deadline := time.Now().Add(lockWait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("lock run dir %s: another duckbench is bringing this stack up or down: %w", l.runDir, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hasEnvEntry reports whether a /proc/<pid>/environ blob holds entry.
func hasEnvEntry(environ, entry []byte) bool {
	for _, e := range bytes.Split(environ, []byte{0}) {
		if bytes.Equal(e, entry) {
			return true
		}
	}
	return false
}

// lockWait is how long Up and Down wait for the run dir's lock.
const lockWait = 5 * time.Second

// runDirEnv marks every child's environment with its run dir, so that Down
// can find a child whose start a kill -9 interrupted before it reached the
// state file.
const runDirEnv = "DUCKBENCH_RUN_DIR"

// sweepUnrecorded stops processes carrying this run dir's marker that the
// state file does not name (started by a duckbench killed before it could
// record them). Only process group leaders are signalled, as the driver
// makes every child one.
func (l *Local) sweepUnrecorded(ctx context.Context, known []ServiceState) []error {
	marker := []byte(runDirEnv + "=" + l.runDir)
	seen := map[int]bool{os.Getpid(): true}
	for _, s := range known {
		seen[s.Proc.PID] = true
	}
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return nil
	}
	var errs []error
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || seen[pid] {
			continue
		}
		p, err := identify(pid)
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join(procRoot, e.Name(), "environ"))
		if (err != nil || !hasEnvEntry(env, marker)) && !l.redisOfRun(pid, p) {
			continue
		}
		if st, err := readProcStat(pid); err != nil || st.pgrp != pid {
			continue
		}
		l.logf("stopping unrecorded pid %d (%s) of this run", pid, p.Exe)
		if err := l.stopProc(ctx, ServiceState{Name: "unrecorded pid " + strconv.Itoa(pid), Proc: p}); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// redisOfRun reports whether pid is a redis-server working in one of this
// run's Redis directories. redis-server overwrites its environment with its
// process title, so the run-dir marker cannot be read back from it; its
// working directory (redis.conf's dir) names the run instead.
func (l *Local) redisOfRun(pid int, p Proc) bool {
	if !isRedisServer(p.Exe) {
		return false
	}
	cwd, err := os.Readlink(filepath.Join(procRoot, strconv.Itoa(pid), "cwd"))
	if err != nil {
		return false
	}
	cwd = strings.TrimSuffix(cwd, " (deleted)")
	return strings.HasPrefix(cwd, filepath.Join(l.runDir, "redis-"))
}

// isRedisServer reports whether exe is the redis-server on PATH. Debian's
// redis-server is a link to redis-check-rdb, which /proc/<pid>/exe names.
func isRedisServer(exe string) bool {
	exe = strings.TrimSuffix(exe, " (deleted)")
	if filepath.Base(exe) == "redis-server" {
		return true
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return false
	}
	real, err := filepath.EvalSymlinks(bin)
	return err == nil && real == exe
}

// Up starts master, replicas (waiting for their link), apps (waiting for
// /healthz) and HAProxy (waiting until every server is UP), recording each
// in state.json as soon as it runs. On any failure or cancellation it stops
// what it started and removes the state file.
func (l *Local) Up(ctx context.Context) (ep Endpoints, err error) {
	t0 := time.Now()
	unlock, err := l.lock()
	if err != nil {
		return Endpoints{}, err
	}
	defer unlock()

	if old, err := ReadState(l.runDir); err == nil {
		for _, svc := range old.Services {
			if svc.Proc.Alive() {
				return Endpoints{}, fmt.Errorf("up %q: %w: %s (pid %d) from %s still runs; run duckbench down first",
					l.spec.Name, ErrAlreadyUp, svc.Name, svc.Proc.PID, statePath(l.runDir))
			}
		}
		l.logf("removing stale state of a stack that no longer runs")
		if err := removeState(l.runDir); err != nil {
			return Endpoints{}, err
		}
	} else if !errors.Is(err, ErrNotUp) {
		return Endpoints{}, fmt.Errorf("up %q: %w", l.spec.Name, err)
	}

	st, err := l.prepare()
	if err != nil {
		return Endpoints{}, fmt.Errorf("up %q: %w", l.spec.Name, err)
	}
	// st.Services is in start order; start records each as it runs.
	planned := st.Services
	st.Services = nil
	l.mu.Lock()
	l.state = st
	l.mu.Unlock()
	if err := writeState(l.runDir, st); err != nil {
		return Endpoints{}, err
	}
	defer func() {
		if err == nil {
			return
		}
		// Roll back even when ctx is cancelled (Ctrl-C): that is when it matters most.
		if ctx.Err() != nil {
			l.logf("interrupted: stopping what was started")
		} else {
			l.logf("up failed: stopping what was started")
		}
		if derr := l.down(context.WithoutCancel(ctx)); derr != nil {
			err = errors.Join(err, fmt.Errorf("roll back: %w", derr))
		}
	}()

	// Stages: master, replicas, apps, HAProxy. Within a stage every service
	// starts before the waits, so replicas sync together (Redis batches
	// replicas arriving within repl-diskless-sync-delay into one transfer).
	for _, stage := range stages(planned) {
		for _, svc := range stage {
			if err := l.start(ctx, svc); err != nil {
				return Endpoints{}, fmt.Errorf("up %q: %w", l.spec.Name, err)
			}
		}
		for _, svc := range stage {
			if err := l.waitReady(ctx, svc.Name, false); err != nil {
				return Endpoints{}, fmt.Errorf("up %q: %w", l.spec.Name, err)
			}
		}
	}
	l.mu.Lock()
	st.Complete = true
	err = writeState(l.runDir, st)
	l.mu.Unlock()
	if err != nil {
		return Endpoints{}, err
	}
	l.logf("stack %q healthy in %v", l.spec.Name, time.Since(t0).Round(time.Millisecond))
	return st.Endpoints, nil
}

// stages splits services (in start order) into runs of the same health
// kind: master, replicas, apps, HAProxy.
func stages(svcs []ServiceState) [][]ServiceState {
	var out [][]ServiceState
	for i, svc := range svcs {
		if i == 0 || svcs[i-1].Health != svc.Health || svc.Kind != svcs[i-1].Kind {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], svc)
	}
	return out
}

// prepare checks the binaries, resolves and checks the ports, renders the
// configs into the run dir and plans every service, in start order.
func (l *Local) prepare() (*State, error) {
	s := l.spec
	redisBin, err := lookBinary("redis-server", "redis-server")
	if err != nil {
		return nil, err
	}
	haproxyBin, err := lookBinary("haproxy", "haproxy")
	if err != nil {
		return nil, err
	}
	if err := l.resolvePorts(); err != nil {
		return nil, err
	}
	t := configgen.Target{Runtime: RuntimeLocal, RunDir: l.runDir}
	if n := len(t.StatsSocketPath()); n > maxSocketPath {
		return nil, fmt.Errorf("run dir %s is too long for a unix socket (%d > %d bytes): use a shorter --run-dir", l.runDir, n, maxSocketPath)
	}
	files, err := configgen.Render(s, t)
	if err != nil {
		return nil, err
	}
	if err := files.WriteDir(l.runDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(l.runDir, "logs"), 0o700); err != nil {
		return nil, fmt.Errorf("create logs dir: %w", err)
	}
	os.Remove(t.StatsSocketPath()) // a socket left by a killed HAProxy

	pwEnv := s.Redis.PasswordEnv
	pw := ""
	if pwEnv != "" {
		pw = os.Getenv(pwEnv)
		if pw == "" {
			l.logf("warning: %s is not set: Redis runs without a password", pwEnv)
			pwEnv = ""
		}
	}
	st := &State{Spec: s.Name, StartedAt: time.Now().UTC()}
	ep := Endpoints{Runtime: RuntimeLocal, Project: s.Name, RunDir: l.runDir}
	addr := func(p spec.Port) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(int(p))) }

	for _, n := range s.Redis.Nodes() {
		role, health := n.Role, healthRedisReplica
		if n.Master() {
			health = healthRedisMaster
		}
		// Every up starts from an empty data set: an RDB or AOF left by the
		// previous run would warm the caches and skew the comparison.
		if err := os.RemoveAll(t.RedisDir(n.Name)); err != nil {
			return nil, fmt.Errorf("clear redis dir: %w", err)
		}
		if err := os.MkdirAll(t.RedisDir(n.Name), 0o700); err != nil {
			return nil, fmt.Errorf("create redis dir: %w", err)
		}
		args := []string{redisBin, filepath.Join(l.runDir, configgen.RedisFile(n.Name))}
		if pw != "" {
			args = append(args, "-")
		}
		st.Services = append(st.Services, ServiceState{
			Name: n.Name, Kind: KindRedis, Role: role, Args: args, Dir: l.runDir,
			SecretStdin: pw != "", Addr: addr(n.Port), Health: health,
		})
		ep.Redis = append(ep.Redis, RedisEndpoint{Name: n.Name, Role: role, Addr: addr(n.Port)})
	}

	for _, a := range s.Apps {
		svc := ServiceState{Name: a.Name, Kind: KindApp, Dir: l.runDir, Addr: addr(a.Port)}
		for _, k := range sortedKeys(a.Env) {
			svc.Env = append(svc.Env, k+"="+a.Env[k])
		}
		switch a.Kind {
		case "", spec.AppBuiltin:
			svc.Args = []string{l.opts.AppBinary, "app", "--name", a.Name, "--listen", addr(a.Port),
				"--redis-master", addr(s.Redis.Master.Port)}
			for _, r := range s.Redis.Replicas {
				svc.Args = append(svc.Args, "--redis-replica", addr(r.Port))
			}
			if a.OriginCost != 0 {
				svc.Args = append(svc.Args, "--origin-cost", a.OriginCost.String())
			}
			if a.CacheTTL != 0 {
				svc.Args = append(svc.Args, "--cache-ttl", a.CacheTTL.String())
			}
			if a.MaxConcurrency > 0 {
				svc.Args = append(svc.Args, "--max-concurrency", strconv.Itoa(a.MaxConcurrency))
			}
			if pwEnv != "" {
				svc.Args = append(svc.Args, "--redis-password-env", pwEnv)
			}
			if _, err := os.Stat(l.opts.AppBinary); err != nil {
				return nil, fmt.Errorf("app %q: app binary: %w", a.Name, err)
			}
			svc.Health, svc.HealthPath = healthHTTP, spec.DefaultHealthPath
		case spec.AppCommand:
			if len(a.Command) == 0 {
				return nil, fmt.Errorf("app %q: kind command needs a command", a.Name)
			}
			bin, err := exec.LookPath(a.Command[0])
			if err != nil {
				return nil, fmt.Errorf("app %q: find command: %w", a.Name, err)
			}
			svc.Args = []string{bin}
			for _, arg := range a.Command[1:] {
				svc.Args = append(svc.Args, strings.ReplaceAll(arg, "{port}", strconv.Itoa(int(a.Port))))
			}
			var reps []string
			for _, r := range s.Redis.Replicas {
				reps = append(reps, addr(r.Port))
			}
			svc.Env = append(svc.Env, "DUCKBENCH_APP_NAME="+a.Name, "DUCKBENCH_APP_PORT="+strconv.Itoa(int(a.Port)),
				"DUCKBENCH_REDIS_MASTER="+addr(s.Redis.Master.Port), "DUCKBENCH_REDIS_REPLICAS="+strings.Join(reps, ","))
			svc.Health = healthTCP
		default:
			return nil, fmt.Errorf("app %q: kind %q cannot run on the local runtime", a.Name, a.Kind)
		}
		st.Services = append(st.Services, svc)
		ep.Apps = append(ep.Apps, AppEndpoint{Name: a.Name, URL: "http://" + addr(a.Port)})
	}

	st.Services = append(st.Services, ServiceState{
		Name: KindHAProxy, Kind: KindHAProxy, Dir: l.runDir,
		Args:   []string{haproxyBin, "-db", "-f", filepath.Join(l.runDir, configgen.HAProxyFile)},
		Addr:   addr(s.HAProxy.Port),
		Health: healthHAProxy,
	})
	ep.HAProxy = HAProxyEndpoint{URL: "http://" + addr(s.HAProxy.Port), Stats: t.StatsSocketPath()}
	if !s.HAProxy.Prometheus.Disabled {
		ep.HAProxy.Prometheus = "http://" + addr(s.HAProxy.Prometheus.Port) + "/metrics"
	}
	for i := range st.Services {
		st.Services[i].Log = filepath.Join(l.runDir, "logs", st.Services[i].Name+".log")
	}
	st.Endpoints = ep
	return st, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func lookBinary(name, pkg string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("find %s: %w (is %s installed? apt-get install %s)", name, ErrMissingBinary, name, pkg)
	}
	return p, nil
}

// listenerOwner names the service behind a spec port field, for messages.
func listenerOwner(s *spec.Spec, path string) string {
	switch {
	case strings.HasPrefix(path, "redis.master."):
		return s.Redis.Master.Name
	case strings.HasPrefix(path, "redis.replicas["):
		var i int
		if _, err := fmt.Sscanf(path, "redis.replicas[%d]", &i); err == nil && i < len(s.Redis.Replicas) {
			return s.Redis.Replicas[i].Name
		}
	case strings.HasPrefix(path, "apps["):
		var i int
		if _, err := fmt.Sscanf(path, "apps[%d]", &i); err == nil && i < len(s.Apps) {
			return s.Apps[i].Name
		}
	case strings.HasPrefix(path, "haproxy."):
		return "haproxy"
	}
	return path
}

// resolvePorts checks that every fixed port is free (before anything starts)
// and replaces every "auto" (or unset) port with a free one. The listeners
// that found the auto ports stay open until all are picked, so no two picks
// collide.
func (l *Local) resolvePorts() error {
	s := l.spec
	var held []net.Listener
	defer func() {
		for _, ln := range held {
			ln.Close()
		}
	}()
	for _, li := range s.Listeners() {
		if li.Path == "haproxy.stats_socket.port" {
			continue // a unix socket locally
		}
		owner := listenerOwner(s, li.Path)
		if li.Port.IsAuto() || *li.Port == 0 {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return fmt.Errorf("pick a free port for %s (%s): %w", owner, li.Path, err)
			}
			held = append(held, ln)
			*li.Port = spec.Port(ln.Addr().(*net.TCPAddr).Port)
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(*li.Port))))
		if err != nil {
			return fmt.Errorf("port %d of %s (%s): %w: %v", int(*li.Port), owner, li.Path, ErrPortInUse, err)
		}
		ln.Close()
	}
	return nil
}

// start launches svc, records it (in memory and in state.json) and returns
// once the process runs; readiness is waitReady's job.
func (l *Local) start(ctx context.Context, svc ServiceState) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("start %s: %w", svc.Name, err)
	}
	logf, err := os.OpenFile(svc.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("start %s: open log: %w", svc.Name, err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "--- duckbench: starting %s at %s: %s\n", svc.Name, time.Now().UTC().Format(time.RFC3339), strings.Join(svc.Args, " "))
	cmd := exec.Command(svc.Args[0], svc.Args[1:]...)
	cmd.Dir = svc.Dir
	cmd.Env = append(append(os.Environ(), svc.Env...), runDirEnv+"="+l.runDir)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if svc.SecretStdin {
		pw := os.Getenv(l.spec.Redis.PasswordEnv)
		if pw == "" {
			return fmt.Errorf("start %s: %s is not set: the password is needed to start this node", svc.Name, l.spec.Redis.PasswordEnv)
		}
		cmd.Stdin = bytes.NewReader(configgen.RedisSecretConfig(l.spec, pw))
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", svc.Name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	proc, err := identify(cmd.Process.Pid)
	if err != nil {
		// Exited at once (it is a zombie or reaped already): still record the
		// pid so that the error path and the log say what happened.
		proc = Proc{PID: cmd.Process.Pid}
	}
	svc.Proc = proc

	l.mu.Lock()
	defer l.mu.Unlock()
	l.children[proc.PID] = done
	replaced := false
	for i := range l.state.Services {
		if l.state.Services[i].Name == svc.Name {
			l.state.Services[i] = svc
			replaced = true
		}
	}
	if !replaced {
		l.state.Services = append(l.state.Services, svc)
	}
	if err := writeState(l.runDir, l.state); err != nil {
		return fmt.Errorf("start %s: %w", svc.Name, err)
	}
	l.logf("started %s (pid %d) on %s", svc.Name, proc.PID, svc.Addr)
	return nil
}

func (l *Local) service(name string) (ServiceState, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state != nil {
		for _, s := range l.state.Services {
			if s.Name == name {
				return s, true
			}
		}
	}
	return ServiceState{}, false
}

// waitReady polls svc's health until it passes, the process exits (error
// with the log's last lines), the ReadyTimeout passes or ctx is done. quick
// accepts a replica that answers PING and HAProxy that answers its socket
// (a restart during a fault: the rest of the stack may be down on purpose).
func (l *Local) waitReady(ctx context.Context, name string, quick bool) error {
	svc, ok := l.service(name)
	if !ok {
		return fmt.Errorf("wait for %s: unknown service", name)
	}
	t0 := time.Now()
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, l.opts.ReadyTimeout)
	defer cancel()
	l.mu.Lock()
	done := l.children[svc.Proc.PID]
	l.mu.Unlock()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var last error
	for {
		if done != nil {
			select {
			case <-done:
				return fmt.Errorf("start %s: exited during start-up; %s:\n%s", name, svc.Log, logTail(svc.Log, 10))
			default:
			}
		}
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		last = l.health(pctx, svc, quick)
		pcancel()
		if last == nil {
			l.logf("%s ready in %v", name, time.Since(t0).Round(time.Millisecond))
			return nil
		}
		select {
		case <-ctx.Done():
			if err := parent.Err(); err != nil {
				return fmt.Errorf("wait for %s: %w", name, err)
			}
			return fmt.Errorf("wait for %s: not healthy after %v: %w", name, l.opts.ReadyTimeout, last)
		case <-tick.C:
		}
	}
}

// health checks one service once.
func (l *Local) health(ctx context.Context, svc ServiceState, quick bool) error {
	pw := ""
	if svc.Kind == KindRedis || svc.Kind == KindApp {
		if env := l.spec.Redis.PasswordEnv; env != "" {
			pw = os.Getenv(env)
		}
	}
	switch svc.Health {
	case healthRedisMaster:
		_, err := redisDo(ctx, svc.Addr, pw, "PING")
		return err
	case healthRedisReplica:
		if quick {
			_, err := redisDo(ctx, svc.Addr, pw, "PING")
			return err
		}
		info, err := redisDo(ctx, svc.Addr, pw, "INFO", "replication")
		if err != nil {
			return err
		}
		if v := infoField(info, "master_link_status"); v != "up" {
			return fmt.Errorf("master_link_status:%s", v)
		}
		return nil
	case healthHTTP:
		return httpOK(ctx, "http://"+svc.Addr+svc.HealthPath)
	case healthTCP:
		return tcpOK(ctx, svc.Addr)
	case healthHAProxy:
		l.mu.Lock()
		sock := ""
		if l.state != nil {
			sock = l.state.Endpoints.HAProxy.Stats
		}
		l.mu.Unlock()
		if sock == "" {
			sock = configgen.Target{RunDir: l.runDir}.StatsSocketPath()
		}
		out, err := haproxyCmd(ctx, sock, "show stat")
		if err != nil {
			return err
		}
		if quick {
			return nil
		}
		servers, err := parseShowStat(out)
		if err != nil {
			return err
		}
		var down []string
		for _, s := range servers {
			if !s.up() {
				down = append(down, fmt.Sprintf("%s/%s %s %s", s.Backend, s.Server, s.Status, s.CheckStatus))
			}
		}
		if len(down) > 0 {
			return fmt.Errorf("servers not up: %s", strings.Join(down, ", "))
		}
		return nil
	}
	return fmt.Errorf("unknown health check %q", svc.Health)
}

// logTail returns the last n lines of a log file.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}

// Down stops every process recorded in state.json, in reverse start order,
// and only those still matching their recorded identity; then removes the
// state file. Without a state file there is nothing to do.
func (l *Local) Down(ctx context.Context) error {
	unlock, err := l.lock()
	if err != nil {
		return err
	}
	defer unlock()
	return l.down(ctx)
}

func (l *Local) down(ctx context.Context) error {
	st, err := ReadState(l.runDir)
	if errors.Is(err, ErrNotUp) {
		// A duckbench killed before its first state write can still have
		// left a child behind: sweep for the run's marker anyway.
		if errs := l.sweepUnrecorded(ctx, nil); len(errs) > 0 {
			return fmt.Errorf("down %q: %w", l.spec.Name, errors.Join(errs...))
		}
		l.logf("nothing to stop: no state in %s", l.runDir)
		return nil
	}
	if err != nil {
		return fmt.Errorf("down %q: %w", l.spec.Name, err)
	}
	var errs []error
	for i := len(st.Services) - 1; i >= 0; i-- {
		svc := st.Services[i]
		if err := l.stopProc(ctx, svc); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, l.sweepUnrecorded(ctx, st.Services)...)
	if len(errs) > 0 {
		// Keep the state file: a second down can retry what is left.
		return fmt.Errorf("down %q: %w", l.spec.Name, errors.Join(errs...))
	}
	os.Remove(st.Endpoints.HAProxy.Stats)
	l.mu.Lock()
	l.state = nil
	l.mu.Unlock()
	return removeState(l.runDir)
}

// stopProc stops one recorded process: SIGTERM to its group (SIGCONT too, in
// case it was stopped), SIGKILL after StopTimeout. A PID that is now another
// program is left alone.
func (l *Local) stopProc(ctx context.Context, svc ServiceState) error {
	p := svc.Proc
	live, st := p.check()
	if live == gone {
		if p.PID > 0 {
			l.logf("%s (pid %d) is not running", svc.Name, p.PID)
		}
		return nil
	}
	group := st.pgrp == p.PID
	l.mu.Lock()
	done := l.children[p.PID]
	l.mu.Unlock()
	if _, err := p.signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop %s: %w", svc.Name, err)
	}
	p.signal(syscall.SIGCONT)
	if l.waitGone(ctx, p, done, l.opts.StopTimeout) {
		l.reapGroup(p.PID, group)
		l.logf("stopped %s (pid %d)", svc.Name, p.PID)
		return nil
	}
	l.logf("%s (pid %d) ignored SIGTERM for %v: SIGKILL", svc.Name, p.PID, l.opts.StopTimeout)
	if _, err := p.signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("stop %s: %w", svc.Name, err)
	}
	if !l.waitGone(context.WithoutCancel(ctx), p, done, 5*time.Second) {
		return fmt.Errorf("stop %s: pid %d survived SIGKILL", svc.Name, p.PID)
	}
	l.reapGroup(p.PID, group)
	return nil
}

// reapGroup kills what is left of a service's process group once its leader
// is gone (e.g. a Redis BGSAVE child). The group id cannot be reused while a
// member lives, so this reaches only the service's own processes.
func (l *Local) reapGroup(pid int, group bool) {
	if group {
		syscall.Kill(-pid, syscall.SIGKILL)
	}
}

// waitGone waits until p is gone, at most d. An abort (ctx done) shortens
// the wait to the SIGKILL step, never skips it.
func (l *Local) waitGone(ctx context.Context, p Proc, done chan struct{}, d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if !p.Alive() {
			if done != nil {
				select { // reaped by our Wait goroutine: give it a moment
				case <-done:
				case <-time.After(time.Second):
				}
			}
			return true
		}
		select {
		case <-done:
			return true
		case <-deadline.C:
			return false
		case <-ctx.Done():
			return !p.Alive()
		case <-tick.C:
		}
	}
}

// Status reads state.json and checks each recorded process and its health.
func (l *Local) Status(ctx context.Context) (Status, error) {
	st, err := ReadState(l.runDir)
	if err != nil {
		return Status{}, fmt.Errorf("status %q: %w", l.spec.Name, err)
	}
	l.mu.Lock()
	if l.state == nil {
		l.state = st
	}
	l.mu.Unlock()
	out := Status{Endpoints: st.Endpoints, StartedAt: st.StartedAt}
	for _, svc := range st.Services {
		ss := ServiceStatus{Name: svc.Name, Kind: svc.Kind, PID: svc.Proc.PID}
		live, _ := svc.Proc.check()
		ss.Running = live != gone
		if live == running {
			hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			ss.Healthy = l.health(hctx, svc, false) == nil
			cancel()
		}
		out.Services = append(out.Services, ss)
	}
	return out, nil
}

// Fault applies kill (SIGKILL), stop (SIGSTOP), cont (SIGCONT) or restart
// (stop, then launch again with the same arguments and wait until it
// answers) to one service, by its spec name (a Redis node, an app, haproxy).
func (l *Local) Fault(ctx context.Context, service string, action spec.FaultAction) error {
	l.mu.Lock()
	if l.state == nil {
		st, err := ReadState(l.runDir)
		if err != nil {
			l.mu.Unlock()
			return fmt.Errorf("fault %s %s: %w", action, service, err)
		}
		l.state = st
	}
	l.mu.Unlock()
	svc, ok := l.service(service)
	if !ok {
		return fmt.Errorf("fault %s %q: no such service (have %s)", action, service, strings.Join(l.serviceNames(), ", "))
	}
	var sig syscall.Signal
	switch action {
	case spec.FaultKill:
		sig = syscall.SIGKILL
	case spec.FaultStop:
		sig = syscall.SIGSTOP
	case spec.FaultCont:
		sig = syscall.SIGCONT
	case spec.FaultRestart:
		if err := l.stopProc(ctx, svc); err != nil {
			return fmt.Errorf("fault restart %s: %w", service, err)
		}
		if err := l.start(ctx, svc); err != nil {
			return fmt.Errorf("fault restart %s: %w", service, err)
		}
		if err := l.waitReady(ctx, service, true); err != nil {
			return fmt.Errorf("fault restart %s: %w", service, err)
		}
		return nil
	default:
		return fmt.Errorf("fault %q: unknown action (want kill, stop, cont or restart)", action)
	}
	ok, err := svc.Proc.signal(sig)
	if err != nil {
		return fmt.Errorf("fault %s %s: %w", action, service, err)
	}
	if !ok {
		return fmt.Errorf("fault %s %s: pid %d is not running", action, service, svc.Proc.PID)
	}
	l.logf("fault: %s %s (pid %d)", action, service, svc.Proc.PID)
	return nil
}

func (l *Local) serviceNames() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var names []string
	if l.state != nil {
		for _, s := range l.state.Services {
			names = append(names, s.Name)
		}
	}
	return names
}

// Logs copies one service's log file to w; with service "", every log in
// the run dir, each under a "==> name <==" header.
func (l *Local) Logs(ctx context.Context, service string, w LogWriter) error {
	dir := filepath.Join(l.runDir, "logs")
	if service != "" {
		return copyFile(filepath.Join(dir, service+".log"), w, service)
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("logs: no logs in %s: %w", l.runDir, ErrNotUp)
	}
	if err != nil {
		return fmt.Errorf("logs: %w", err)
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".log")
		if !ok || e.IsDir() {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		fmt.Fprintf(w, "==> %s <==\n", name)
		if err := copyFile(filepath.Join(dir, e.Name()), w, name); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(path string, w io.Writer, service string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("logs %q: no log file %s", service, path)
	}
	if err != nil {
		return fmt.Errorf("logs %q: %w", service, err)
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("logs %q: %w", service, err)
	}
	return nil
}
