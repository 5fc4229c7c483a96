package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

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
	c, err := s.Clone()
	if err != nil {
		return nil, fmt.Errorf("new local driver: %w", err)
	}
	return &Local{spec: c, opts: opts, runDir: dir, children: map[int]chan struct{}{}}, nil
}

// RunDir returns the absolute run directory.
func (l *Local) RunDir() string { return l.runDir }

func (l *Local) logf(format string, args ...any) {
	fmt.Fprintf(l.opts.Log, format+"\n", args...)
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

// Status reads state.json and checks each recorded process and its health.
func (l *Local) Status(ctx context.Context) (Status, error) {
	st, err := ReadState(l.runDir)
	if err != nil {
		return Status{}, fmt.Errorf("status %q: %w", l.spec.Name, err)
	}
	// The state on disk is the truth: another duckbench may have restarted
	// a service (a fault) since this driver last looked.
	l.mu.Lock()
	l.state = st
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
	// Read the state afresh: another duckbench may have restarted a
	// service since, and a restart here must record over the current state.
	st, err := ReadState(l.runDir)
	if err != nil {
		return fmt.Errorf("fault %s %s: %w", action, service, err)
	}
	l.mu.Lock()
	l.state = st
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
	ok, err = svc.Proc.signal(sig)
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
