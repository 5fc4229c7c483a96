package load

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/duckbench/duckbench/spec"
)

// serveFixed answers every request on every connection with resp: it reads
// until the end of a request's headers (requests without a body) into a
// fixed buffer and writes the same bytes, so that it allocates nothing per
// request itself.
func serveFixed(t testing.TB, resp string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	out := []byte(resp)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 64<<10)
				have := 0
				for {
					n, err := c.Read(buf[have:])
					if err != nil {
						return
					}
					have += n
					for {
						i := bytes.Index(buf[:have], []byte("\r\n\r\n"))
						if i < 0 {
							break
						}
						if _, err := c.Write(out); err != nil {
							return
						}
						have = copy(buf, buf[i+4:have])
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestWireRoundTripAllocs: in the steady state, a worker's whole cycle on a
// keep-alive connection — draw the request, serialise it with its key,
// send it, read and discard the response, time it, record the result in
// its outbox, and the consumer taking the outbox — allocates nothing.
func TestWireRoundTripAllocs(t *testing.T) {
	for _, tc := range []struct{ name, resp string }{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Served-By: app1\r\nContent-Length: 2\r\n\r\nok"},
		{"chunked", "HTTP/1.1 200 OK\r\nX-Served-By: app2\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
		{"503", "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := serveFixed(t, tc.resp)
			a, err := New(spec.Workload{Rate: spec.RateMax, Keys: spec.Keys{Count: 1000}}, url)
			if err != nil {
				t.Fatal(err)
			}
			defer a.closeIdle()
			s := newScheduler(a, time.Now())
			w := &worker{s: s, a: a, st: &workerState{}}
			defer w.closeConn()
			ctx := context.Background()
			cycle := func() {
				var r result
				w.prepare(&r)
				w.send(ctx, &r)
				w.st.box.put(&r)
				if r.Error != "" && r.Code == 0 {
					t.Fatalf("request failed: %s", r.Error)
				}
				w.st.box.take()
			}
			for range 100 { // warm: connection, buffers, interned names
				cycle()
			}
			if n := testing.AllocsPerRun(2000, cycle); n != 0 {
				t.Errorf("allocations per request/response cycle = %v; want 0", n)
			}
			var r result
			w.prepare(&r)
			w.send(ctx, &r)
			if r.Code == 0 || r.service <= 0 || r.sent.IsZero() {
				t.Errorf("result = %+v; want a timed response", r)
			}
		})
	}
}

// BenchmarkWireRoundTrip is a worker's cycle against a local server that
// answers at once (the server's cost is in the figure too).
func BenchmarkWireRoundTrip(b *testing.B) {
	url := serveFixed(b, "HTTP/1.1 200 OK\r\nX-Served-By: app1\r\nContent-Length: 2\r\n\r\nok")
	a, err := New(spec.Workload{Rate: spec.RateMax}, url)
	if err != nil {
		b.Fatal(err)
	}
	defer a.closeIdle()
	w := &worker{s: newScheduler(a, time.Now()), a: a, st: &workerState{}}
	defer w.closeConn()
	b.ReportAllocs()
	for b.Loop() {
		var r result
		w.prepare(&r)
		w.send(context.Background(), &r)
		w.st.box.put(&r)
		w.st.box.take()
	}
}
