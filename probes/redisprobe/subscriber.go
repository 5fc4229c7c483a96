package redisprobe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// subConn is one heartbeat subscription: a plain RESP2 connection read so
// that no read ever takes a byte beyond the reply being parsed (lines a
// byte at a time, bulk strings to their exact length). So the kernel's
// receive timestamp of the read that completed a message is that of the
// segment carrying the message's end — its arrival — even when the
// goroutine ran so late that later messages were already waiting (a
// buffered client would read them in the same call and give the earlier
// message the later one's time).
type subConn struct {
	c      net.Conn
	rd     io.Reader    // c, read from when sr is nil
	sr     *stampReader // nil: no kernel timestamps
	stamp  time.Time    // arrival of the last byte read
	inside bool         // part of a reply has been read
}

// errProtocol is a reply that is not RESP2.
var errProtocol = errors.New("malformed RESP reply")

// maxLine bounds a RESP line (a reply's header) and maxBulk a bulk string.
const (
	maxLine = 1 << 10
	maxBulk = 1 << 20
)

func dialSub(ctx context.Context, r *Node) (*subConn, error) {
	o := r.client.Options()
	dctx, cancel := context.WithTimeout(ctx, o.DialTimeout)
	defer cancel()
	c, err := o.Dialer(dctx, "tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("dial %q: %w", r.Name, err)
	}
	s := &subConn{c: c, rd: c, sr: newStampReader(c)}
	if o.Password != "" {
		args := []string{"AUTH", o.Password}
		if o.Username != "" {
			args = []string{"AUTH", o.Username, o.Password}
		}
		if _, err := s.call(o.ReadTimeout, args...); err != nil {
			c.Close()
			return nil, fmt.Errorf("auth on %q: %w", r.Name, err)
		}
	}
	return s, nil
}

// send writes a command.
func (s *subConn) send(timeout time.Duration, args ...string) error {
	b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b = append(b, "$"+strconv.Itoa(len(a))+"\r\n"+a+"\r\n"...)
	}
	_ = s.c.SetWriteDeadline(time.Now().Add(timeout))
	_, err := s.c.Write(b)
	return err
}

// call sends a command and reads its reply.
func (s *subConn) call(timeout time.Duration, args ...string) (any, error) {
	if err := s.send(timeout, args...); err != nil {
		return nil, err
	}
	_ = s.c.SetReadDeadline(time.Now().Add(timeout))
	return s.reply()
}

// fill reads exactly len(b) bytes.
func (s *subConn) fill(b []byte) error {
	for len(b) > 0 {
		var (
			n   int
			at  time.Time
			err error
		)
		if s.sr != nil {
			n, at, err = s.sr.read(b)
		} else {
			n, err = s.rd.Read(b)
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return io.EOF
		}
		if at.IsZero() {
			at = time.Now()
		}
		s.inside, s.stamp, b = true, at, b[n:]
	}
	return nil
}

func (s *subConn) line() (string, error) {
	var buf []byte
	var one [1]byte
	for len(buf) < maxLine {
		if err := s.fill(one[:]); err != nil {
			return "", err
		}
		buf = append(buf, one[0])
		if n := len(buf); n >= 2 && buf[n-2] == '\r' && buf[n-1] == '\n' {
			return string(buf[:n-2]), nil
		}
	}
	return "", fmt.Errorf("%w: a line over %d bytes", errProtocol, maxLine)
}

// reply reads one RESP2 reply: a string, an int64, nil, a []any, or an
// error reply as a Go error (after the whole reply was read).
func (s *subConn) reply() (any, error) {
	s.inside = false
	return s.value(0)
}

// value reads one value; depth is its nesting in arrays (at most 4).
func (s *subConn) value(depth int) (any, error) {
	l, err := s.line()
	if err != nil {
		return nil, err
	}
	if l == "" {
		return nil, errProtocol
	}
	switch l[0] {
	case '+':
		return l[1:], nil
	case '-':
		return nil, fmt.Errorf("redis: %s", l[1:])
	case ':':
		return strconv.ParseInt(l[1:], 10, 64)
	case '$':
		n, err := strconv.Atoi(l[1:])
		if err != nil || n > maxBulk {
			return nil, fmt.Errorf("%w: bulk header %q", errProtocol, l)
		}
		if n < 0 {
			return nil, nil
		}
		b := make([]byte, n+2)
		if err := s.fill(b); err != nil {
			return nil, err
		}
		return string(b[:n]), nil
	case '*':
		n, err := strconv.Atoi(l[1:])
		if err != nil || n > 16 || depth >= 4 {
			return nil, fmt.Errorf("%w: array header %q", errProtocol, l)
		}
		arr := make([]any, 0, max(n, 0))
		for range n {
			v, err := s.value(depth + 1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		return arr, nil
	}
	return nil, fmt.Errorf("%w: type %q", errProtocol, l[0])
}

// push is a "message" push of a subscription: channel and payload.
func push(v any) (kind, channel, payload string) {
	arr, _ := v.([]any)
	if len(arr) == 0 {
		return "", "", ""
	}
	kind, _ = arr[0].(string)
	if len(arr) >= 3 {
		channel, _ = arr[1].(string)
		payload, _ = arr[2].(string)
	}
	return kind, channel, payload
}
