package load

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The wire path: plain http:// targets are sent by the worker goroutine
// itself on a connection of its own, no net/http in between. The request
// is the target's pre-serialised bytes with the key spliced in
// (targeter.appendWire), written with one write; the response is read by
// readResponse (status line, the few headers that matter, the body
// discarded in the reader's buffer). A request/response cycle on a
// keep-alive connection allocates nothing (TestWireRoundTripAllocs).
// https:// targets, and every target when DUCKBENCH_STD_TRANSPORT is set,
// go through net/http (hitHTTP).

// wireConn is one keep-alive connection, owned by one worker at a time.
type wireConn struct {
	nc net.Conn
	br *bufio.Reader
}

// connPool keeps the connections of workers that returned (the warm-up's,
// a shrinking pool's) for the next workers, and closes them at the end.
type connPool struct {
	mu    sync.Mutex
	conns []*wireConn
}

func (p *connPool) put(c *wireConn) {
	p.mu.Lock()
	p.conns = append(p.conns, c)
	p.mu.Unlock()
}

func (p *connPool) get() *wireConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.conns)
	if n == 0 {
		return nil
	}
	c := p.conns[n-1]
	p.conns = p.conns[:n-1]
	return c
}

// closeAll closes the pooled connections.
func (p *connPool) closeAll() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range conns {
		c.nc.Close()
	}
}

// wireBufSize is a connection's read buffer: a response's status line and
// headers must fit (readResponse).
const wireBufSize = 4096

// hitWire sends w.buf, the request of r, and reads its response.
func (w *worker) hitWire(r *result, sent time.Time) {
	info, err := w.roundTrip(sent, r.Method, len(w.a.tgt.targets[r.target].body) == 0, nil)
	end := time.Now()
	r.sent, r.service = sent, end.Sub(sent)
	if err != nil {
		r.Error = err.Error()
		return
	}
	r.Code = uint16(info.Code)
	r.BytesIn = uint64(info.BodyBytes)
	r.BytesOut = uint64(len(w.a.tgt.targets[r.target].body))
	if info.Code < 200 || info.Code >= 400 {
		r.Error = statusText(info.Code)
	}
	r.servedBy = w.serverName(info.ServedBy)
}

// roundTrip writes w.buf on the worker's connection (dialling one if it
// has none) and reads the response. The timeout bounds the whole request
// from sent: dial, write, headers and body. A pooled connection the server
// closed while idle is retried once on a fresh one when nothing of the
// request can have been processed.
func (w *worker) roundTrip(sent time.Time, method string, retryable bool, hooks *readHooks) (respInfo, error) {
	a := w.a
	dl := sent.Add(a.timeout)
	for attempt := 0; ; attempt++ {
		reused := true
		if w.conn == nil {
			w.conn = a.pool.get()
		}
		if w.conn == nil {
			reused = false
			d := net.Dialer{Deadline: dl, KeepAlive: 30 * time.Second}
			nc, err := d.Dial("tcp", a.addr)
			if err != nil {
				return respInfo{}, err
			}
			w.conn = &wireConn{nc: nc, br: bufio.NewReaderSize(nc, wireBufSize)}
		}
		c := w.conn
		info, err := w.exchange(c, dl, method, hooks)
		if err == nil {
			if info.Close {
				w.closeConn()
			}
			return info, nil
		}
		w.closeConn()
		if reused && attempt == 0 && retryable && isStale(err) {
			continue
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return info, fmt.Errorf("%w (timeout %s exceeded while awaiting headers)", err, a.timeout)
		}
		return info, err
	}
}

// exchange is one request and response on c.
func (w *worker) exchange(c *wireConn, dl time.Time, method string, hooks *readHooks) (respInfo, error) {
	if err := c.nc.SetDeadline(dl); err != nil {
		return respInfo{}, err
	}
	if _, err := c.nc.Write(w.buf); err != nil {
		return respInfo{}, err
	}
	return readResponse(c.br, method, !w.a.keepAlive, hooks)
}

func (w *worker) closeConn() {
	if w.conn != nil {
		w.conn.nc.Close()
		w.conn = nil
	}
}

// statusTexts holds "NNN Reason" for every status code 100–599: a failed
// response's error, without building it per response.
var statusTexts = func() []string {
	s := make([]string, 600)
	for c := range s {
		if c >= 100 {
			s[c] = strconv.Itoa(c) + " " + http.StatusText(c)
		}
	}
	return s
}()

func statusText(code int) string {
	if code >= 0 && code < len(statusTexts) && statusTexts[code] != "" {
		return statusTexts[code]
	}
	return strconv.Itoa(code)
}

// hitHTTP sends r's request through net/http (https targets, or
// DUCKBENCH_STD_TRANSPORT) and times it.
func (w *worker) hitHTTP(ctx context.Context, r *result, sent time.Time) {
	a := w.a
	tg := &a.tgt.targets[r.target]
	var err error
	defer func() {
		if r.sent.IsZero() {
			r.sent, r.service = sent, time.Since(sent)
		}
		if err != nil && r.Error == "" {
			r.Error = err.Error()
		}
	}()
	w.buf = a.tgt.appendURL(w.buf[:0], r.target, r.key)
	vt := vegetaTarget(tg, string(w.buf))
	req, err := vt.Request()
	if err != nil {
		return
	}
	req = req.WithContext(ctx)
	resp, err := a.client.Do(req)
	if err != nil {
		return
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	r.sent, r.service = sent, time.Since(sent)
	r.BytesIn = uint64(n)
	if req.ContentLength > 0 {
		r.BytesOut = uint64(req.ContentLength)
	}
	if err != nil {
		return
	}
	r.Code = uint16(resp.StatusCode)
	if r.Code < 200 || r.Code >= 400 {
		r.Error = resp.Status
	}
	if v := resp.Header.Get(ServedByHeader); v != "" {
		r.servedBy = w.serverName([]byte(v))
	}
}

func isStale(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe")
}

func hostPort(h string) string {
	if _, _, err := net.SplitHostPort(h); err == nil {
		return h
	}
	return h + ":80"
}
