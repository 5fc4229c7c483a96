package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// tools are the programs a run uses, by absolute path.
type tools struct {
	duckbench, wrk, fortio, vegeta, hey string
	versions                            []string // one line per tool, for the header
}

// goTool is a peer installed with `go install`, pinned to one version so
// that figures from different machines compare.
type goTool struct{ name, module, version string }

var (
	vegetaMod = goTool{"vegeta", "github.com/tsenart/vegeta/v12", "v12.13.0"}
	fortioMod = goTool{"fortio", "fortio.org/fortio", "v1.60.3"}
)

// aptTools are installed with apt-get: command → package.
var aptTools = []struct{ cmd, pkg string }{
	{"wrk", "wrk"}, {"hey", "hey"}, {"haproxy", "haproxy"}, {"taskset", "util-linux"},
}

// install builds duckbench from this module and finds or installs every
// peer. A peer that is missing and cannot be installed is an error: the
// comparison is never run with a tool left out.
func install(ctx context.Context, c config, tmp string) (tools, error) {
	var t tools
	root, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(root)) == "" || strings.TrimSpace(string(root)) == os.DevNull {
		return t, fmt.Errorf("go env GOMOD: not inside the duckbench module (run from the repository): %v", err)
	}
	t.duckbench = filepath.Join(tmp, "duckbench")
	build := exec.CommandContext(ctx, "go", "build", "-o", t.duckbench, "./cmd/duckbench")
	build.Dir = filepath.Dir(strings.TrimSpace(string(root)))
	if out, err := build.CombinedOutput(); err != nil {
		return t, fmt.Errorf("build duckbench: %w\n%s", err, out)
	}
	rev, _ := exec.CommandContext(ctx, "git", "-C", build.Dir, "log", "-1", "--format=%h %s").Output()
	t.versions = append(t.versions, "duckbench "+strings.TrimSpace(string(rev)))
	for _, g := range []struct {
		tool goTool
		path *string
	}{{vegetaMod, &t.vegeta}, {fortioMod, &t.fortio}} {
		p, err := goInstall(ctx, c, g.tool, tmp)
		if err != nil {
			return t, err
		}
		*g.path = p
		t.versions = append(t.versions, fmt.Sprintf("%s %s (%s)", g.tool.name, g.tool.version, p))
	}
	for _, a := range aptTools {
		if _, err := exec.LookPath(a.cmd); err == nil {
			continue
		}
		if c.skipInstall {
			return t, fmt.Errorf("%s not found and --skip-install is set (apt-get install %s)", a.cmd, a.pkg)
		}
		fmt.Printf("installing %s (apt-get install %s) …\n", a.cmd, a.pkg)
		if err := aptInstall(ctx, a.pkg); err != nil {
			return t, err
		}
		if _, err := exec.LookPath(a.cmd); err != nil {
			return t, fmt.Errorf("%s still not found after apt-get install %s", a.cmd, a.pkg)
		}
	}
	t.wrk, _ = exec.LookPath("wrk")
	t.hey, _ = exec.LookPath("hey")
	for _, p := range []string{"wrk", "hey", "haproxy"} {
		v, _ := exec.CommandContext(ctx, "dpkg-query", "-W", "-f", "${Version}", p).Output()
		path, _ := exec.LookPath(p)
		t.versions = append(t.versions, fmt.Sprintf("%s %s (%s)", p, orUnknown(string(v)), path))
	}
	return t, nil
}

// goInstall returns the path of g at its version: on PATH or in GOBIN
// (default $(go env GOPATH)/bin) if one is there, else after `go install`.
func goInstall(ctx context.Context, c config, g goTool, tmp string) (string, error) {
	gobin := goBin(ctx)
	var found []string
	if p, err := exec.LookPath(g.name); err == nil {
		found = append(found, p)
	}
	found = append(found, filepath.Join(gobin, g.name))
	for _, p := range found {
		if modVersion(ctx, p, g.module) == g.version {
			return p, nil
		}
	}
	spec := g.module + "@" + g.version
	if c.skipInstall {
		return "", fmt.Errorf("%s %s not found on PATH or in %s and --skip-install is set (GOBIN=%s go install %s)",
			g.name, g.version, gobin, gobin, spec)
	}
	fmt.Printf("installing %s (GOBIN=%s go install %s) …\n", g.name, gobin, spec)
	cmd := exec.CommandContext(ctx, "go", "install", spec)
	cmd.Dir = tmp // outside the module: install the tool's own go.mod, not ours
	cmd.Env = append(os.Environ(), "GOBIN="+gobin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s: %w\n%s", spec, err, out)
	}
	p := filepath.Join(gobin, g.name)
	if v := modVersion(ctx, p, g.module); v != g.version {
		return "", fmt.Errorf("go install %s: %s is at %q", spec, p, v)
	}
	return p, nil
}

func goBin(ctx context.Context) string {
	if b, _ := exec.CommandContext(ctx, "go", "env", "GOBIN").Output(); strings.TrimSpace(string(b)) != "" {
		return strings.TrimSpace(string(b))
	}
	p, _ := exec.CommandContext(ctx, "go", "env", "GOPATH").Output()
	return filepath.Join(strings.SplitN(strings.TrimSpace(string(p)), string(os.PathListSeparator), 2)[0], "bin")
}

// modVersion is the version of module mod a Go binary was built from
// (`go version -m`), "" when it is not one.
func modVersion(ctx context.Context, bin, mod string) string {
	out, err := exec.CommandContext(ctx, "go", "version", "-m", bin).Output()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "mod" && f[1] == mod {
			return f[2]
		}
	}
	return ""
}

func aptInstall(ctx context.Context, pkg string) error {
	get := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.CombinedOutput()
	}
	if _, err := get("install", "-y", "-q", pkg); err == nil {
		return nil
	}
	// A fresh machine's package lists may be empty: update once and retry.
	if out, err := get("update", "-q"); err != nil {
		return fmt.Errorf("apt-get update: %w\n%s", err, out)
	}
	if out, err := get("install", "-y", "-q", pkg); err != nil {
		return fmt.Errorf("apt-get install %s: %w\n%s", pkg, err, out)
	}
	return nil
}

func orUnknown(s string) string {
	if s = strings.TrimSpace(s); s == "" {
		return "(version unknown)"
	}
	return s
}

// A peer is one load tool: how to run it and how to read its output.
type peer struct {
	name string
	// argv is the command run on the client core; rate 0 means as fast
	// as it can.
	argv  func(t tools, url string, conns int, d time.Duration, rate float64) []string
	parse func(stdout, stderr string) (sample, error)
}

func secsArg(d time.Duration) string { return strconv.Itoa(int(d.Round(time.Second).Seconds())) + "s" }

func rateArg(rate float64, max string) string {
	if rate <= 0 {
		return max
	}
	return strconv.FormatFloat(rate, 'f', 0, 64)
}

var (
	duckbenchPeer = peer{"duckbench",
		func(t tools, url string, n int, d time.Duration, rate float64) []string {
			return []string{t.duckbench, "bench", url, "--rate", rateArg(rate, "max"), "--duration", secsArg(d),
				"--connections", strconv.Itoa(n), "--quiet", "--json"}
		},
		func(out, _ string) (sample, error) { return parseDuckbench(out) }}
	wrkPeer = peer{"wrk",
		func(t tools, url string, n int, d time.Duration, _ float64) []string {
			return []string{t.wrk, "-t1", "-c" + strconv.Itoa(n), "-d" + secsArg(d), url}
		},
		func(out, _ string) (sample, error) { return parseWrk(out) }}
	// fortio's default HTTP client is its own "fast client" (HTTP/1.1,
	// keep-alive), not net/http (-stdclient): the fair peer. At a fixed
	// rate -uniform spreads its connections' sends over each interval, as
	// an open model's schedule is; without it every connection starts at
	// once and they send in lockstep bursts, one wake-up per burst (at
	// 1000 req/s over 16 connections: 0.24 CPU-s in 5 s instead of 0.66).
	fortioPeer = peer{"fortio",
		func(t tools, url string, n int, d time.Duration, rate float64) []string {
			args := []string{t.fortio, "load", "-qps", rateArg(rate, "0"), "-c", strconv.Itoa(n), "-t", secsArg(d)}
			if rate > 0 {
				args = append(args, "-uniform")
			}
			return append(args, url)
		},
		func(out, errOut string) (sample, error) { return parseFortio(out + errOut) }}
	// The vegeta CLI as people use it: attack piped into report, both
	// processes (and the shell) on the client core, all counted.
	vegetaPeer = peer{"vegeta",
		func(t tools, url string, n int, d time.Duration, _ float64) []string {
			return []string{"sh", "-c", fmt.Sprintf("echo %s | %s attack -rate=0 -workers=%d -max-workers=%d -connections=%d -duration=%s | %s report",
				shq("GET "+url), shq(t.vegeta), n, n, n, secsArg(d), shq(t.vegeta))}
		},
		func(out, _ string) (sample, error) { return parseVegeta(out) }}
	heyPeer = peer{"hey",
		func(t tools, url string, n int, d time.Duration, _ float64) []string {
			return []string{t.hey, "-z", secsArg(d), "-c", strconv.Itoa(n), url}
		},
		func(out, _ string) (sample, error) { return parseHey(out) }}
)

// shq quotes s for sh when it needs it.
func shq(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == ':' || r == '=' ||
			r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func cmdLine(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = shq(a)
	}
	return strings.Join(q, " ")
}

// runner runs tools pinned to the client core and measures them.
type runner struct {
	c   config
	t   tools
	url string
	srv int // HAProxy's pid
}

// command is the full command line of p, as run.
func (r runner) command(p peer, conns int, rate float64, d time.Duration) []string {
	return append([]string{"taskset", "-c", r.c.clientCore}, p.argv(r.t, r.url, conns, d, rate)...)
}

// run runs p once and returns what it measured: its output's figures,
// its process tree's CPU (wait4: taskset execs the tool, and the rusage of
// a waited-for process includes the children it waited for — the vegeta
// pipeline's two processes), HAProxy's CPU and everyone else's.
func (r runner) run(ctx context.Context, p peer, conns int, rate float64, d time.Duration) (sample, error) {
	argv := r.command(p, conns, rate, d)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	busy0, srv0 := machineBusy(), procCPU(r.srv)
	err := cmd.Run()
	busy, srv := machineBusy()-busy0, procCPU(r.srv)-srv0
	if err != nil {
		return sample{}, fmt.Errorf("%s: %w\n%s%s", cmdLine(argv), err, tail(out.String()), tail(errb.String()))
	}
	s, err := p.parse(out.String(), errb.String())
	if err != nil {
		return s, fmt.Errorf("%s: %w", cmdLine(argv), err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return s, errors.New("no rusage from wait4")
	}
	s.CPU = tv(ru.Utime) + tv(ru.Stime)
	s.RSSKiB = ru.Maxrss
	s.Seconds = d.Seconds()
	s.ServerCPU = srv
	s.OtherCPU = max(busy-s.CPU-srv, 0)
	return s, nil
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// clockTick is USER_HZ, the unit of /proc's CPU times (100 on Linux).
const clockTick = 100

// machineBusy is the CPU seconds all cores spent busy since boot.
func machineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal …
	var busy float64
	for i, v := range f {
		if i == 0 || i == 4 || i == 5 || i > 8 {
			continue
		}
		n, _ := strconv.ParseFloat(v, 64)
		busy += n
	}
	return busy / clockTick
}

// procCPU is a process's user+sys CPU seconds.
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	_, rest, _ := strings.Cut(string(b), ") ") // the command may hold spaces
	f := strings.Fields(rest)                  // from field 3 (state) on
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / clockTick
}
