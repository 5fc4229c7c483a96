//go:build integration

package stack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/spec"
)

// duckbenchBin is the duckbench binary built by TestMain: the apps run as
// `duckbench app`, and the crash test runs `duckbench up` in a child.
var duckbenchBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "duckbench-stack-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	duckbenchBin = filepath.Join(dir, "duckbench")
	out, err := exec.Command("go", "build", "-o", duckbenchBin, "github.com/duckbench/duckbench/cmd/duckbench").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build duckbench: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(3)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func requireBinaries(t *testing.T) {
	t.Helper()
	for _, b := range []string{"redis-server", "haproxy"} {
		testenv.RequireBinary(t, b, "")
	}
}

func loadSeed(t *testing.T) *spec.Spec {
	t.Helper()
	s, err := spec.Load(filepath.Join("testdata", "local-seed.yaml"))
	if err != nil {
		t.Fatalf("load spec: %v", err)
	}
	return s
}

// runDir is short: the Runtime API socket path must fit in 107 bytes.
func runDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "dbst-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func newLocal(t *testing.T, s *spec.Spec, dir string) *Local {
	t.Helper()
	l, err := NewLocal(s, LocalOptions{RunDir: dir, AppBinary: duckbenchBin, Log: testLog{t}, StopTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) { w.t.Logf("%s", p); return len(p), nil }

// pidsOf returns the PIDs recorded in dir's state file.
func recorded(t *testing.T, dir string) []Proc {
	t.Helper()
	st, err := ReadState(dir)
	if err != nil {
		t.Fatalf("ReadState: %v", err)
	}
	var ps []Proc
	for _, s := range st.Services {
		ps = append(ps, s.Proc)
	}
	return ps
}

// assertGone fails for every process still alive (zombies count as gone:
// init reaps the orphans of a killed duckbench in its own time).
func assertGone(t *testing.T, procs []Proc) {
	t.Helper()
	for _, p := range procs {
		if p.Alive() {
			t.Errorf("pid %d (%s) still runs after Down", p.PID, p.Exe)
		}
		if st, err := readProcStat(p.PID); err == nil && st.startTicks == p.StartTicks && st.state != 'Z' && st.state != 'X' {
			t.Errorf("pid %d still in /proc in state %c", p.PID, st.state)
		}
	}
}

func TestLocalUpDown(t *testing.T) {
	requireBinaries(t)
	dir := runDir(t)
	l := newLocal(t, loadSeed(t), dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ep, err := l.Up(ctx)
	if err != nil {
		t.Fatalf("Up = %v", err)
	}
	procs := recorded(t, dir)
	t.Cleanup(func() { l.Down(context.Background()) })

	t.Run("endpoints", func(t *testing.T) {
		if ep.Runtime != RuntimeLocal || len(ep.Redis) != 3 || len(ep.Apps) != 2 || ep.HAProxy.Stats == "" {
			t.Fatalf("Up endpoints = %+v; want local, 3 redis, 2 apps, a stats socket", ep)
		}
		for _, a := range append([]string{ep.HAProxy.URL, ep.HAProxy.Prometheus}, ep.Apps[0].URL, ep.Apps[1].URL, ep.Redis[0].Addr) {
			if !containsLoopback(a) {
				t.Errorf("endpoint %q is not on 127.0.0.1", a)
			}
		}
	})

	t.Run("set on master readable on both replicas", func(t *testing.T) {
		m, _ := ep.Master()
		mc := redis.NewClient(&redis.Options{Addr: m.Addr, Protocol: 2})
		defer mc.Close()
		if err := mc.Set(ctx, "it-key", "it-value", 0).Err(); err != nil {
			t.Fatalf("SET on master: %v", err)
		}
		info, _ := mc.Info(ctx, "replication").Result()
		if got := infoField(info, "connected_slaves"); got != "2" {
			t.Errorf("master connected_slaves = %q; want 2", got)
		}
		for _, r := range ep.Replicas() {
			rc := redis.NewClient(&redis.Options{Addr: r.Addr, Protocol: 2})
			var got string
			deadline := time.Now().Add(3 * time.Second)
			for time.Now().Before(deadline) {
				if got, _ = rc.Get(ctx, "it-key").Result(); got == "it-value" {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			rc.Close()
			if got != "it-value" {
				t.Errorf("GET it-key on %s = %q; want it-value", r.Name, got)
			}
		}
	})

	t.Run("ten requests through haproxy alternate between the apps", func(t *testing.T) {
		var served []string
		for range 10 {
			res, err := http.Get(ep.HAProxy.URL + "/")
			if err != nil {
				t.Fatalf("GET %s/: %v", ep.HAProxy.URL, err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("GET / through haproxy = %s", res.Status)
			}
			served = append(served, res.Header.Get("X-Served-By"))
		}
		for i := 1; i < len(served); i++ {
			if served[i] == served[i-1] {
				t.Errorf("X-Served-By sequence %v: %d and %d both %q; want round-robin alternation", served, i-1, i, served[i])
			}
		}
		set := map[string]bool{}
		for _, s := range served {
			set[s] = true
		}
		if !set["app1"] || !set["app2"] || len(set) != 2 {
			t.Errorf("X-Served-By values %v; want app1 and app2", served)
		}
	})

	t.Run("status", func(t *testing.T) {
		// A second driver, as `duckbench status` in another process would be.
		st, err := newLocal(t, loadSeed(t), dir).Status(ctx)
		if err != nil {
			t.Fatalf("Status = %v", err)
		}
		if st.HAProxy.URL != ep.HAProxy.URL || len(st.Services) != 6 {
			t.Fatalf("Status = %+v; want the Up endpoints and 6 services", st)
		}
		for _, s := range st.Services {
			if !s.Running || !s.Healthy {
				t.Errorf("service %s: running %v healthy %v; want both", s.Name, s.Running, s.Healthy)
			}
		}
	})

	t.Run("fault kill and restart", func(t *testing.T) {
		if err := l.Fault(ctx, "app2", "kill"); err != nil {
			t.Fatalf("Fault(app2, kill) = %v", err)
		}
		st, _ := l.Status(ctx)
		for _, s := range st.Services {
			if s.Name == "app2" && s.Running {
				t.Errorf("app2 running after kill")
			}
		}
		if err := l.Fault(ctx, "app2", "restart"); err != nil {
			t.Fatalf("Fault(app2, restart) = %v", err)
		}
		if err := l.Fault(ctx, "redis-replica-1", "restart"); err != nil {
			t.Fatalf("Fault(redis-replica-1, restart) = %v", err)
		}
		st, _ = l.Status(ctx)
		for _, s := range st.Services {
			if (s.Name == "app2" || s.Name == "redis-replica-1") && !s.Running {
				t.Errorf("%s not running after restart", s.Name)
			}
		}
		procs = recorded(t, dir) // restarts changed the PIDs
	})

	if err := l.Down(ctx); err != nil {
		t.Fatalf("Down = %v", err)
	}
	assertGone(t, procs)
	if _, err := ReadState(dir); !errors.Is(err, ErrNotUp) {
		t.Errorf("ReadState after Down = %v; want ErrNotUp", err)
	}
}

func containsLoopback(s string) bool {
	for i := 0; i+9 <= len(s); i++ {
		if s[i:i+9] == "127.0.0.1" {
			return true
		}
	}
	return false
}

func TestLocalPortInUse(t *testing.T) {
	requireBinaries(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	s := loadSeed(t)
	s.Redis.Replicas[1].Port = spec.Port(busy.Addr().(*net.TCPAddr).Port)
	dir := runDir(t)
	_, err = newLocal(t, s, dir).Up(context.Background())
	if !errors.Is(err, ErrPortInUse) {
		t.Fatalf("Up with a busy port = %v; want ErrPortInUse", err)
	}
	t.Logf("Up = %v", err)
	if _, err := ReadState(dir); !errors.Is(err, ErrNotUp) {
		t.Errorf("state after a failed Up: %v; want none (nothing started)", err)
	}
}

// TestLocalDownAfterKill9 runs `duckbench up` in a child, kills it with
// SIGKILL once its stack is up, and checks that Down, reading only the
// state file, stops every process of the stack.
func TestLocalDownAfterKill9(t *testing.T) {
	requireBinaries(t)
	cases := []struct {
		when string
		kill func(*State) bool // kill the parent once the state says so
	}{
		{"while replicas start", func(st *State) bool { return len(st.Services) >= 2 }},
		{"while waiting for haproxy", func(st *State) bool { return len(st.Services) == 6 && !st.Complete }},
		{"after up returned", func(st *State) bool { return st.Complete }},
	}
	for _, tc := range cases {
		t.Run(tc.when, func(t *testing.T) {
			dir := runDir(t)
			cmd := exec.Command(duckbenchBin, "up", filepath.Join("testdata", "local-seed.yaml"), "--runtime", "local", "--run-dir", dir)
			cmd.Stdout, cmd.Stderr = testLog{t}, testLog{t}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(time.Minute)
			for {
				st, err := ReadState(dir)
				if err == nil && (tc.kill(st) || st.Complete) {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("stack did not come up (%v)", err)
				}
				time.Sleep(5 * time.Millisecond)
			}
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			time.Sleep(100 * time.Millisecond) // let a start in flight land in the state file
			procs := recorded(t, dir)
			for _, p := range procs {
				if !p.Alive() {
					t.Errorf("pid %d died with its parent; want it to survive for down", p.PID)
				}
			}
			if err := newLocal(t, loadSeed(t), dir).Down(context.Background()); err != nil {
				if fi, serr := os.Stat(filepath.Join(dir, ".lock")); serr == nil {
					locks, _ := os.ReadFile("/proc/locks")
					t.Logf("lock inode %d; /proc/locks:\n%s", fi.Sys().(*syscall.Stat_t).Ino, locks)
				}
				t.Fatalf("Down after kill -9 = %v", err)
			}
			assertGone(t, procs)
			assertNoProcessUnder(t, dir)
		})
	}
}

// assertNoProcessUnder scans /proc for any process whose command line or
// working directory names the run dir (the configs and Redis dirs live
// there; redis-server rewrites its command line into a title, so the cwd
// is what names it): nothing may be left, recorded or not.
func assertNoProcessUnder(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		cwd, _ := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err != nil || (!containsBytes(b, dir) && !strings.HasPrefix(cwd, dir)) {
			continue
		}
		if st, err := readProcStat(pid); err == nil && st.state != 'Z' && st.state != 'X' {
			t.Errorf("pid %d (%q) of the run still alive", pid, b)
		}
	}
}

func containsBytes(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return true
		}
	}
	return false
}

// TestLocalUpTime measures Up to healthy for the seed-like stack, fresh run
// dir each time, and logs the median of 5.
func TestLocalUpTime(t *testing.T) {
	requireBinaries(t)
	var ds []time.Duration
	for i := range 5 {
		dir := runDir(t)
		l, err := NewLocal(loadSeed(t), LocalOptions{RunDir: dir, AppBinary: duckbenchBin})
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		if _, err := l.Up(context.Background()); err != nil {
			t.Fatalf("Up #%d = %v", i, err)
		}
		ds = append(ds, time.Since(t0))
		if err := l.Down(context.Background()); err != nil {
			t.Fatalf("Down #%d = %v", i, err)
		}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	t.Logf("up to healthy (local, seed-like, 5 runs): median %v, min %v, max %v, all %v", ds[2], ds[0], ds[4], ds)
}

// TestDownSweepsUnrecordedRedis: redis-server overwrites its environment
// with its process title, so the run-dir marker cannot be read back from
// it. Down must still find a redis-server of the run that no state file
// names (a kill -9 of duckbench between its start and its record) by its
// working directory, and stop it.
func TestDownSweepsUnrecordedRedis(t *testing.T) {
	bin := testenv.RequireBinary(t, "redis-server", "")
	dir := runDir(t)
	rdir := filepath.Join(dir, "redis-orphan")
	if err := os.MkdirAll(rdir, 0o700); err != nil {
		t.Fatal(err)
	}
	port := testenv.FreePort(t)
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", rdir, "--save", "")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = append(os.Environ(), runDirEnv+"="+mustAbs(t, dir))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	// Wait until redis has taken its title (and so its env) and its dir.
	deadline := time.Now().Add(5 * time.Second)
	for {
		cwd, _ := os.Readlink(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "cwd"))
		env, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "environ"))
		if cwd == rdir && !strings.Contains(string(env), runDirEnv) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not chdir to %s / rewrite its environment (cwd %q)", rdir, cwd)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := newLocal(t, loadSeed(t), dir).Down(context.Background()); err != nil {
		t.Fatalf("Down() = %v", err)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("Down() left the unrecorded redis-server (pid %d) running", cmd.Process.Pid)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
