package load

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// h1Transport is a lean HTTP/1.1 client transport for plain http:// targets.
// net/http's Transport hands every request to two goroutines per
// connection (readLoop, writeLoop) and back; on a load generator that runs
// out of CPU before the server does, those hand-offs are a good part of the
// cost. Here the worker goroutine writes the request and reads the response
// itself on a pooled keep-alive connection: one connection per worker at a
// time, as the worker cap already bounds connections. Responses are parsed
// by net/http (http.ReadResponse), so framing (content-length, chunked,
// Connection: close) follows the standard library.
type h1Transport struct {
	dialer    *net.Dialer
	keepAlive bool
	timeout   time.Duration     // whole request, response body included
	fallback  http.RoundTripper // https and anything unusual

	mu   sync.Mutex
	idle map[string][]*h1conn
}

type h1conn struct {
	net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

// newH1Transport applies timeout itself: the http.Client using it must have
// none, or net/http starts a timer goroutine per request.
func newH1Transport(d *net.Dialer, keepAlive bool, timeout time.Duration, fallback http.RoundTripper) *h1Transport {
	return &h1Transport{dialer: d, keepAlive: keepAlive, timeout: timeout, fallback: fallback, idle: map[string][]*h1conn{}}
}

func (t *h1Transport) get(addr string) *h1conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.idle[addr]
	if n := len(l); n > 0 {
		c := l[n-1]
		t.idle[addr] = l[:n-1]
		return c
	}
	return nil
}

func (t *h1Transport) put(addr string, c *h1conn) {
	t.mu.Lock()
	t.idle[addr] = append(t.idle[addr], c)
	t.mu.Unlock()
}

// CloseIdleConnections closes the pooled connections.
func (t *h1Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = map[string][]*h1conn{}
	t.mu.Unlock()
	for _, l := range idle {
		for _, c := range l {
			c.Close()
		}
	}
	if ci, ok := t.fallback.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// RoundTrip implements http.RoundTripper.
func (t *h1Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" || req.Method == http.MethodConnect {
		ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
		resp, err := t.fallback.RoundTrip(req.WithContext(ctx))
		if err != nil {
			cancel()
			return nil, err
		}
		resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
		return resp, nil
	}
	addr := hostPort(req.URL.Host)
	ctx := req.Context()
	// The timeout bounds the whole request: dial, write, headers and body.
	dl := time.Now().Add(t.timeout)
	for attempt := 0; ; attempt++ {
		c, reused := t.get(addr), true
		if c == nil {
			markSend(ctx) // a new connection's request goes out with its SYN
			dctx, cancel := context.WithDeadline(ctx, dl)
			nc, err := t.dialer.DialContext(dctx, "tcp", addr)
			cancel()
			if err != nil {
				return nil, err
			}
			c, reused = &h1conn{Conn: nc, br: bufio.NewReaderSize(nc, 4096), bw: bufio.NewWriterSize(nc, 4096)}, false
		}
		resp, err := t.roundTrip(ctx, c, req, dl, reused)
		if err == nil {
			return resp, nil
		}
		c.Close()
		// A pooled connection the server closed while idle: retry once on a
		// fresh one if nothing of the request can have been processed.
		if reused && attempt == 0 && req.Body == nil && isStale(err) {
			continue
		}
		return nil, err
	}
}

// sendMark receives the instant a request went out, read as near the wire
// as user space can: before the dial of a new connection (the wire shows
// the request's start as its SYN), or before the request is written to a
// pooled one. The worker's own reading, taken before the request was built,
// runs early by however long building it and being scheduled took: on a
// busy 2-core host up to a few hundred µs (TestCaptureTiming).
type sendMark struct{ at time.Time }

type sendMarkKey struct{}

func withSendMark(ctx context.Context, m *sendMark) context.Context {
	return context.WithValue(ctx, sendMarkKey{}, m)
}

// markSend notes now in ctx's sendMark, if it has one.
func markSend(ctx context.Context) {
	if m, ok := ctx.Value(sendMarkKey{}).(*sendMark); ok {
		m.at = time.Now()
	}
}

func isStale(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe")
}

// max1xx bounds the interim responses read past before the final one.
const max1xx = 16

func (t *h1Transport) roundTrip(ctx context.Context, c *h1conn, req *http.Request, dl time.Time, reused bool) (*http.Response, error) {
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	if err := c.SetDeadline(dl); err != nil {
		return nil, err
	}
	if !t.keepAlive {
		req.Close = true
	}
	stop := func() bool { return true }
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	}
	if reused {
		markSend(ctx)
	}
	if err := req.Write(c.bw); err != nil {
		stop()
		return nil, err
	}
	if err := c.bw.Flush(); err != nil {
		stop()
		return nil, err
	}
	resp, err := readFinal(c.br, req)
	if err != nil {
		stop()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return nil, fmt.Errorf("%w (timeout %s exceeded while awaiting headers)", err, t.timeout)
		}
		return nil, err
	}
	resp.Body = &h1body{ReadCloser: resp.Body, t: t, c: c, addr: hostPort(req.URL.Host), reuse: t.keepAlive && !resp.Close && !req.Close, stop: stop}
	return resp, nil
}

// readFinal reads past 1xx interim responses (103 Early Hints, 100
// Continue) to the final response, as net/http does; 101 Switching
// Protocols is final.
func readFinal(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	for n := 0; ; n++ {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode < 100 || resp.StatusCode > 199 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, nil
		}
		if n >= max1xx {
			return nil, fmt.Errorf("too many 1xx informational responses (%d)", n+1)
		}
	}
}

// h1body gives the connection back to the pool once the body is read.
type h1body struct {
	io.ReadCloser
	t     *h1Transport
	c     *h1conn
	addr  string
	reuse bool
	stop  func() bool
	eof   bool
	done  bool
}

func (b *h1body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof = true
	} else if err != nil {
		b.reuse = false
	}
	return n, err
}

func (b *h1body) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	if !b.eof {
		// drain what is left so the connection can be reused
		if _, err := io.Copy(io.Discard, b.ReadCloser); err != nil {
			b.reuse = false
		}
	}
	err := b.ReadCloser.Close()
	if !b.stop() { // the context fired: the deadline was forced
		b.reuse = false
	}
	if b.reuse && err == nil {
		b.t.put(b.addr, b.c)
	} else {
		b.c.Close()
	}
	return err
}

func hostPort(h string) string {
	if _, _, err := net.SplitHostPort(h); err == nil {
		return h
	}
	return h + ":80"
}

// cancelBody cancels a request's timeout context once its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
