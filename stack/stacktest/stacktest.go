// Package stacktest is the conformance suite of the stack.Driver contract.
// Every driver's integration test runs it (Run) against the real runtime,
// so that all drivers do the same things and fail the same ways: up,
// status from another process, every endpoint reachable on 127.0.0.1,
// fault actions, logs, an interrupted up that rolls back, a down that
// leaves nothing, and the sentinel errors.
//
// It is imported by tests only; nothing of it is linked into duckbench.
package stacktest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/duckbench/duckbench/probes/haproxyprobe"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

// Harness is what the suite needs of one runtime.
type Harness struct {
	// Spec returns a fresh spec of the seed layout for one stack of the
	// suite: a master and two replicas, two builtin apps behind one
	// round-robin backend, every port "auto", a name of its own (derived
	// from name, which is unique within a run of the suite).
	Spec func(t *testing.T, name string) *spec.Spec
	// RunDir returns a fresh run directory (removed by the test).
	RunDir func(t *testing.T) string
	// New returns the driver of s in runDir. The suite calls it again for
	// the same stack to act as another duckbench process would.
	New func(t *testing.T, s *spec.Spec, runDir string) stack.Driver
	// Leftovers lists what of the stack of s in runDir still exists
	// (processes, containers, networks, volumes): the suite wants none
	// after Down and after a rolled-back Up.
	Leftovers func(t *testing.T, s *spec.Spec, runDir string) []string
	// UpTimeout bounds one Up (and the whole suite at 4x).
	UpTimeout time.Duration
	// Password is the Redis password the runtime starts the stack with
	// (the harness sets the variable its Spec names). Required: the suite
	// checks that it reaches no file of the run directory.
	Password string
}

// Run runs the conformance suite against h's runtime. The subtests run in
// order on one stack, then on fresh stacks for the failure paths.
func Run(t *testing.T, h Harness) {
	if h.Password == "" {
		t.Fatal("stacktest.Harness.Password is empty: the suite needs a password to check that none reaches the disk")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*h.UpTimeout+2*time.Minute)
	defer cancel()

	t.Run("not up", func(t *testing.T) { testNotUp(ctx, t, h) })

	s, dir := h.Spec(t, "main"), h.RunDir(t)
	d := h.New(t, s, dir)
	t.Cleanup(func() { _ = d.Down(context.WithoutCancel(ctx)) })
	upCtx, upCancel := context.WithTimeout(ctx, h.UpTimeout)
	ep, err := d.Up(upCtx)
	upCancel()
	if err != nil {
		t.Fatalf("Up() = %v", err)
	}

	t.Run("endpoints", func(t *testing.T) { testEndpoints(t, s, ep) })
	t.Run("already up", func(t *testing.T) { testAlreadyUp(ctx, t, h, s, dir) })
	t.Run("status", func(t *testing.T) { testStatus(ctx, t, h.New(t, s, dir), ep) })
	t.Run("reachable", func(t *testing.T) { testReachable(ctx, t, ep, h.Password) })
	t.Run("logs", func(t *testing.T) { testLogs(ctx, t, h.New(t, s, dir)) })
	t.Run("no secret on disk", func(t *testing.T) { testNoSecret(t, dir, h.Password) })
	t.Run("faults", func(t *testing.T) { testFaults(ctx, t, d, h.New(t, s, dir)) })
	t.Run("down leaves nothing", func(t *testing.T) {
		// Down from another driver value: it works from the kept state.
		if err := h.New(t, s, dir).Down(ctx); err != nil {
			t.Fatalf("Down() = %v", err)
		}
		if left := h.Leftovers(t, s, dir); len(left) > 0 {
			t.Errorf("after Down: %s still exist; want nothing", strings.Join(left, ", "))
		}
		if _, err := d.Status(ctx); !errors.Is(err, stack.ErrNotUp) {
			t.Errorf("Status() after Down = %v; want ErrNotUp", err)
		}
		if err := d.Down(ctx); err != nil {
			t.Errorf("second Down() = %v; want nil (nothing to do)", err)
		}
	})
	t.Run("interrupted up rolls back", func(t *testing.T) { testInterruptedUp(ctx, t, h) })
	t.Run("port in use", func(t *testing.T) { testPortInUse(ctx, t, h) })
	t.Run("missing program", func(t *testing.T) { testMissingProgram(ctx, t, h) })
}

// testNotUp: a stack never started is not up, and Down has nothing to do.
func testNotUp(ctx context.Context, t *testing.T, h Harness) {
	s := h.Spec(t, "never")
	d := h.New(t, s, h.RunDir(t))
	if _, err := d.Status(ctx); !errors.Is(err, stack.ErrNotUp) {
		t.Errorf("Status() = %v; want ErrNotUp", err)
	}
	if err := d.Fault(ctx, s.Apps[0].Name, spec.FaultKill); !errors.Is(err, stack.ErrNotUp) {
		t.Errorf("Fault() = %v; want ErrNotUp", err)
	}
	if err := d.Logs(ctx, "", io.Discard); !errors.Is(err, stack.ErrNotUp) {
		t.Errorf("Logs() = %v; want ErrNotUp", err)
	}
	if err := d.Down(ctx); err != nil {
		t.Errorf("Down() = %v; want nil", err)
	}
}

// testEndpoints: what Up hands out names every service, on 127.0.0.1.
func testEndpoints(t *testing.T, s *spec.Spec, ep stack.Endpoints) {
	nodes := s.Redis.Nodes()
	if len(ep.Redis) != len(nodes) || len(ep.Apps) != len(s.Apps) {
		t.Fatalf("Up() endpoints: %d redis, %d apps; want %d and %d", len(ep.Redis), len(ep.Apps), len(nodes), len(s.Apps))
	}
	for i, n := range nodes {
		if r := ep.Redis[i]; r.Name != n.Name || r.Role != n.Role {
			t.Errorf("Up() redis[%d] = %s (%s); want %s (%s), master first", i, r.Name, r.Role, n.Name, n.Role)
		}
	}
	addrs := []string{ep.HAProxy.URL, ep.HAProxy.Prometheus}
	for _, r := range ep.Redis {
		addrs = append(addrs, r.Addr)
	}
	for _, a := range ep.Apps {
		addrs = append(addrs, a.URL)
	}
	for _, a := range addrs {
		if !strings.Contains(a, "127.0.0.1:") {
			t.Errorf("endpoint %q is not on 127.0.0.1", a)
		}
	}
	if ep.HAProxy.Stats == "" || ep.Project == "" || ep.RunDir == "" || ep.Runtime == "" {
		t.Errorf("Up() endpoints = %+v; want runtime, project, run dir and the Runtime API", ep)
	}
}

// testAlreadyUp: a second Up of a running stack fails with ErrAlreadyUp
// and leaves the running stack alone.
func testAlreadyUp(ctx context.Context, t *testing.T, h Harness, s *spec.Spec, dir string) {
	_, err := h.New(t, s, dir).Up(ctx)
	if !errors.Is(err, stack.ErrAlreadyUp) {
		t.Fatalf("second Up() = %v; want ErrAlreadyUp", err)
	}
	st, err := h.New(t, s, dir).Status(ctx)
	if err != nil {
		t.Fatalf("Status() after the refused Up = %v", err)
	}
	for _, svc := range st.Services {
		if !svc.Running {
			t.Errorf("after the refused Up, %s is not running", svc.Name)
		}
	}
}

// testStatus: another driver value (another process) reads the stack.
func testStatus(ctx context.Context, t *testing.T, d stack.Driver, ep stack.Endpoints) {
	st, err := d.Status(ctx)
	if err != nil {
		t.Fatalf("Status() = %v", err)
	}
	if st.HAProxy != ep.HAProxy || len(st.Redis) != len(ep.Redis) || st.Runtime != ep.Runtime {
		t.Errorf("Status() endpoints = %+v; want Up's %+v", st.Endpoints, ep)
	}
	if want := len(ep.Redis) + len(ep.Apps) + 1; len(st.Services) != want {
		t.Errorf("Status(): %d services; want %d", len(st.Services), want)
	}
	if st.StartedAt.IsZero() {
		t.Errorf("Status().StartedAt is zero")
	}
	for _, svc := range st.Services {
		if !svc.Running || !svc.Healthy {
			t.Errorf("Status(): %s (%s) running=%v healthy=%v; want both", svc.Name, svc.Kind, svc.Running, svc.Healthy)
		}
	}
}

// testReachable: every endpoint answers from the host as its protocol
// says, and the stack is wired: a write on the master reaches every
// replica, HAProxy alternates between the apps, and its Runtime API lists
// every server ready.
func testReachable(ctx context.Context, t *testing.T, ep stack.Endpoints, pw string) {
	master, _ := ep.Master()
	m := redisClient(master.Addr, pw)
	defer m.Close()
	if err := m.Set(ctx, "stacktest:key", "quack", 0).Err(); err != nil {
		t.Fatalf("SET on master %s: %v", master.Addr, err)
	}
	for _, r := range ep.Replicas() {
		c := redisClient(r.Addr, pw)
		var got string
		var err error
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if got, err = c.Get(ctx, "stacktest:key").Result(); got == "quack" {
				break
			}
		}
		c.Close()
		if got != "quack" {
			t.Errorf("GET on replica %s (%s) = %q, %v; want %q", r.Name, r.Addr, got, err, "quack")
		}
	}
	for _, a := range ep.Apps {
		if err := httpGet(ctx, a.URL+spec.DefaultHealthPath, nil); err != nil {
			t.Errorf("app %s: %v", a.Name, err)
		}
	}
	served := map[string]int{}
	var seq []string
	for range 10 {
		var hdr http.Header
		if err := httpGet(ctx, ep.HAProxy.URL+"/", &hdr); err != nil {
			t.Fatalf("through HAProxy: %v", err)
		}
		seq = append(seq, hdr.Get("X-Served-By"))
		served[hdr.Get("X-Served-By")]++
	}
	for i := 1; i < len(seq); i++ {
		if seq[i] == seq[i-1] || seq[i] == "" {
			t.Errorf("X-Served-By through HAProxy = %v; want round-robin alternation", seq)
			break
		}
	}
	for _, a := range ep.Apps {
		if served[a.Name] == 0 {
			t.Errorf("X-Served-By through HAProxy = %v; want every app, %s too", seq, a.Name)
		}
	}
	rows, err := haproxyprobe.NewClient(ep.HAProxy.Stats).ShowStat(ctx)
	if err != nil {
		t.Fatalf("Runtime API %s: show stat: %v", ep.HAProxy.Stats, err)
	}
	ready := 0
	for _, r := range rows {
		if r.Type == haproxyprobe.TypeServer && r.Ready() {
			ready++
		}
	}
	if ready != len(ep.Apps) {
		t.Errorf("Runtime API show stat: %d servers ready; want %d", ready, len(ep.Apps))
	}
	if ep.HAProxy.Prometheus != "" {
		if err := httpGet(ctx, ep.HAProxy.Prometheus, nil); err != nil {
			t.Errorf("HAProxy's exporter: %v", err)
		}
	}
}

// testLogs: every service logs, one service's log is its own.
func testLogs(ctx context.Context, t *testing.T, d stack.Driver) {
	var one bytes.Buffer
	if err := d.Logs(ctx, "redis-master", &one); err != nil || !strings.Contains(one.String(), "Ready to accept connections") {
		t.Errorf("Logs(redis-master) = %v; got %q, want redis-server's start-up lines", err, tail(one.String()))
	}
	var all bytes.Buffer
	if err := d.Logs(ctx, "", &all); err != nil || !strings.Contains(all.String(), "Ready to accept connections") || !strings.Contains(all.String(), "app1") {
		t.Errorf("Logs(\"\") = %v; got %q, want every service's log", err, tail(all.String()))
	}
	if err := d.Logs(ctx, "no-such-service", io.Discard); err == nil {
		t.Errorf("Logs(no-such-service) = nil; want an error")
	}
}

// testNoSecret: no file of the run directory (configs, state, logs, data)
// holds the Redis password.
func testNoSecret(t *testing.T, dir, pw string) {
	n := 0
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return nil // a socket, or a file gone since the listing
		}
		n++
		if b, err := os.ReadFile(path); err == nil && bytes.Contains(b, []byte(pw)) {
			t.Errorf("%s holds the Redis password", path)
		}
		return nil
	})
	if err != nil || n == 0 {
		t.Errorf("walk %s: %d files, %v; want the run directory's files", dir, n, err)
	}
}

// testFaults: stop/cont and kill/restart act on the named service only,
// as Status sees it; unknown services and actions are errors.
func testFaults(ctx context.Context, t *testing.T, d, other stack.Driver) {
	fault := func(svc string, a spec.FaultAction) {
		t.Helper()
		if err := d.Fault(ctx, svc, a); err != nil {
			t.Fatalf("Fault(%s, %s) = %v", svc, a, err)
		}
	}
	fault("redis-replica-1", spec.FaultStop)
	if svc := service(ctx, t, other, "redis-replica-1"); svc.Healthy {
		t.Errorf("after stop: redis-replica-1 healthy; want not")
	}
	fault("redis-replica-1", spec.FaultCont)
	waitService(ctx, t, other, "redis-replica-1", true)

	fault("app2", spec.FaultKill)
	if svc := service(ctx, t, other, "app2"); svc.Running {
		t.Errorf("after kill: app2 running; want not")
	}
	if svc := service(ctx, t, other, "app1"); !svc.Running {
		t.Errorf("after kill of app2: app1 not running; want it untouched")
	}
	fault("app2", spec.FaultRestart)
	waitService(ctx, t, other, "app2", true)
	// The other driver value (another process) can apply faults too.
	if err := other.Fault(ctx, "redis-replica-2", spec.FaultRestart); err != nil {
		t.Errorf("Fault(redis-replica-2, restart) from another driver = %v", err)
	}
	waitService(ctx, t, other, "redis-replica-2", true)

	if err := d.Fault(ctx, "no-such-service", spec.FaultKill); err == nil {
		t.Errorf("Fault(no-such-service, kill) = nil; want an error")
	}
	if err := d.Fault(ctx, "app1", spec.FaultAction("explode")); err == nil {
		t.Errorf("Fault(app1, explode) = nil; want an error")
	}
}

func service(ctx context.Context, t *testing.T, d stack.Driver, name string) stack.ServiceStatus {
	t.Helper()
	st, err := d.Status(ctx)
	if err != nil {
		t.Fatalf("Status() = %v", err)
	}
	for _, svc := range st.Services {
		if svc.Name == name {
			return svc
		}
	}
	t.Fatalf("Status() has no service %q", name)
	return stack.ServiceStatus{}
}

// waitService waits (at most 60s) until name is running and, with healthy,
// healthy: a restarted container or replica takes a moment to sync.
func waitService(ctx context.Context, t *testing.T, d stack.Driver, name string, healthy bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		svc := service(ctx, t, d, name)
		if svc.Running && (svc.Healthy || !healthy) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: running=%v healthy=%v after 60s; want running and healthy", name, svc.Running, svc.Healthy)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// testInterruptedUp cancels Up once the stack is partly started (its state
// lists a running service) and wants everything rolled back. Up returning
// nil after that cancel is a driver that ignores cancellation: a failure,
// as is a Status that never shows a partly started stack (then there was
// nothing to interrupt and the case would prove nothing).
func testInterruptedUp(ctx context.Context, t *testing.T, h Harness) {
	s, dir := h.Spec(t, "cancel"), h.RunDir(t)
	d := h.New(t, s, dir)
	t.Cleanup(func() { _ = d.Down(context.WithoutCancel(ctx)) })
	upCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	watcher := h.New(t, s, dir)
	var seen string // the running service the watcher cancelled on
	started := make(chan struct{})
	go func() {
		defer close(started)
		for upCtx.Err() == nil {
			if st, err := watcher.Status(upCtx); err == nil {
				if name := firstRunning(st); name != "" {
					seen = name
					cancel()
					return
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	_, err := d.Up(upCtx)
	cancel()
	<-started
	if err == nil {
		if seen != "" {
			t.Errorf("Up() = nil after the suite cancelled it (%s was running, the stack not yet up); want an error wrapping context.Canceled", seen)
		} else {
			t.Errorf("Up() finished before Status (from another driver value) showed any service running; want Status to list each service as it starts, so an interrupted Up can be seen")
		}
		return
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("interrupted Up() = %v; want an error wrapping context.Canceled", err)
	}
	if left := h.Leftovers(t, s, dir); len(left) > 0 {
		t.Errorf("after an interrupted Up: %s still exist; want nothing", strings.Join(left, ", "))
	}
	if _, err := d.Status(ctx); !errors.Is(err, stack.ErrNotUp) {
		t.Errorf("Status() after an interrupted Up = %v; want ErrNotUp", err)
	}
}

// firstRunning is the name of the first running service of st, or "".
func firstRunning(st stack.Status) string {
	for _, svc := range st.Services {
		if svc.Running {
			return svc.Name
		}
	}
	return ""
}

// testPortInUse: a spec port taken by another program fails Up with
// ErrPortInUse before anything starts.
func testPortInUse(ctx context.Context, t *testing.T, h Harness) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	s, dir := h.Spec(t, "busy"), h.RunDir(t)
	s.HAProxy.Port = spec.Port(busy.Addr().(*net.TCPAddr).Port)
	d := h.New(t, s, dir)
	t.Cleanup(func() { _ = d.Down(context.WithoutCancel(ctx)) })
	if _, err := d.Up(ctx); !errors.Is(err, stack.ErrPortInUse) {
		t.Fatalf("Up() with haproxy.port taken = %v; want ErrPortInUse", err)
	}
	if left := h.Leftovers(t, s, dir); len(left) > 0 {
		t.Errorf("after a refused Up: %s exist; want nothing", strings.Join(left, ", "))
	}
}

// testMissingProgram: without the runtime's programs on PATH, Up fails
// with ErrMissingProgram and an install hint.
func testMissingProgram(ctx context.Context, t *testing.T, h Harness) {
	s, dir := h.Spec(t, "nopath"), h.RunDir(t)
	d := h.New(t, s, dir)
	t.Setenv("PATH", t.TempDir())
	_, err := d.Up(ctx)
	if !errors.Is(err, stack.ErrMissingProgram) || !strings.Contains(err.Error(), "apt-get install") {
		t.Errorf("Up() without PATH = %v; want ErrMissingProgram with an install hint", err)
	}
}

// redisClient is a client of one node (RESP2: plain replies, as the
// probes use).
func redisClient(addr, pw string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: addr, Password: pw, Protocol: 2, MaxRetries: -1})
}

// httpGet wants 200 from url; hdr (if not nil) receives the headers.
func httpGet(ctx context.Context, url string, hdr *http.Header) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, res.Status)
	}
	if hdr != nil {
		*hdr = res.Header
	}
	return nil
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, "\n")
}
