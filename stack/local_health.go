package stack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/duckbench/duckbench/configgen"
	"github.com/duckbench/duckbench/probes/haproxyprobe"
)

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
		rows, err := haproxyprobe.NewClient(sock).ShowStat(ctx)
		if err != nil {
			return err
		}
		if quick {
			return nil
		}
		var down []string
		for _, r := range rows {
			if r.Type == haproxyprobe.TypeServer && !r.Ready() {
				down = append(down, fmt.Sprintf("%s/%s %s %s", r.Proxy, r.Service, r.Status, r.Fields["check_status"]))
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

// dialDeadline connects to address with the connection deadline set to
// ctx's, or to 5s from now when ctx has none.
func dialDeadline(ctx context.Context, network, address string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(5 * time.Second)
	}
	conn.SetDeadline(dl)
	return conn, nil
}

// redisDo sends one command to the Redis at addr (after AUTH when password
// is set) and returns the reply as text. It is a minimal RESP2 client: the
// driver only needs PING and INFO, and a fresh connection per call keeps
// readiness polling free of pool state and client-library log noise.
func redisDo(ctx context.Context, addr, password string, args ...string) (string, error) {
	conn, err := dialDeadline(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	w := bufio.NewWriter(conn)
	r := bufio.NewReader(conn)
	send := func(args ...string) (string, error) {
		fmt.Fprintf(w, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(w, "$%d\r\n%s\r\n", len(a), a)
		}
		if err := w.Flush(); err != nil {
			return "", err
		}
		return readRESP(r)
	}
	if password != "" {
		if _, err := send("AUTH", password); err != nil {
			return "", fmt.Errorf("auth: %w", err)
		}
	}
	return send(args...)
}

// readRESP reads one simple string, error, integer or bulk string reply.
func readRESP(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", fmt.Errorf("bad bulk length %q", line)
		}
		if n < 0 {
			return "", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}

// infoField returns field from an INFO reply.
func infoField(info, field string) string {
	for _, l := range strings.Split(info, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), ":"); ok && k == field {
			return v
		}
	}
	return ""
}

// httpOK reports whether GET url answers 200.
func httpOK(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := healthClient.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, res.Status)
	}
	return nil
}

// healthClient never keeps connections: health polling must not hold
// sockets to services that are about to be stopped.
var healthClient = &http.Client{
	Timeout:   2 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
}

func tcpOK(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}
