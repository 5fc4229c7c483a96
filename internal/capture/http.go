package capture

import (
	"bytes"
	"net/netip"
	"time"
)

// Exchange is one HTTP/1.1 request and its response on one connection, as
// the wire carried them.
type Exchange struct {
	Client netip.AddrPort // the connection's client end
	// Path is the request target of the request line.
	Path string
	// Sent is when the request's first byte went out, or, for the first
	// request of a connection the capture saw open, when its SYN did (the
	// client's clock starts before it connects).
	Sent time.Time
	// Received is when the response's last byte came back: the last
	// server→client payload before the connection's next request (or its
	// end). Zero when no response came.
	Received time.Time
}

var methods = [][]byte{[]byte("GET "), []byte("POST "), []byte("PUT "), []byte("DELETE "), []byte("HEAD "), []byte("PATCH "), []byte("OPTIONS ")}

// Exchanges puts together the exchanges of every connection to server
// (requests without pipelining: each response ends before the next request
// of its connection starts, as an HTTP/1.1 client with keep-alive does).
// A client→server payload that starts with a method opens a request; any
// other client→server payload continues the current one. Exchanges come
// in the order their requests were sent.
func Exchanges(segs []Segment, server netip.AddrPort) []Exchange {
	type flow struct {
		syn  time.Time
		cur  int // index in out of the open exchange, -1 none
		seen bool
	}
	flows := map[netip.AddrPort]*flow{}
	var out []Exchange
	get := func(c netip.AddrPort) *flow {
		f := flows[c]
		if f == nil {
			f = &flow{cur: -1}
			flows[c] = f
		}
		return f
	}
	for _, s := range segs {
		switch {
		case s.Dst == server:
			f := get(s.Src)
			if s.SYN {
				f.syn = s.At
				continue
			}
			if !isRequest(s.Payload) {
				continue
			}
			e := Exchange{Client: s.Src, Path: requestPath(s.Payload), Sent: s.At}
			if !f.seen && !f.syn.IsZero() {
				e.Sent = f.syn
			}
			f.seen, f.cur = true, len(out)
			out = append(out, e)
		case s.Src == server && len(s.Payload) > 0:
			if f := flows[s.Dst]; f != nil && f.cur >= 0 {
				out[f.cur].Received = s.At
			}
		}
	}
	return out
}

func isRequest(p []byte) bool {
	for _, m := range methods {
		if bytes.HasPrefix(p, m) {
			return true
		}
	}
	return false
}

// requestPath is the target of a request line "METHOD target HTTP/x".
func requestPath(p []byte) string {
	line, _, _ := bytes.Cut(p, []byte("\r\n"))
	_, rest, _ := bytes.Cut(line, []byte(" "))
	target, _, _ := bytes.Cut(rest, []byte(" "))
	return string(target)
}
