//go:build integration

package e2e

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/stack"
)

// listener is one listening TCP socket.
type listener struct {
	addr  string // ip:port as the kernel shows it
	inode string
}

// listeners reads /proc/net/tcp and tcp6 for LISTEN sockets by inode.
func listeners(t *testing.T) map[string]listener {
	t.Helper()
	out := map[string]listener{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fl := strings.Fields(line)
			if len(fl) < 10 || fl[3] != "0A" { // 0A = LISTEN
				continue
			}
			out[fl[9]] = listener{addr: decodeAddr(fl[1]), inode: fl[9]}
		}
	}
	return out
}

// decodeAddr turns /proc/net/tcp's "0100007F:1F90" into "127.0.0.1:8080".
func decodeAddr(s string) string {
	h, p, _ := strings.Cut(s, ":")
	port, _ := strconv.ParseUint(p, 16, 16)
	raw, _ := hex.DecodeString(h)
	// The kernel prints each 32-bit word in host (little-endian) order.
	for i := 0; i+4 <= len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	return net.JoinHostPort(net.IP(raw).String(), strconv.Itoa(int(port)))
}

// socketInodes lists the socket inodes pid holds open.
func socketInodes(pid int) []string {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		l, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]"))
		}
	}
	return out
}

// listensOf returns the listening addresses of pid.
func listensOf(t *testing.T, pid int) []string {
	ls := listeners(t)
	var out []string
	for _, ino := range socketInodes(pid) {
		if l, ok := ls[ino]; ok {
			out = append(out, l.addr)
		}
	}
	return out
}

// redisCmd sends one command in RESP and returns the first reply line (and
// for an array, its elements joined by spaces).
func redisCmd(t *testing.T, conn net.Conn, r *bufio.Reader, args ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatalf("redis %s: %v", args[0], err)
	}
	return readReply(t, r)
}

func readReply(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read redis reply: %v", err)
	}
	line = strings.TrimRight(line, "\r\n")
	switch {
	case strings.HasPrefix(line, "*"):
		n, _ := strconv.Atoi(line[1:])
		var parts []string
		for i := 0; i < n; i++ {
			parts = append(parts, readReply(t, r))
		}
		return strings.Join(parts, " ")
	case strings.HasPrefix(line, "$"):
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "(nil)"
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatalf("read redis bulk: %v", err)
		}
		return string(buf[:n])
	}
	return line
}

// TestSafeDefaults brings a stack up with a Redis password from the
// environment and checks issue 8's safe defaults on the running processes.
func TestSafeDefaults(t *testing.T) {
	need(t)
	t.Parallel()
	const pwVar = "DUCKBENCH_TEST_PW"
	pw := fmt.Sprintf("e2e-Pw-%d-%x", os.Getpid(), time.Now().UnixNano())
	pwEnv := []string{pwVar + "=" + pw}
	e := newEnv(t, seedSpec(specOpts{name: "e2e-safe", duration: "3s", passwordEnv: pwVar}))

	up := start(t, pwEnv, e.stackArgs("up")...)
	if code := up.wait(2 * time.Minute); code != 0 {
		up.dump()
		t.Fatalf("up = exit %d", code)
	}
	defer func() {
		down := start(t, nil, e.stackArgs("down")...)
		if code := down.wait(time.Minute); code != 0 {
			down.dump()
			t.Errorf("down = exit %d", code)
		}
		assertNoOrphans(t, e.runDir, up, down)
	}()

	stOut := start(t, pwEnv, e.stackArgs("status", "--json")...)
	if code := stOut.wait(time.Minute); code != 0 {
		stOut.dump()
		t.Fatalf("status --json = exit %d", code)
	}
	var st stack.Status
	if err := json.Unmarshal([]byte(stOut.stdout.String()), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, stOut.stdout.String())
	}
	if len(st.Services) != 6 {
		t.Fatalf("status lists %d services; want 6: %+v", len(st.Services), st.Services)
	}
	// The suite's own orphan scan must see the running stack, or its
	// "no orphans" would prove nothing.
	if seen := mentioning(e.runDir); len(seen) < 6 {
		t.Errorf("the orphan scan finds %d processes of a running 6-service stack: %v", len(seen), seen)
	}

	t.Run("listeners on loopback", func(t *testing.T) { checkLoopbackListeners(t, st) })

	t.Run("redis needs the password and is protected", func(t *testing.T) { checkRedisAuth(t, st, pw) })

	t.Run("runtime API socket mode 600", func(t *testing.T) { checkRuntimeSocket(t, st, e) })

	t.Run("no stats page", func(t *testing.T) { checkNoStatsPage(t, st, e) })

	t.Run("exporter on loopback", func(t *testing.T) { checkExporterLoopback(t, e, pwEnv, pw) })

	t.Run("password appears nowhere", func(t *testing.T) { checkPasswordNowhere(t, e, up, stOut, pwVar, pw) })
}

// checkLoopbackListeners: every service listens on 127.0.0.1 only, and
// HAProxy on its frontend and exporter alone.
func checkLoopbackListeners(t *testing.T, st stack.Status) {
	haproxyListens := 0
	for _, svc := range st.Services {
		addrs := listensOf(t, svc.PID)
		if len(addrs) == 0 {
			t.Errorf("%s (pid %d) listens on nothing", svc.Name, svc.PID)
		}
		for _, a := range addrs {
			if h, _, _ := net.SplitHostPort(a); h != "127.0.0.1" {
				t.Errorf("%s (pid %d) listens on %s; want 127.0.0.1 only", svc.Name, svc.PID, a)
			}
		}
		if svc.Kind == "haproxy" {
			haproxyListens = len(addrs)
		}
		t.Logf("%s listens on %v", svc.Name, addrs)
	}
	// Frontend + Prometheus exporter; a stats page would be a third.
	if haproxyListens != 2 {
		t.Errorf("haproxy has %d TCP listeners; want 2 (frontend, prometheus; no stats page by default)", haproxyListens)
	}
}

// checkRedisAuth: every node refuses a client without the password and
// runs in protected mode, bound to 127.0.0.1.
func checkRedisAuth(t *testing.T, st stack.Status, pw string) {
	for _, r := range st.Redis {
		conn, err := net.DialTimeout("tcp", r.Addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial %s: %v", r.Name, err)
		}
		br := bufio.NewReader(conn)
		if got := redisCmd(t, conn, br, "PING"); !strings.HasPrefix(got, "-NOAUTH") {
			t.Errorf("%s: PING without AUTH = %q; want -NOAUTH", r.Name, got)
		}
		if got := redisCmd(t, conn, br, "AUTH", "wrong-"+pw); !strings.HasPrefix(got, "-") {
			t.Errorf("%s: AUTH with a wrong password = %q; want an error", r.Name, got)
		}
		if got := redisCmd(t, conn, br, "AUTH", pw); got != "+OK" {
			t.Errorf("%s: AUTH = %q", r.Name, got)
		}
		if got := redisCmd(t, conn, br, "CONFIG", "GET", "protected-mode"); got != "protected-mode yes" {
			t.Errorf("%s: CONFIG GET protected-mode = %q; want yes", r.Name, got)
		}
		if got := redisCmd(t, conn, br, "CONFIG", "GET", "bind"); !strings.HasPrefix(got, "bind 127.0.0.1") {
			t.Errorf("%s: CONFIG GET bind = %q; want 127.0.0.1", r.Name, got)
		}
		conn.Close()
	}
}

// checkRuntimeSocket: the Runtime API is a mode-600 socket in the run dir.
func checkRuntimeSocket(t *testing.T, st stack.Status, e env) {
	sock := st.HAProxy.Stats
	if !strings.HasPrefix(sock, e.runDir) {
		t.Errorf("runtime API %q is not inside the run dir %s", sock, e.runDir)
	}
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&fs.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("runtime API %s mode = %v; want a socket with mode 0600", sock, fi.Mode())
	}
}

// checkNoStatsPage: no stats page unless enabled.
func checkNoStatsPage(t *testing.T, st stack.Status, e env) {
	cfg, err := os.ReadFile(filepath.Join(e.runDir, "haproxy.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"stats enable", "stats uri", "stats auth"} {
		if strings.Contains(string(cfg), bad) {
			t.Errorf("haproxy.cfg has %q without stats_page.enabled", bad)
		}
	}
	resp, err := http.Get(st.HAProxy.URL + "/haproxy?stats")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "Statistics Report") {
		t.Error("the frontend serves HAProxy's stats page")
	}
}

// checkExporterLoopback: the standalone exporter listens on loopback and
// never prints the password.
func checkExporterLoopback(t *testing.T, e env, pwEnv []string, pw string) {
	ex := start(t, pwEnv, e.stackArgs("exporter", "--listen", "127.0.0.1:0")...)
	ex.waitFor("serving", 30*time.Second)
	time.Sleep(300 * time.Millisecond)
	addrs := listensOf(t, ex.pid())
	if len(addrs) == 0 {
		t.Error("the exporter listens on nothing")
	}
	for _, a := range addrs {
		if h, _, _ := net.SplitHostPort(a); h != "127.0.0.1" {
			t.Errorf("exporter listens on %s", a)
		}
	}
	if strings.Contains(ex.stderr.String()+ex.stdout.String(), pw) {
		t.Error("the exporter printed the password")
	}
	ex.signal(2)
	ex.wait(30 * time.Second)
	code, _, stderr := run(t, nil, "exporter", "--help")
	if code != 0 || !strings.Contains(stderr+helpOut(t), `"127.0.0.1:9477"`) {
		t.Errorf("exporter --help does not show the loopback default")
	}
}

// checkPasswordNowhere: neither output, command lines nor files of a stack
// and of a run hold the password.
func checkPasswordNowhere(t *testing.T, e env, up, stOut *proc, pwVar, pw string) {
	pwEnv := []string{pwVar + "=" + pw}
	if strings.Contains(stOut.stdout.String()+stOut.stderr.String(), pw) {
		t.Error("status --json prints the password")
	}
	if strings.Contains(up.stdout.String()+up.stderr.String(), pw) {
		t.Error("up prints the password")
	}
	for pid, cl := range mentioning(e.runDir) {
		if strings.Contains(cl, pw) {
			t.Errorf("pid %d has the password on its command line: %s", pid, cl)
		}
	}
	// A run with the same spec and password: result.json, report.html,
	// stdout and stderr must not hold it either.
	e2 := newEnv(t, seedSpec(specOpts{name: "e2e-safe-run", duration: "3s", passwordEnv: pwVar}))
	p := start(t, pwEnv, e2.runArgs()...)
	p.waitFor("attacking", time.Minute)
	for pid, cl := range mentioning(e2.runDir) {
		if strings.Contains(cl, pw) {
			t.Errorf("pid %d has the password on its command line: %s", pid, cl)
		}
	}
	code := p.wait(2 * time.Minute)
	assertNoOrphans(t, e2.runDir, p)
	if code != 0 && code != 1 {
		p.dump()
		t.Fatalf("run with a password = exit %d", code)
	}
	if r, _ := loadResult(t, e2.results); r.Summary.SuccessRatio < 0.99 {
		t.Errorf("run with a password: success %.3f (the apps cannot authenticate?)", r.Summary.SuccessRatio)
	}
	if strings.Contains(p.stdout.String()+p.stderr.String(), pw) {
		t.Error("run prints the password")
	}
	for _, root := range []string{e.runDir, e2.runDir, e2.results} {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			b, err := os.ReadFile(path)
			if err == nil && strings.Contains(string(b), pw) {
				t.Errorf("%s holds the password", path)
			}
			return nil
		})
	}
}

// helpOut is `duckbench exporter --help`'s stdout.
func helpOut(t *testing.T) string {
	_, out, _ := run(t, nil, "exporter", "--help")
	return out
}
