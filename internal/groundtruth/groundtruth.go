// Package groundtruth holds what the latency ground-truth suites inject:
// a calibrated HTTP backend with a known, fixed service time and a freeze
// it can be told to hold, and a real HAProxy in front of it (optionally
// with a server maxconn, a known capacity). The suites compare duckbench's
// figures with what this package made happen.
package groundtruth

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/duckbench/duckbench/configgen"
	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/spec"
)

// Backend is the calibrated backend (./calibrated) running in a process of
// its own: every request is held for exactly the service time (a sleep;
// the real hold, timer overshoot included, is recorded), except that a
// request arriving while it is frozen first waits for the thaw.
type Backend struct {
	URL  string // http://127.0.0.1:port
	Addr string
	t    testing.TB
}

// Span is a freeze as it really happened.
type Span struct{ From, To time.Time }

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// StartBackend builds and starts the calibrated backend on a free loopback
// port until the test ends.
func StartBackend(t testing.TB, service time.Duration) *Backend {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "duckbench-calibrated-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "calibrated")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/duckbench/duckbench/internal/groundtruth/calibrated").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build calibrated: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	cmd := exec.Command(binPath, "-service", service.String())
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start calibrated backend: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("calibrated backend: read its address: %v", err)
	}
	b := &Backend{Addr: strings.TrimSpace(addr), t: t}
	b.URL = "http://" + b.Addr
	return b
}

func (b *Backend) call(path string) []byte {
	resp, err := http.Get(b.URL + path)
	if err != nil {
		b.t.Errorf("calibrated backend %s: %v", path, err)
		return nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		b.t.Errorf("calibrated backend %s: %s %s", path, resp.Status, body)
	}
	return body
}

// SetService changes the service time of the requests that start from now.
func (b *Backend) SetService(d time.Duration) { b.call("/-/service?d=" + d.String()) }

// Freeze makes every request that arrives from now on wait until Thaw.
func (b *Backend) Freeze() { b.call("/-/freeze") }

// Thaw releases the waiting requests.
func (b *Backend) Thaw() { b.call("/-/thaw") }

type stats struct {
	Freezes      [][2]int64 `json:"freezes"`
	MedianHoldNS int64      `json:"median_hold_ns"`
}

func (b *Backend) stats(reset bool) stats {
	path := "/-/stats"
	if reset {
		path += "?reset=1"
	}
	var st stats
	if err := json.Unmarshal(b.call(path), &st); err != nil {
		b.t.Errorf("calibrated backend stats: %v", err)
	}
	return st
}

// MedianHold is the median time the backend really held a request with a
// service time (since the last call): the injected service time as it
// happened, timer overshoot included.
func (b *Backend) MedianHold() time.Duration { return time.Duration(b.stats(true).MedianHoldNS) }

// Freezes returns the freezes so far.
func (b *Backend) Freezes() []Span {
	var out []Span
	for _, f := range b.stats(false).Freezes {
		out = append(out, Span{From: time.Unix(0, f[0]), To: time.Unix(0, f[1])})
	}
	return out
}

// HAProxy is a real haproxy in front of a backend.
type HAProxy struct {
	URL string
	PID int // the haproxy process (to freeze it with SIGSTOP)
}

// StartHAProxy runs haproxy (HTTP mode, keep-alive both sides) in front of
// backend; maxconn > 0 caps the server's concurrent requests, the rest
// queue in HAProxy: the stack's capacity is then maxconn / service time.
func StartHAProxy(t testing.TB, backend string, maxconn int) *HAProxy {
	t.Helper()
	testenv.RequireBinary(t, "haproxy", "haproxy")
	port := testenv.FreePort(t)
	srvOpts := ""
	if maxconn > 0 {
		srvOpts = fmt.Sprintf(" maxconn %d", maxconn)
	}
	cfg := fmt.Sprintf(`global
    maxconn 4000
defaults
    mode http
    option http-keep-alive
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    timeout queue 120s
    timeout http-keep-alive 120s
frontend fe
    bind 127.0.0.1:%d
    default_backend be
backend be
    http-reuse always
    server s1 %s%s
`, port, backend, srvOpts)
	return StartHAProxyConfig(t, cfg, port)
}

// StartHAProxyConfig runs haproxy on the config text cfg (a rendered
// haproxy.cfg, say) whose frontend listens on port, until the test ends.
func StartHAProxyConfig(t testing.TB, cfg string, port int) *HAProxy {
	t.Helper()
	bin := testenv.RequireBinary(t, "haproxy", "haproxy")
	dir := t.TempDir()
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "haproxy.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start haproxy: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	h := &HAProxy{URL: fmt.Sprintf("http://127.0.0.1:%d", port), PID: cmd.Process.Pid}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return h
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(logf.Name())
			t.Fatalf("haproxy did not listen on %d: %v\n%s", port, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// StartRenderedHAProxy runs s's haproxy.cfg rendered as a local run renders
// it, with app i served at appAddrs[i] (every app at appAddrs[0] when one
// address is given) and HAProxy's ports free ones; it returns HAProxy, its
// frontend port and the rendered file.
func StartRenderedHAProxy(t *testing.T, s *spec.Spec, appAddrs ...string) (*HAProxy, int, []byte) {
	t.Helper()
	for i := range s.Apps {
		addr := appAddrs[0]
		if len(appAddrs) > 1 {
			addr = appAddrs[i]
		}
		_, bport, _ := net.SplitHostPort(addr)
		p, _ := strconv.Atoi(bport)
		s.Apps[i].Port = spec.Port(p)
	}
	port := testenv.FreePort(t)
	s.HAProxy.Port, s.HAProxy.Prometheus.Port = spec.Port(port), spec.Port(testenv.FreePort(t))
	runDir, err := os.MkdirTemp("", "dbgt-") // short: unix socket path limit
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(runDir) })
	f, err := configgen.Render(s, configgen.Target{Runtime: "local", RunDir: runDir})
	if err != nil {
		t.Fatal(err)
	}
	return StartHAProxyConfig(t, string(f.HAProxy), port), port, f.HAProxy
}
