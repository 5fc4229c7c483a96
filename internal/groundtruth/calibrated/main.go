// Command calibrated is the ground-truth suites' backend, in a process of
// its own so that its timers and goroutines do not share a Go scheduler
// with the load generator it is measured by. Every request is held for the
// service time (-service, or as last set on /-/service?d=5ms); while frozen
// (/-/freeze … /-/thaw) a request first waits for the thaw; after
// /-/late?d=3s the next request is held d longer (see late.go). /-/stats
// reports the freezes (as Unix nanoseconds) and the median hold (since the
// last /-/stats?reset=1).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

type backend struct {
	service atomic.Int64
	mu      sync.Mutex
	thaw    chan struct{}
	freezes [][2]int64
	holds   []time.Duration
	late    late
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	thaw := b.thaw
	b.mu.Unlock()
	if thaw != nil {
		<-thaw
	}
	b.late.hold()
	start := time.Now()
	if d := time.Duration(b.service.Load()); d > 0 {
		time.Sleep(d)
		b.mu.Lock()
		b.holds = append(b.holds, time.Since(start))
		b.mu.Unlock()
	}
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Length", "2")
	io.WriteString(w, "ok")
}

func (b *backend) control(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch r.URL.Path {
	case "/-/service":
		d, err := time.ParseDuration(r.URL.Query().Get("d"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		b.service.Store(int64(d))
	case "/-/freeze":
		if b.thaw == nil {
			b.thaw = make(chan struct{})
			b.freezes = append(b.freezes, [2]int64{time.Now().UnixNano(), 0})
		}
	case "/-/thaw":
		if b.thaw != nil {
			close(b.thaw)
			b.thaw = nil
			b.freezes[len(b.freezes)-1][1] = time.Now().UnixNano()
		}
	case "/-/stats":
		var med time.Duration
		if n := len(b.holds); n > 0 {
			sort.Slice(b.holds, func(i, j int) bool { return b.holds[i] < b.holds[j] })
			med = b.holds[n/2]
		}
		if r.URL.Query().Get("reset") != "" {
			b.holds = nil
		}
		json.NewEncoder(w).Encode(map[string]any{"freezes": b.freezes, "median_hold_ns": int64(med)})
	default:
		http.NotFound(w, r)
	}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on")
	service := flag.Duration("service", 0, "service time of every request")
	flag.Parse()
	b := &backend{}
	b.service.Store(int64(*service))
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String()) // the parent reads the address here
	mux := http.NewServeMux()
	shed := &shedder{}
	mux.HandleFunc("/-/", b.control)
	mux.HandleFunc("/-/late", b.late.control)
	mux.HandleFunc("/-/shed", shed.control) // shed.go
	mux.Handle("/", shed.wrap(b))
	http.Serve(ln, mux)
}
