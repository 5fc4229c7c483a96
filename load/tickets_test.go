package load

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"net/http"
	"reflect"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/duckbench/duckbench/spec"
)

// TestTicketsEachHitOnce: with many workers taking tickets at once, every
// hit of the schedule is sent exactly once — hit numbers 0…N−1, none twice,
// none missing, N = ⌈rate × duration⌉ — and each is timed from its own due
// time (the pacer's, not the send's). A rate-max attack numbers its hits
// 0…N−1 too.
func TestTicketsEachHitOnce(t *testing.T) {
	t.Parallel()
	srv := twoApps(t, 2*time.Millisecond)
	for _, w := range []spec.Workload{
		{Rate: 2000, Duration: spec.Duration(time.Second), Workers: 32},
		{Rate: spec.RateMax, Duration: spec.Duration(300 * time.Millisecond), Connections: 16},
	} {
		var raw bytes.Buffer
		a, err := New(w, srv.URL, WithRaw(&raw))
		if err != nil {
			t.Fatal(err)
		}
		rep := run(t, w, srv.URL, WithRaw(&raw))
		seen := map[uint64]int{}
		dec := vegeta.NewDecoder(&raw)
		for {
			var r vegeta.Result
			err := dec.Decode(&r)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			seen[r.Seq]++
			if !w.Rate.IsMax() {
				due := a.pacer.At(r.Seq)
				if got := r.Timestamp.Sub(rep.StartedAt); got != due {
					t.Errorf("hit %d: timestamp %v after the start; want its due time %v", r.Seq, got, due)
				}
			}
		}
		n := uint64(len(seen))
		if !w.Rate.IsMax() {
			want := uint64(math.Ceil(float64(w.Rate) * w.Duration.D().Seconds()))
			if n != want {
				t.Errorf("rate %v: %d distinct hits; want %d", w.Rate, n, want)
			}
		}
		for seq, c := range seen {
			if c != 1 || seq >= n {
				t.Errorf("rate %v: hit %d seen %d times (of %d hits); want once each, numbered 0…%d", w.Rate, seq, c, n, n-1)
			}
		}
		if n != rep.Summary.Requests {
			t.Errorf("rate %v: %d hits in the raw file, %d in the report", w.Rate, n, rep.Summary.Requests)
		}
	}
}

// TestWireRequestMatchesNetHTTP: a target's pre-serialised request, key
// spliced in, reads back (http.ReadRequest) as the request net/http builds
// for the same target writes: method, request URI, Host, headers and body.
func TestWireRequestMatchesNetHTTP(t *testing.T) {
	off := false
	for _, tc := range []struct {
		name string
		base string
		w    spec.Workload
	}{
		{"plain key", "http://127.0.0.1:6301", spec.Workload{}},
		{"base path, query and two keys", "http://h.example:8080/api/", spec.Workload{Targets: []spec.Target{{Path: "/kv/{key}/x?from={key}&a=b%20c"}}}},
		{"post with body and headers", "http://127.0.0.1:6301", spec.Workload{Targets: []spec.Target{{Method: "post", Path: "/kv/{key}", Body: "v=1",
			Headers: map[string]string{"Content-Type": "text/plain", "X-Trace": "yes"}}}}},
		{"empty post", "http://127.0.0.1:6301", spec.Workload{Targets: []spec.Target{{Method: "POST", Path: "/reset"}}}},
		{"host override, no keep-alive", "http://127.0.0.1:6301", spec.Workload{KeepAlive: &off,
			Targets: []spec.Target{{Path: "/kv/{key}", Headers: map[string]string{"Host": "app.internal"}}}}},
		{"key prefix to escape", "http://127.0.0.1:6301", spec.Workload{Keys: spec.Keys{Prefix: "a b/é"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg, err := newTargeter(tc.w, tc.base)
			if err != nil {
				t.Fatal(err)
			}
			// the targeter keeps the workload's keep-alive in the bytes
			for _, key := range []int{0, 7, 123456} {
				wire := tg.appendWire(nil, 0, key)
				vt := vegetaTarget(&tg.targets[0], string(tg.appendURL(nil, 0, key)))
				req, err := vt.Request()
				if err != nil {
					t.Fatal(err)
				}
				if req.Header.Get("User-Agent") == "" {
					req.Header.Set("User-Agent", "duckbench")
				}
				req.Close = tc.w.KeepAlive != nil && !*tc.w.KeepAlive
				var std bytes.Buffer
				if err := req.Write(&std); err != nil {
					t.Fatal(err)
				}
				got, want := readBack(t, wire), readBack(t, std.Bytes())
				if !reflect.DeepEqual(got, want) {
					t.Errorf("key %d: wire request\n%q\nreads as %+v;\nnet/http's\n%q\nreads as %+v", key, wire, got, std.Bytes(), want)
				}
			}
		})
	}
}

type readRequest struct {
	Method, URI, Host string
	Header            http.Header
	Body              string
	Close             bool
}

func readBack(t *testing.T, b []byte) readRequest {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(b))
	req, err := http.ReadRequest(br)
	if err != nil {
		t.Fatalf("ReadRequest(%q): %v", b, err)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	if rest, _ := io.ReadAll(br); len(rest) > 0 {
		t.Errorf("%q: %d bytes after the request", b, len(rest))
	}
	return readRequest{Method: req.Method, URI: req.RequestURI, Host: req.Host, Header: req.Header, Body: string(body), Close: req.Close}
}
