package stack

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

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

// haproxyCmd sends one Runtime API command over the unix socket and returns
// the answer.
func haproxyCmd(ctx context.Context, sock, cmd string) (string, error) {
	conn, err := dialDeadline(ctx, "unix", sock)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, cmd+"\n"); err != nil {
		return "", err
	}
	b, err := io.ReadAll(conn)
	return string(b), err
}

// serverState is one HAProxy server row of `show stat`.
type serverState struct {
	Backend, Server, Status, CheckStatus string
}

// up reports whether HAProxy routes to the server: UP with its last health
// check passed, or "no check" when checks are off.
func (s serverState) up() bool {
	if s.Status == "no check" {
		return true
	}
	if s.Status != "UP" {
		return false
	}
	c := strings.TrimPrefix(s.CheckStatus, "* ")
	return c == "" || strings.HasPrefix(c, "L7OK") || strings.HasPrefix(c, "L4OK") || strings.HasPrefix(c, "L6OK")
}

// parseShowStat parses `show stat` CSV by header name (column positions past
// ~100 differ between HAProxy builds) and returns the server rows.
func parseShowStat(out string) ([]serverState, error) {
	out = strings.TrimPrefix(strings.TrimLeft(out, "\n"), "# ")
	r := csv.NewReader(strings.NewReader(out))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("parse show stat: %w", err)
	}
	if len(recs) == 0 {
		return nil, errors.New("parse show stat: empty answer")
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, h := range []string{"pxname", "svname", "status"} {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("parse show stat: no %q column", h)
		}
	}
	get := func(rec []string, h string) string {
		if i, ok := col[h]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	var out2 []serverState
	for _, rec := range recs[1:] {
		sv := get(rec, "svname")
		if sv == "FRONTEND" || sv == "BACKEND" || sv == "" {
			continue
		}
		out2 = append(out2, serverState{
			Backend: get(rec, "pxname"), Server: sv,
			Status: get(rec, "status"), CheckStatus: get(rec, "check_status"),
		})
	}
	return out2, nil
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
