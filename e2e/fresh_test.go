//go:build integration

package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// hidden are the programs a fresh machine lacks (the local runtime's),
// and the ones that would let scripts/deps reach the real system.
var hidden = map[string]bool{
	"haproxy": true, "redis-server": true, "redis-check-aof": true, "redis-check-rdb": true,
	"apt-get": true, "sudo": true, "service": true,
}

// freshPath builds a PATH of one directory holding a link to every program
// of the test's PATH except hidden ones, plus a no-op `service` (so that
// scripts/deps cannot stop this machine's daemons), and returns it.
func freshPath(t *testing.T, without ...string) string {
	t.Helper()
	dir := filepath.Join(tmpDir(t), "bin")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	skip := map[string]bool{}
	for _, w := range without {
		skip[w] = true
	}
	for _, p := range filepath.SplitList(os.Getenv("PATH")) {
		entries, _ := os.ReadDir(p)
		for _, e := range entries {
			name := e.Name()
			if hidden[name] || skip[name] {
				continue
			}
			if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
				continue // the first on PATH wins, as for the shell
			}
			_ = os.Symlink(filepath.Join(p, name), filepath.Join(dir, name))
		}
	}
	writeScript(t, filepath.Join(dir, "service"), "#!/bin/sh\nexit 0\n")
	return dir
}

func writeScript(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
}

// runScript runs a repository script with env (PATH included) replacing
// the matching variables of the test's environment.
func runScript(t *testing.T, timeout time.Duration, env []string, script string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(filepath.Join("..", script), args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s did not end within %v\nstdout:\n%s\nstderr:\n%s", script, timeout, o.String(), e.String())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// The exact install hint for the demo's programs.
const demoHint = `scripts/deps: missing for the demo: haproxy redis-server
Install them, then run this again:
  Debian/Ubuntu:  sudo apt-get install -y haproxy redis-server
  Fedora:         sudo dnf install -y haproxy redis
  macOS:          brew install haproxy redis
`

// misleading are words that must not appear when the local runtime's
// programs are missing: the demo runs no other runtime, and reaches no
// stack at all.
var misleading = []string{"compose", "docker", "pull", "bringing the stack up", "go build"}

// TestFreshMachine runs README command 1 (scripts/demo) with haproxy and
// redis-server hidden from PATH: either scripts/deps installs them with
// apt-get and the demo passes, or it prints the exact install commands and
// exits 3 — never anything else.
func TestFreshMachine(t *testing.T) {
	need(t) // the install case links the real programs back
	realHAProxy, _ := exec.LookPath("haproxy")
	realRedis, _ := exec.LookPath("redis-server")

	t.Run("no apt-get, not root: the install hint and exit 3", func(t *testing.T) {
		path := freshPath(t)
		_, stderr, code := runScript(t, time.Minute, []string{"PATH=" + path, "DUCKBENCH_DEPS_UID=1000"}, "scripts/demo")
		checkHint(t, stderr, code)
	})

	t.Run("apt-get but not root and no sudo: the install hint and exit 3", func(t *testing.T) {
		path := freshPath(t)
		log := filepath.Join(tmpDir(t), "apt.log")
		apt := filepath.Join(path, "apt-get-fake")
		writeScript(t, apt, fmt.Sprintf("#!/bin/sh\necho \"$*\" >>%s\nexit 0\n", log))
		_, stderr, code := runScript(t, time.Minute, []string{"PATH=" + path, "DUCKBENCH_DEPS_UID=1000", "DUCKBENCH_DEPS_APT_GET=" + apt}, "scripts/demo")
		checkHint(t, stderr, code)
		if b, err := os.ReadFile(log); err == nil {
			t.Errorf("apt-get ran without root or sudo: %q", b)
		}
	})

	t.Run("root, apt-get fails: the install hint and exit 3", func(t *testing.T) {
		path := freshPath(t)
		apt := filepath.Join(path, "apt-get-fake")
		writeScript(t, apt, "#!/bin/sh\necho 'E: Unable to locate package' >&2\nexit 100\n")
		_, stderr, code := runScript(t, time.Minute, []string{"PATH=" + path, "DUCKBENCH_DEPS_UID=0", "DUCKBENCH_DEPS_APT_GET=" + apt}, "scripts/demo")
		if !strings.Contains(stderr, "scripts/deps: apt-get install haproxy redis-server failed\n") {
			t.Errorf("stderr lacks the apt-get failure:\n%s", stderr)
		}
		checkHint(t, stderr, code)
	})

	t.Run("root: apt-get installs them and the demo passes", func(t *testing.T) {
		path := freshPath(t)
		log := filepath.Join(tmpDir(t), "apt.log")
		apt := filepath.Join(path, "apt-get-fake")
		// "Installing" puts the real programs back on PATH.
		writeScript(t, apt, fmt.Sprintf("#!/bin/sh\necho \"$*\" >>%[1]s\ncase \"$1\" in install) ln -s %[2]s %[3]s/haproxy; ln -s %[4]s %[3]s/redis-server;; esac\n",
			log, realHAProxy, path, realRedis))
		spec := demoSpec(t)
		results := tmpDir(t)
		stdout, stderr, code := runScript(t, 5*time.Minute,
			[]string{"PATH=" + path, "DUCKBENCH_DEPS_UID=0", "DUCKBENCH_DEPS_APT_GET=" + apt},
			"scripts/demo", spec, "--duration", "3s", "--quiet", "--exporter-listen", "off", "--results", results)
		if code != 0 {
			t.Fatalf("scripts/demo = exit %d; want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		b, _ := os.ReadFile(log)
		if got, want := string(b), "update -qq\ninstall -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold haproxy redis-server\n"; got != want {
			t.Errorf("apt-get calls = %q; want %q", got, want)
		}
		for _, want := range []string{
			"scripts/deps: installing haproxy redis-server with apt-get (missing: haproxy redis-server)\n",
			"runtime: local (auto: haproxy and redis-server are on PATH)\n",
			"bringing the stack up…",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		}
		if !strings.Contains(stdout, "SLO: PASS") || !strings.Contains(stdout, "p99      <= 5s") || !strings.Contains(stdout, "runtime local") {
			t.Errorf("stdout lacks the local run's passing summary:\n%s", stdout)
		}
		if strings.Contains(stdout+stderr, "compose") {
			t.Errorf("the local demo mentions compose:\n%s\n%s", stdout, stderr)
		}
	})
}

func checkHint(t *testing.T, stderr string, code int) {
	t.Helper()
	if code != 3 {
		t.Errorf("scripts/demo = exit %d; want 3\n%s", code, stderr)
	}
	if !strings.HasSuffix(stderr, demoHint) {
		t.Errorf("stderr does not end with the install hint:\n%s\nwant:\n%s", stderr, demoHint)
	}
	for _, m := range misleading {
		if strings.Contains(strings.ToLower(stderr), m) {
			t.Errorf("stderr mentions %q:\n%s", m, stderr)
		}
	}
}

// demoSpec is the seed spec with a name of its own and every port "auto",
// since other stacks may be running on this machine, and a p99 bound that a
// loaded 2-core machine holds: this test is about set-up, not speed.
func demoSpec(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../examples/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := regexp.MustCompile(`(?m)^name: seed$`).ReplaceAllString(string(b), fmt.Sprintf("name: fresh-demo-%d", os.Getpid()))
	s = regexp.MustCompile(`port: \d+`).ReplaceAllString(s, "port: auto")
	s = regexp.MustCompile(`(?m)^  p99: 50ms`).ReplaceAllString(s, "  p99: 5s")
	s = strings.Replace(s, "\nhaproxy:\n", "\nhaproxy:\n  stats_socket: {port: auto}\n  prometheus: {port: auto}\n", 1)
	path := filepath.Join(tmpDir(t), "seed.yaml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
