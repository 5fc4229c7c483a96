//go:build integration

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/syncbuf"
	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/results"
)

// bin is the duckbench binary TestMain built; "" when it could not be.
var (
	bin     string
	skipMsg string
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	for _, b := range []string{"haproxy", "redis-server"} {
		if _, err := exec.LookPath(b); err != nil {
			skipMsg = fmt.Sprintf("%s is not on PATH (apt-get install %s): the end-to-end suite needs the real programs", b, b)
		}
	}
	dir, err := os.MkdirTemp("", "dbe2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "duckbench")
	build := exec.Command("go", "build", "-o", out, "./cmd/duckbench")
	build.Dir = ".."
	if msg, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/duckbench: %v\n%s", err, msg)
		return 1
	}
	bin = out
	return m.Run()
}

// need skips the test when the stack's programs are missing, or fails it
// when DUCKBENCH_REQUIRE_ALL=1 (CI).
func need(t *testing.T) {
	t.Helper()
	if skipMsg == "" {
		return
	}
	testenv.Unavailable(t, skipMsg)
}

// tmpDir returns a short fresh directory (unix socket paths are limited to
// 107 bytes, and t.TempDir's names grow with the test name).
func tmpDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "dbe2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// proc is one running duckbench.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout syncbuf.Buffer
	stderr syncbuf.Buffer
	done   chan struct{}
	code   int
	ended  time.Time

	mu       sync.Mutex
	children map[int]uint64 // pid -> start time, of every child seen
}

// start runs duckbench with args in dir, with env added to the test's
// environment. It watches the process's children until it exits.
func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	return startIn(t, "", env, args...)
}

// startIn is start with the working directory dir ("" for the test's).
func startIn(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, done: make(chan struct{}), children: map[int]uint64{}}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start duckbench %v: %v", args, err)
	}
	t.Logf("started duckbench %s (pid %d)", strings.Join(args, " "), p.cmd.Process.Pid)
	go func() {
		p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		p.ended = time.Now()
		close(p.done)
	}()
	go p.watchChildren()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// watchChildren records every child of the process every 100ms.
func (p *proc) watchChildren() {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, st := range procStats() {
			if st.ppid == p.pid() {
				p.mu.Lock()
				p.children[st.pid] = st.start
				p.mu.Unlock()
			}
		}
		select {
		case <-p.done:
			return
		case <-tick.C:
		}
	}
}

// wait waits for the exit and returns the exit code (-1 when killed by a
// signal). It fails the test after timeout.
func (p *proc) wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(timeout):
		p.cmd.Process.Signal(syscall.SIGQUIT) // a goroutine dump in stderr
		time.Sleep(500 * time.Millisecond)
		p.cmd.Process.Kill()
		<-p.done
		p.t.Fatalf("duckbench did not exit within %v\nstdout:\n%s\nstderr:\n%s", timeout, p.stdout.String(), p.stderr.String())
		return -1
	}
}

// waitFor polls stderr for s; it fails the test when the process exits or
// timeout passes first.
func (p *proc) waitFor(s string, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.stderr.String(), s) {
		select {
		case <-p.done:
			p.t.Fatalf("duckbench exited (code %d) before printing %q\nstderr:\n%s", p.code, s, p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("duckbench did not print %q within %v\nstderr:\n%s", s, timeout, p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

// dump logs the process's output (on failure it helps).
func (p *proc) dump() {
	p.t.Helper()
	p.t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", p.code, p.stdout.String(), p.stderr.String())
}

// run runs duckbench to the end and returns its exit code, stdout and stderr.
func run(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	p := start(t, env, args...)
	code := p.wait(3 * time.Minute)
	return code, p.stdout.String(), p.stderr.String()
}

// procStat is the part of /proc/<pid>/stat the suite reads.
type procStat struct {
	pid, ppid, pgrp int
	state           string
	start           uint64
}

// procStats reads /proc/*/stat.
func procStats() []procStat {
	ents, _ := os.ReadDir("/proc")
	var out []procStat
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readStat(pid); ok {
			out = append(out, st)
		}
	}
	return out
}

func readStat(pid int) (procStat, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return procStat{}, false
	}
	st := procStat{pid: pid, state: f[0]}
	st.ppid, _ = strconv.Atoi(f[1])
	st.pgrp, _ = strconv.Atoi(f[2])
	st.start, _ = strconv.ParseUint(f[19], 10, 64)
	return st, true
}

// mentioning lists the live processes (not zombies, not this test) whose
// cmdline, cwd or environment mention dir.
func mentioning(dir string) map[int]string {
	out := map[int]string{}
	self := os.Getpid()
	for _, st := range procStats() {
		if st.pid == self || st.state == "Z" {
			continue
		}
		base := fmt.Sprintf("/proc/%d/", st.pid)
		cmdline, _ := os.ReadFile(base + "cmdline")
		cwd, _ := os.Readlink(base + "cwd")
		env, _ := os.ReadFile(base + "environ")
		cl := strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))
		if strings.Contains(cl, dir) || cwd == dir || strings.HasPrefix(cwd, dir+"/") || bytes.Contains(env, []byte(dir)) {
			out[st.pid] = cl
		}
	}
	return out
}

// assertNoOrphans checks that no process mentions dir and that no child the
// duckbench processes ever had is still alive. It waits up to 5s for
// processes on their way out, then kills what is left (so one failure does
// not leak into the next test) and fails.
func assertNoOrphans(t *testing.T, dir string, procs ...*proc) {
	t.Helper()
	var left map[int]string
	deadline := time.Now().Add(5 * time.Second)
	for {
		left = mentioning(dir)
		for _, p := range procs {
			p.mu.Lock()
			for pid, started := range p.children {
				if st, ok := readStat(pid); ok && st.start == started && st.state != "Z" {
					if _, dup := left[pid]; !dup {
						cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
						left[pid] = "child of duckbench: " + strings.ReplaceAll(string(cmdline), "\x00", " ")
					}
				}
			}
			p.mu.Unlock()
		}
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(left) == 0 {
		return
	}
	for pid, cl := range left {
		t.Errorf("orphan: pid %d: %s", pid, cl)
		syscall.Kill(pid, syscall.SIGCONT)
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// loadResult reads the one result.json under resultsDir.
func loadResult(t *testing.T, resultsDir string) (*results.Result, string) {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(resultsDir, "*", "result.json"))
	if len(paths) != 1 {
		t.Fatalf("want one result.json under %s, found %v", resultsDir, paths)
	}
	r, err := results.Load(paths[0])
	if err != nil {
		t.Fatalf("load %s: %v", paths[0], err)
	}
	return r, paths[0]
}

// rawResult reads result.json as a generic map (for fields the typed record
// may not know yet).
func rawResult(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// env is a test's working area: a spec, a run dir, a results dir.
type env struct {
	dir, spec, runDir, results string
}

// newEnv writes spec (see seedSpec) into a fresh directory.
func newEnv(t *testing.T, specYAML string) env {
	t.Helper()
	d := tmpDir(t)
	e := env{dir: d, spec: filepath.Join(d, "spec.yaml"), runDir: filepath.Join(d, "run"), results: filepath.Join(d, "results")}
	if err := os.WriteFile(e.spec, []byte(specYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

// runArgs are the arguments of `duckbench run` in e, every listener picked
// free, plus extra.
func (e env) runArgs(extra ...string) []string {
	return append([]string{"run", e.spec, "--quiet", "--results", e.results, "--run-dir", e.runDir,
		"--exporter-listen", "127.0.0.1:0", "--runtime", "local"}, extra...)
}

// stackArgs are the arguments of a stack command (up, down, status) in e.
func (e env) stackArgs(cmd string, extra ...string) []string {
	return append([]string{cmd, e.spec, "--run-dir", e.runDir, "--runtime", "local"}, extra...)
}

// specOpts vary the seed-like spec.
type specOpts struct {
	name        string
	duration    string // default 10s
	rate        int    // default 200
	p99         string // default 500ms
	success     string // default 99%
	faults      string // YAML list items, each line starting "  - "
	passwordEnv string
}

// seedSpec is examples/seed.yaml with every port auto, a 1s health check
// and disk-based replication sync (replicas link at once).
func seedSpec(o specOpts) string {
	if o.name == "" {
		o.name = "e2e"
	}
	if o.duration == "" {
		o.duration = "10s"
	}
	if o.rate == 0 {
		o.rate = 200
	}
	if o.p99 == "" {
		// Latency counts from each request's intended send time: on a
		// shared 2-core machine its p99 truly reaches tens of ms, and
		// these tests are not about latency.
		o.p99 = "500ms"
	}
	if o.success == "" {
		o.success = "99%"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "version: duckbench/v1\nname: %s\nruntime: local\n", o.name)
	b.WriteString("redis:\n")
	if o.passwordEnv != "" {
		fmt.Fprintf(&b, "  password_env: %s\n", o.passwordEnv)
	}
	b.WriteString(`  defaults:
    maxmemory: 64mb
    maxmemory_policy: allkeys-lru
    appendonly: false
    repl_diskless_sync: false
  master:
    name: redis-master
    port: auto
  replicas:
    - name: redis-replica-1
      port: auto
    - name: redis-replica-2
      port: auto
apps:
  - name: app1
    port: auto
  - name: app2
    port: auto
haproxy:
  port: auto
  prometheus:
    port: auto
  backends:
    - name: apps
      balance: roundrobin
      servers:
        - app: app1
        - app: app2
      health_check:
        path: /healthz
        interval: 1s
        rise: 2
        fall: 2
load:
`)
	fmt.Fprintf(&b, "  duration: %s\n  rate: %d\n", o.duration, o.rate)
	b.WriteString(`  keys:
    distribution: uniform
    count: 1000
  targets:
    - path: /kv/{key}
      weight: 9
    - path: /
      weight: 1
`)
	fmt.Fprintf(&b, "slo:\n  p99: %s\n  success: %s\n", o.p99, o.success)
	if o.faults != "" {
		b.WriteString("faults:\n" + o.faults)
	}
	return b.String()
}

// ctxTimeout is a context for the suite's own Redis/HTTP calls.
func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
