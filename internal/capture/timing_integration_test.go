//go:build integration

package capture_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/duckbench/duckbench/configgen"
	"github.com/duckbench/duckbench/internal/capture"
	"github.com/duckbench/duckbench/internal/groundtruth"
	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/spec"
)

// renderedHAProxy runs the seed spec's haproxy.cfg, rendered as a run
// renders it, with every app pointed at backend; it returns HAProxy and
// its frontend port.
func renderedHAProxy(t *testing.T, backend string) (*groundtruth.HAProxy, int) {
	t.Helper()
	s, err := spec.Load("../../examples/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, bport, _ := net.SplitHostPort(backend)
	p, _ := strconv.Atoi(bport)
	for i := range s.Apps {
		s.Apps[i].Port = spec.Port(p)
	}
	port := testenv.FreePort(t)
	s.HAProxy.Port, s.HAProxy.Prometheus.Port = spec.Port(port), spec.Port(testenv.FreePort(t))
	runDir, err := os.MkdirTemp("", "dbcap-") // short: unix socket path limit
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(runDir) })
	f, err := configgen.Render(s, configgen.Target{Runtime: "local", RunDir: runDir})
	if err != nil {
		t.Fatal(err)
	}
	return groundtruth.StartHAProxyConfig(t, string(f.HAProxy), port), port
}

// histogram is a microsecond histogram with duckbench's range and
// precision, so both sides of a comparison use one percentile definition
// (HdrHistogram's ValueAtPercentiles of whole microseconds, truncated).
func histogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(load.HistMin, load.HistMax, load.HistSigFigs)
}

// keyOf reads hit number n from a path /kv/k<n>.
func keyOf(path string) (int, bool) {
	v, ok := strings.CutPrefix(path, "/kv/k")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// TestCaptureTiming checks duckbench's absolute timing against a packet
// capture of the client↔HAProxy connections: a calibrated backend that
// holds every request 5 ms behind the rendered HAProxy, 200 req/s for
// 10 s from the load package. Sequential keys number the hits, so each
// request on the wire is matched to its hit n one to one; hit n is due at
// start + n/200 s (the pacer's arithmetic for a constant rate, start
// chosen by the test). From the capture alone: service time = the
// response's last segment − the request's first (from the SYN for the
// first request of a connection), intended-time latency = the response's
// last segment − the due time. duckbench's service p50/p99 and latency
// p50/p99 must agree with the capture's within ±(100µs + 2 %), the same
// percentile definition on both sides. What this cannot see: a bias
// smaller than that band, and anything before the kernel (both clocks
// are the kernel's real-time clock).
func TestCaptureTiming(t *testing.T) {
	const (
		rate    = 200
		dur     = 10 * time.Second
		service = 5 * time.Millisecond
	)
	be := groundtruth.StartBackend(t, service)
	hp, port := renderedHAProxy(t, be.Addr)
	c := capture.Start(t, dur+30*time.Second, 256, port)
	start := time.Now().Add(500 * time.Millisecond)
	w := spec.Workload{Rate: rate, Duration: spec.Duration(dur), Keys: spec.Keys{Distribution: load.KeysSequential, Count: 1 << 30}}
	a, err := load.New(w, hp.URL, load.WithStartAt(start))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	segs, dropped, err := c.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if dropped > 0 {
		t.Fatalf("tcpdump: %d packets dropped by the kernel: the requests cannot be matched one to one", dropped)
	}
	server := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	svc, lat := histogram(), histogram()
	seen := map[int]bool{}
	var early []string
	for _, e := range capture.Exchanges(segs, server) {
		n, ok := keyOf(e.Path)
		if !ok || seen[n] || n >= rate*int(dur/time.Second) {
			t.Errorf("request %q on %v: not a hit of this run, or twice", e.Path, e.Client)
			continue
		}
		seen[n] = true
		if e.Received.IsZero() {
			t.Errorf("hit %d: no response on the wire", n)
			continue
		}
		due := start.Add(time.Duration(n) * time.Second / rate)
		if e.Sent.Before(due.Add(-50 * time.Microsecond)) {
			early = append(early, fmt.Sprintf("%d (%v early)", n, due.Sub(e.Sent)))
		}
		_ = svc.RecordValue(e.Received.Sub(e.Sent).Microseconds())
		_ = lat.RecordValue(e.Received.Sub(due).Microseconds())
	}
	if want := rate * int(dur/time.Second); len(seen) != want {
		t.Errorf("capture saw %d hits; the schedule has %d", len(seen), want)
	}
	// A hit sent before its due time means the key did not number it (a
	// worker took a later key first): the matching would be wrong.
	if len(early) > 0 {
		t.Errorf("%d requests on the wire before their due time: %v", len(early), early[:min(len(early), 5)])
	}
	sum := rep.Summary
	if sum.ServiceTime == nil {
		t.Fatal("duckbench reported no service time")
	}
	var table strings.Builder
	fmt.Fprintf(&table, "%-26s %10s %10s %9s %9s\n", "", "capture", "duckbench", "diff", "±tol")
	check := func(name string, h *hdrhistogram.Histogram, q float64, got float64) {
		want := time.Duration(h.ValueAtPercentile(q)) * time.Microsecond
		g := time.Duration(got * 1e9).Round(time.Microsecond)
		tol := 100*time.Microsecond + want/50
		fmt.Fprintf(&table, "%-26s %10v %10v %9v %9v\n", fmt.Sprintf("%s p%g", name, q), want, g, g-want, tol)
		if g < want-tol || g > want+tol {
			t.Errorf("%s p%g: duckbench %v; the capture %v ± %v", name, q, g, want, tol)
		}
	}
	check("service time", svc, 50, sum.ServiceTime.P50)
	check("service time", svc, 99, sum.ServiceTime.P99)
	check("intended-time latency", lat, 50, sum.Latency.P50)
	check("intended-time latency", lat, 99, sum.Latency.P99)
	t.Logf("%d req/s for %v, %v backend behind the rendered HAProxy; %d requests on the wire, %d in duckbench's summary:\n%s",
		rate, dur, service, len(seen), sum.Requests, table.String())
}
