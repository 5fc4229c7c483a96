package probes

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/duckbench/duckbench/probes/haproxyprobe"
	"github.com/duckbench/duckbench/probes/redisprobe"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

func TestNewMonitorErrors(t *testing.T) {
	if _, err := NewMonitor(stack.Endpoints{}, Options{}); !errors.Is(err, ErrNothingToProbe) {
		t.Errorf("NewMonitor(no endpoints) = %v; want ErrNothingToProbe", err)
	}
	t.Setenv("DUCKBENCH_TEST_EMPTY_PW", "")
	ep := stack.Endpoints{Redis: []stack.RedisEndpoint{{Name: "m", Role: "master", Addr: "127.0.0.1:1"}}}
	_, err := NewMonitor(ep, Options{PasswordEnv: "DUCKBENCH_TEST_EMPTY_PW"})
	if err == nil || !strings.Contains(err.Error(), `"DUCKBENCH_TEST_EMPTY_PW"`) {
		t.Errorf("NewMonitor(unset password env) = %v; want an error naming the variable", err)
	}
	t.Setenv("DUCKBENCH_TEST_PW", "s3cret-value")
	m, err := NewMonitor(ep, Options{PasswordEnv: "DUCKBENCH_TEST_PW"})
	if err != nil {
		t.Fatalf("NewMonitor = %v", err)
	}
	defer m.Close()
	if got := len(m.Collectors()); got != 1 {
		t.Errorf("Collectors() = %d; want 1 (redis only)", got)
	}
}

func TestServe(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "duckbench_test_gauge", Help: "test"})
	g.Set(3)
	reg.MustRegister(g)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, ln, reg) }()
	base := "http://" + ln.Addr().String()
	for path, want := range map[string]string{"/metrics": "duckbench_test_gauge 3", "/": `href="/metrics"`} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s = %d %q; want 200 with %q", path, resp.StatusCode, b, want)
		}
	}
	if resp, err := http.Get(base + "/nope"); err != nil || resp.StatusCode != 404 {
		t.Errorf("GET /nope = %v %v; want 404", resp, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ServeListener after cancel = %v; want nil", err)
	}
}

func TestServeBadAddr(t *testing.T) {
	if err := Serve(context.Background(), "127.0.0.1:notaport", prometheus.NewRegistry()); err == nil {
		t.Error("Serve(bad addr) = nil; want an error")
	}
}

// Fill works from the recording alone: counters become deltas from the
// first sample, shares are of the run's requests, timeline entries merge.
func TestFill(t *testing.T) {
	t0 := time.Unix(1000, 0)
	m := &Monitor{opts: Options{Backends: []spec.Backend{{Name: "web", Cache: true}}}, replicas: []string{"r1"}}
	m.rec = newRecording(t0)
	snap := func(sec float64, a1, a2, lookups, hits uint64, a2up bool) *haproxyprobe.Snapshot {
		return &haproxyprobe.Snapshot{
			At: t0.Add(time.Duration(sec * float64(time.Second))),
			Servers: []haproxyprobe.Server{
				{Backend: "web", Server: "a1", Up: true, Weight: 3, Requests: a1, Responses: map[string]uint64{"2xx": a1}},
				{Backend: "web", Server: "a2", Up: a2up, Weight: 1, Requests: a2, Responses: map[string]uint64{"2xx": a2}},
				{Backend: "other", Server: "x", Up: true, Weight: 1, Requests: 7},
			},
			Backends: []haproxyprobe.Backend{{Backend: "web", CacheLookups: lookups, CacheHits: hits}, {Backend: "other"}},
		}
	}
	m.rec.haproxy(snap(0, 100, 100, 50, 10, true))
	m.rec.haproxy(snap(1.2, 130, 110, 70, 25, false))
	m.rec.haproxy(snap(2.2, 160, 120, 90, 40, true))
	// The fourth sample falls after the attack's last second (taken as the
	// monitor stops): it counts in the figures but adds no timeline entry.
	for i, d := range []time.Duration{time.Millisecond, 2 * time.Millisecond, 1500 * time.Millisecond, time.Millisecond} {
		m.rec.reading(redisprobe.Reading{Replica: "r1", At: t0.Add(time.Duration(i) * time.Second), Delay: d, Lost: i == 2})
	}
	r := results.Result{Timeline: []results.Second{{T: 0}, {T: 1, AchievedRate: 42}, {T: 2}}}
	m.Fill(&r)

	if len(r.Backends) != 2 || r.Backends[0].Requests != 60 || r.Backends[0].ShareRatio != 0.75 ||
		r.Backends[0].ExpectedShare != 0.75 || r.Backends[1].DownSeconds != 1.2 || r.Backends[0].Responses["2xx"] != 60 {
		t.Errorf("Fill backends = %+v; want web/a1 60 req 0.75 share, web/a2 down 1.2s, no other", r.Backends)
	}
	if len(r.Caches) != 1 || r.Caches[0].Lookups != 40 || r.Caches[0].Hits != 30 || r.Caches[0].HitRatio != 0.75 {
		t.Errorf("Fill caches = %+v; want web 40/30 0.75", r.Caches)
	}
	if len(r.Replication) != 1 || r.Replication[0].HeartbeatSamples != 4 || r.Replication[0].HeartbeatsLost != 1 || r.Replication[0].DelayMaxSeconds < 1.49 {
		t.Errorf("Fill replication = %+v", r.Replication)
	}
	if len(r.Timeline) != 3 || r.Timeline[1].AchievedRate != 42 || r.Timeline[1].ServerShare["web/a1"] != 0.75 ||
		r.Timeline[2].ReplicationDelay["r1"] != 1.5 {
		t.Errorf("Fill timeline = %+v", r.Timeline)
	}
}
