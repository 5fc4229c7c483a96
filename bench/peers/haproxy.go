package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// serverName is what HAProxy puts in X-Served-By: duckbench attributes
// every response to it.
const serverName = "peer"

// startHAProxy starts HAProxy with one thread on the server core, its only
// frontend answering every request itself, and returns its URL and pid.
func startHAProxy(ctx context.Context, c config, dir string) (url string, pid int, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", 0, nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cfg := fmt.Sprintf(`global
    nbthread 1
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend peers
    bind %s
    http-request return status 200 content-type text/plain string ok hdr X-Served-By %s
`, addr, serverName)
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return "", 0, nil, err
	}
	// taskset execs haproxy: the pid is HAProxy's own, for its CPU time.
	cmd := exec.Command("taskset", "-c", c.serverCore, "haproxy", "-db", "-f", path)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		return "", 0, nil, fmt.Errorf("start haproxy: %w", err)
	}
	stop = func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }
	for i := 0; i < 100 && ctx.Err() == nil; i++ {
		conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			fmt.Fprintf(conn, "GET / HTTP/1.0\r\n\r\n")
			line, _ := bufio.NewReader(conn).ReadString('\n')
			conn.Close()
			if strings.Contains(line, " 200 ") {
				return "http://" + addr + "/", cmd.Process.Pid, stop, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	return "", 0, nil, fmt.Errorf("haproxy did not answer on %s: %s", addr, errb.String())
}
