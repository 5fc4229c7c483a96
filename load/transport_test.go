package load

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duckbench/duckbench/spec"
)

func TestTransportTimeout(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
	}))
	t.Cleanup(srv.Close)
	rep := run(t, spec.Workload{Rate: 10, Duration: spec.Duration(300 * time.Millisecond), Timeout: spec.Duration(50 * time.Millisecond)}, srv.URL)
	if rep.Summary.Requests == 0 || rep.Summary.Success != 0 {
		t.Fatalf("Summary = %+v; want every request to time out", rep.Summary)
	}
	if f := rep.Summary.FailureLatency; f == nil || f.Max > 0.25 {
		t.Errorf("FailureLatency %+v; want a max of about the 50ms timeout", f)
	}
	var timeout bool
	for k := range rep.Summary.ErrorKinds {
		timeout = timeout || strings.Contains(k, "timeout")
	}
	if !timeout {
		t.Errorf("ErrorKinds = %v; want a timeout", rep.Summary.ErrorKinds)
	}
}

// TestTransportServerCloses covers a server that closes connections after
// some responses and chunked bodies: the pool must not reuse dead ones.
func TestTransportServerCloses(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%3 == 0 {
			w.Header().Set("Connection", "close")
		}
		w.(http.Flusher).Flush() // chunked
		io.WriteString(w, strings.Repeat("x", 100))
	}))
	t.Cleanup(srv.Close)
	rep := run(t, spec.Workload{Rate: 200, Duration: spec.Duration(500 * time.Millisecond), MaxWorkers: 2}, srv.URL)
	if rep.Summary.Requests == 0 || rep.Summary.Success != rep.Summary.Requests {
		t.Errorf("Summary = %+v; want all successful", rep.Summary)
	}
}

func TestTransportNoKeepAlive(t *testing.T) {
	t.Parallel()
	srv := twoApps(t, 0)
	off := false
	rep := run(t, spec.Workload{Rate: 100, Duration: spec.Duration(300 * time.Millisecond), KeepAlive: &off}, srv.URL)
	if rep.Summary.Requests == 0 || rep.Summary.Success != rep.Summary.Requests {
		t.Errorf("Summary = %+v; want all successful", rep.Summary)
	}
}
