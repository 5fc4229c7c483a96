package load

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/spec"
)

// rawCase scripts a server's raw HTTP/1.x bytes for the n-th request on a
// connection; close ends the connection after the reply.
type rawCase struct {
	name   string
	method string
	reqs   int           // requests sent one after another on one client
	pause  time.Duration // between requests
	reply  func(w *bufio.Writer, n int) (close bool)
	// idleClose closes a connection this long after each reply.
	idleClose time.Duration
	want      []outcome
}

// outcome is what a client saw of one request.
type outcome struct {
	Status  int
	Body    string
	Header  string // X-Case
	Trailer string // X-T
	Err     bool
}

func ok200(body string) func(w *bufio.Writer, n int) bool {
	return func(w *bufio.Writer, n int) bool {
		fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nX-Case: %d\r\nContent-Length: %d\r\n\r\n%s", n, len(body), body)
		return false
	}
}

var rawCases = []rawCase{
	{name: "1xx then 200 on keep-alive", reqs: 3, reply: func(w *bufio.Writer, n int) bool {
		io.WriteString(w, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
		io.WriteString(w, "HTTP/1.1 100 Continue\r\n\r\n")
		fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nX-Case: %d\r\nContent-Length: 2\r\n\r\nok", n)
		return false
	}, want: []outcome{{Status: 200, Body: "ok", Header: "0"}, {Status: 200, Body: "ok", Header: "1"}, {Status: 200, Body: "ok", Header: "2"}}},
	{name: "chunked", reqs: 2, reply: func(w *bufio.Writer, n int) bool {
		fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nX-Case: %d\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", n)
		return false
	}, want: []outcome{{Status: 200, Body: "abcde", Header: "0"}, {Status: 200, Body: "abcde", Header: "1"}}},
	{name: "trailers", reqs: 2, reply: func(w *bufio.Writer, n int) bool {
		fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nX-Case: %d\r\nTrailer: X-T\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-T: t%d\r\n\r\n", n, n)
		return false
	}, want: []outcome{{Status: 200, Body: "hi", Header: "0", Trailer: "t0"}, {Status: 200, Body: "hi", Header: "1", Trailer: "t1"}}},
	{name: "Connection: close", reqs: 2, reply: func(w *bufio.Writer, n int) bool {
		fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nX-Case: %d\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye", n)
		return true
	}, want: []outcome{{Status: 200, Body: "bye", Header: "0"}, {Status: 200, Body: "bye", Header: "0"}}},
	{name: "HTTP/1.0 body to EOF", reqs: 2, reply: func(w *bufio.Writer, n int) bool {
		fmt.Fprintf(w, "HTTP/1.0 200 OK\r\nX-Case: %d\r\n\r\nold body", n)
		return true
	}, want: []outcome{{Status: 200, Body: "old body", Header: "0"}, {Status: 200, Body: "old body", Header: "0"}}},
	{name: "HEAD with Content-Length", method: http.MethodHead, reqs: 2, reply: func(w *bufio.Writer, n int) bool {
		fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nX-Case: %d\r\nContent-Length: 1000\r\n\r\n", n)
		return false
	}, want: []outcome{{Status: 200, Header: "0"}, {Status: 200, Header: "1"}}},
	{name: "204 and 304 without body", reqs: 3, reply: func(w *bufio.Writer, n int) bool {
		code := []string{"204 No Content", "304 Not Modified", "200 OK"}[n%3]
		fmt.Fprintf(w, "HTTP/1.1 %s\r\nX-Case: %d\r\n\r\n", code, n)
		if n%3 == 2 {
			io.WriteString(w, "") // 200 without length on keep-alive: body to EOF
			return true
		}
		return false
	}, want: []outcome{{Status: 204, Header: "0"}, {Status: 304, Header: "1"}, {Status: 200, Header: "2"}}},
	{name: "large body", reqs: 2, reply: ok200(strings.Repeat("0123456789abcdef", 1<<16)),
		want: []outcome{{Status: 200, Body: strings.Repeat("0123456789abcdef", 1<<16), Header: "0"}, {Status: 200, Body: strings.Repeat("0123456789abcdef", 1<<16), Header: "1"}}},
	{name: "server closes an idle connection", reqs: 2, pause: 150 * time.Millisecond, idleClose: 30 * time.Millisecond,
		reply: ok200("ok"), want: []outcome{{Status: 200, Body: "ok", Header: "0"}, {Status: 200, Body: "ok", Header: "0"}}},
}

// serveRaw answers every connection with tc's script.
func serveRaw(t *testing.T, tc rawCase) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br, bw := bufio.NewReader(c), bufio.NewWriter(c)
				for n := 0; ; n++ {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					closeAfter := tc.reply(bw, n)
					bw.Flush()
					if closeAfter {
						return
					}
					if tc.idleClose > 0 {
						c.SetReadDeadline(time.Now().Add(tc.idleClose))
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func runRaw(t *testing.T, rt http.RoundTripper, url string, tc rawCase) []outcome {
	t.Helper()
	cl := &http.Client{Transport: rt, Timeout: 5 * time.Second}
	defer cl.CloseIdleConnections()
	var out []outcome
	for i := 0; i < tc.reqs; i++ {
		if i > 0 {
			time.Sleep(tc.pause)
		}
		m := tc.method
		if m == "" {
			m = http.MethodGet
		}
		req, _ := http.NewRequest(m, url+"/x", nil)
		resp, err := cl.Do(req)
		if err != nil {
			out = append(out, outcome{Err: true})
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		out = append(out, outcome{Status: resp.StatusCode, Body: string(b), Header: resp.Header.Get("X-Case"),
			Trailer: resp.Trailer.Get("X-T"), Err: err != nil})
	}
	return out
}

// runWire sends tc's requests as a worker does on the wire path: its own
// connection, the target's pre-serialised request, readResponse.
func runWire(t *testing.T, url string, tc rawCase) []outcome {
	t.Helper()
	m := tc.method
	if m == "" {
		m = http.MethodGet
	}
	a, err := New(spec.Workload{Targets: []spec.Target{{Method: m, Path: "/x"}}}, url)
	if err != nil {
		t.Fatal(err)
	}
	if !a.wire {
		t.Fatal("an http:// target did not take the wire path")
	}
	w := &worker{a: a, st: &workerState{}}
	defer w.closeConn()
	var out []outcome
	for i := 0; i < tc.reqs; i++ {
		if i > 0 {
			time.Sleep(tc.pause)
		}
		var o outcome
		var body strings.Builder
		hooks := &readHooks{
			Header: func(name, value []byte) {
				if strings.EqualFold(string(name), "X-Case") && o.Header == "" {
					o.Header = string(value)
				}
			},
			Trailer: func(name, value []byte) {
				if strings.EqualFold(string(name), "X-T") && o.Trailer == "" {
					o.Trailer = string(value)
				}
			},
			Body: &body,
		}
		w.buf = a.tgt.appendWire(w.buf[:0], 0, -1)
		info, err := w.roundTrip(time.Now(), m, true, hooks)
		if err != nil {
			out = append(out, outcome{Err: true})
			continue
		}
		o.Status, o.Body = info.Code, body.String()
		out = append(out, o)
	}
	return out
}

// TestTransportMatchesNetHTTP runs one battery of HTTP/1.x edge cases
// through duckbench's transport and net/http's and wants the same, right,
// outcome from both.
func TestTransportMatchesNetHTTP(t *testing.T) {
	t.Parallel()
	for _, tc := range rawCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := serveRaw(t, tc)
			std := &http.Transport{DisableCompression: true}
			gotStd := runRaw(t, std, url, tc)
			gotOurs := runWire(t, url, tc)
			if fmt.Sprintf("%+v", gotStd) != fmt.Sprintf("%+v", gotOurs) {
				t.Errorf("duckbench transport = %+v\nnet/http          = %+v; want equal", short(gotOurs), short(gotStd))
			}
			if fmt.Sprintf("%+v", gotOurs) != fmt.Sprintf("%+v", tc.want) {
				t.Errorf("outcomes = %+v; want %+v", short(gotOurs), short(tc.want))
			}
		})
	}
}

func short(os []outcome) []outcome {
	out := append([]outcome(nil), os...)
	for i := range out {
		if len(out[i].Body) > 40 {
			out[i].Body = fmt.Sprintf("%s…(%d bytes)", out[i].Body[:20], len(out[i].Body))
		}
	}
	return out
}
