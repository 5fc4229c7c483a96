//go:build integration

package stack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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

// processesUnder scans /proc for any live process whose command line or
// working directory names the run dir (the configs and Redis dirs live
// there; redis-server rewrites its command line into a title, so the cwd
// is what names it), recorded or not.
func processesUnder(dir string) []string {
	var out []string
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
			out = append(out, fmt.Sprintf("pid %d (%q)", pid, b))
		}
	}
	return out
}

// assertNoProcessUnder fails for every process of the run dir still alive.
func assertNoProcessUnder(t *testing.T, dir string) {
	t.Helper()
	for _, p := range processesUnder(dir) {
		t.Errorf("%s of the run still alive", p)
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
