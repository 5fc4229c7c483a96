package haproxyprobe

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// Client talks to HAProxy's Runtime API, one connection per command
// (non-interactive mode: HAProxy closes after the reply).
type Client struct {
	network, addr string
}

// NewClient returns a client for a unix socket path ("/run/haproxy.sock",
// "unix:/…") or a TCP address ("127.0.0.1:9999", "tcp://127.0.0.1:9999").
func NewClient(addr string) *Client {
	switch {
	case strings.HasPrefix(addr, "unix:"):
		return &Client{"unix", strings.TrimPrefix(strings.TrimPrefix(addr, "unix:"), "//")}
	case strings.HasPrefix(addr, "tcp://"):
		return &Client{"tcp", strings.TrimPrefix(addr, "tcp://")}
	case strings.Contains(addr, "/") || !strings.Contains(addr, ":"):
		return &Client{"unix", addr}
	}
	return &Client{"tcp", addr}
}

// Addr is the socket the client dials.
func (c *Client) Addr() string { return c.network + ":" + c.addr }

// Command runs one Runtime API command and returns its reply.
func (c *Client) Command(ctx context.Context, cmd string) ([]byte, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, c.network, c.addr)
	if err != nil {
		return nil, fmt.Errorf("dial haproxy runtime api %s: %w", c.Addr(), err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	}
	if _, err := io.WriteString(conn, cmd+"\n"); err != nil {
		return nil, fmt.Errorf("send %q to haproxy: %w", cmd, err)
	}
	b, err := io.ReadAll(conn)
	if err != nil {
		return nil, fmt.Errorf("read %q reply from haproxy: %w", cmd, err)
	}
	if bytes.HasPrefix(b, []byte("Unknown command")) || bytes.HasPrefix(b, []byte("Permission denied")) {
		return nil, fmt.Errorf("haproxy %q: %s", cmd, bytes.TrimSpace(b))
	}
	return b, nil
}

// ShowStat runs `show stat` and parses it.
func (c *Client) ShowStat(ctx context.Context) ([]StatRow, error) {
	b, err := c.Command(ctx, "show stat")
	if err != nil {
		return nil, err
	}
	return ParseStat(bytes.NewReader(b))
}

// ShowInfo runs `show info` and parses it.
func (c *Client) ShowInfo(ctx context.Context) (map[string]string, error) {
	b, err := c.Command(ctx, "show info")
	if err != nil {
		return nil, err
	}
	return ParseInfo(bytes.NewReader(b))
}
