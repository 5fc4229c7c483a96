package runner

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

// fakeDriver "runs" a stack whose HAProxy is an httptest server.
type fakeDriver struct {
	url     string
	upErr   error
	dead    []string // services reported not running
	mu      sync.Mutex
	ups     int
	downs   int
	downErr error // ctx.Err() when Down was called
}

func (d *fakeDriver) Up(ctx context.Context) (stack.Endpoints, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ups++
	if d.upErr != nil {
		return stack.Endpoints{}, d.upErr
	}
	return stack.Endpoints{Runtime: "fake", HAProxy: stack.HAProxyEndpoint{URL: d.url}}, nil
}

func (d *fakeDriver) Status(ctx context.Context) (stack.Status, error) {
	st := stack.Status{Services: []stack.ServiceStatus{{Name: "haproxy", Running: true}}}
	for _, n := range d.dead {
		st.Services = append(st.Services, stack.ServiceStatus{Name: n})
	}
	return st, nil
}

func (d *fakeDriver) Down(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.downs++
	d.downErr = ctx.Err()
	return nil
}

func (d *fakeDriver) Fault(ctx context.Context, service string, action spec.FaultAction) error {
	return nil
}
func (d *fakeDriver) Logs(ctx context.Context, service string, w stack.LogWriter) error {
	return nil
}

// fakeMonitor records its lifecycle.
type fakeMonitor struct{ started, stopped, filled atomic.Int32 }

func (m *fakeMonitor) Start(ctx context.Context, t0 time.Time) error { m.started.Add(1); return nil }
func (m *fakeMonitor) Stop(ctx context.Context)                      { m.stopped.Add(1) }
func (m *fakeMonitor) Collectors() []prometheus.Collector            { return nil }
func (m *fakeMonitor) Fill(r *results.Result) {
	m.filled.Add(1)
	r.Keyspace = append(r.Keyspace, results.KeyspaceStats{Node: "fake"})
}
func (m *fakeMonitor) Replication(selects func(time.Time) bool) []results.ReplicaStats { return nil }
func (m *fakeMonitor) Settle(ctx context.Context, t time.Time, limit time.Duration)    {}

func target(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Served-By", "app1")
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func testSpec() *spec.Spec {
	return &spec.Spec{Name: "fake", Load: spec.Workload{Rate: 50, Duration: spec.Duration(time.Second), Targets: []spec.Target{{Path: "/"}}}}
}

func testOptions(t *testing.T, d *fakeDriver, mon *fakeMonitor) Options {
	return Options{
		Driver: d, ResultsDir: t.TempDir(), Listen: "127.0.0.1:0", Cooldown: 10 * time.Millisecond,
		NewMonitor: func(stack.Endpoints) (Monitor, error) { return mon, nil },
	}
}

func TestRunRepeatOnOneStack(t *testing.T) {
	d := &fakeDriver{url: target(t)}
	mon := &fakeMonitor{}
	o := testOptions(t, d, mon)
	o.Repeat = 2
	out, err := Run(context.Background(), testSpec(), o)
	if err != nil {
		t.Fatalf("Run() error: %v", err)
	}
	if d.ups != 1 || d.downs != 1 {
		t.Errorf("Run() brought the stack up %d and down %d times; want 1 and 1", d.ups, d.downs)
	}
	if mon.started.Load() != 1 || mon.stopped.Load() != 1 || mon.filled.Load() != 1 {
		t.Errorf("monitor started %d, stopped %d, filled %d times; want 1 each", mon.started.Load(), mon.stopped.Load(), mon.filled.Load())
	}
	r := out.Result
	if len(r.Trials) != 2 || r.Status != results.StatusCompleted || r.Summary.Requests == 0 || len(r.Keyspace) != 1 {
		t.Errorf("Run() = %d trials, status %q, %d requests, keyspace %v; want 2, completed, >0, filled", len(r.Trials), r.Status, r.Summary.Requests, r.Keyspace)
	}
	if out.Path == "" || out.HTML == "" || !strings.HasPrefix(out.ExporterAddr, "127.0.0.1:") {
		t.Errorf("Run() outcome %+v: want paths and an exporter address", out)
	}
}

func TestRunStackDiedIsFailure(t *testing.T) {
	d := &fakeDriver{url: target(t), dead: []string{"app2"}}
	out, err := Run(context.Background(), testSpec(), testOptions(t, d, &fakeMonitor{}))
	if !errors.Is(err, ErrStackDown) || out == nil || out.Result.Status != results.StatusFailed {
		t.Fatalf("Run() = %v; want ErrStackDown with a failed result", err)
	}
	if d.downs != 1 {
		t.Errorf("teardown ran %d times; want 1", d.downs)
	}
}

func TestStartFailureTearsDown(t *testing.T) {
	d := &fakeDriver{url: target(t)}
	o := testOptions(t, d, &fakeMonitor{})
	o.NewMonitor = func(stack.Endpoints) (Monitor, error) { return nil, errors.New("no redis") }
	if _, err := Start(context.Background(), testSpec(), o); err == nil || !strings.Contains(err.Error(), "start probes: no redis") {
		t.Fatalf("Start() error = %v; want start probes: no redis", err)
	}
	if d.downs != 1 {
		t.Errorf("Start() failure tore down %d times; want 1", d.downs)
	}
	d2 := &fakeDriver{upErr: errors.New("haproxy missing")}
	if _, err := Start(context.Background(), testSpec(), testOptions(t, d2, &fakeMonitor{})); err == nil {
		t.Fatal("Start() with a failing Up: no error")
	}
}

// The first signal (ctx) stops the attack; teardown runs under Abort, which
// the first signal does not cancel.
func TestRunInterruptedStillTearsDown(t *testing.T) {
	d := &fakeDriver{url: target(t)}
	o := testOptions(t, d, &fakeMonitor{})
	abort, cancelAbort := context.WithCancel(context.Background())
	defer cancelAbort()
	o.Abort = abort
	s := testSpec()
	s.Load.Duration = spec.Duration(10 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	out, err := Run(ctx, s, o)
	if err == nil || out == nil || out.Result.Status != results.StatusInterrupted {
		t.Fatalf("Run() = %v; want an interrupted result", err)
	}
	if d.downs != 1 || d.downErr != nil {
		t.Errorf("teardown ran %d times under a live context (err %v); want once, not cancelled", d.downs, d.downErr)
	}
}

func TestSessionManyAttacks(t *testing.T) {
	d := &fakeDriver{url: target(t)}
	ss, err := Start(context.Background(), testSpec(), testOptions(t, d, &fakeMonitor{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, rate := range []spec.Rate{20, 40} {
		rep, err := ss.Attack(context.Background(), AttackOptions{Rate: &rate, Duration: 500 * time.Millisecond, Constant: true})
		if err != nil {
			t.Fatalf("Attack(%v) error: %v", rate, err)
		}
		if got := rep.Plan.Rate; got != float64(rate) {
			t.Errorf("Attack(%v) planned %g req/s", rate, got)
		}
	}
	if err := ss.Close(); err != nil || ss.Close() != nil || d.downs != 1 {
		t.Errorf("Close() twice: err %v, %d teardowns; want nil, 1", err, d.downs)
	}
}

func TestCapacityOnFakeStack(t *testing.T) {
	// The httptest target answers everything: the search grows to --max-rate.
	d := &fakeDriver{url: target(t)}
	o := testOptions(t, d, &fakeMonitor{})
	var table strings.Builder
	co := CapacityOptions{Table: &table, CapacityConfig: CapacityConfig{
		SLO: spec.SLO{Success: 0.99}, Start: 20, MaxRate: 40, StepDuration: time.Second, Cooldown: -1, MaxTime: 10 * time.Second,
	}}
	out, err := Capacity(context.Background(), testSpec(), o, co)
	if err != nil {
		t.Fatalf("Capacity() error: %v", err)
	}
	c := out.Result.Capacity
	if c == nil || c.Rate != 40 || len(c.Steps) != 2 || c.HighBad != 0 {
		t.Fatalf("Capacity() = %+v; want 40 req/s after 2 steps, no bad rate", c)
	}
	if out.Result.Summary.TargetRate != 40 || len(out.Result.Trials) != 0 || out.Result.SLO == nil || !out.Result.SLO.Pass {
		t.Errorf("record: summary target %g, %d trials, SLO %+v; want the 40 req/s step, no trials, passed", out.Result.Summary.TargetRate, len(out.Result.Trials), out.Result.SLO)
	}
	if !strings.Contains(table.String(), "outcome") || strings.Count(table.String(), "pass") != 2 {
		t.Errorf("step table:\n%s", table.String())
	}
	if d.downs != 1 {
		t.Errorf("teardown ran %d times; want 1", d.downs)
	}
}
