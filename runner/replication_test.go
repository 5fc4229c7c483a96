package runner

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sort"
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

// busyTarget is an HAProxy stand-in that notes when it last served.
type busyTarget struct {
	URL  string
	last atomic.Int64 // unix ns of the last request
}

func newBusyTarget(t *testing.T) *busyTarget {
	bt := &busyTarget{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bt.last.Store(time.Now().UnixNano())
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	bt.URL = srv.URL
	return bt
}

// busy says whether the target served within 40 ms of now.
func (bt *busyTarget) busy(now time.Time) bool {
	return now.UnixNano()-bt.last.Load() < int64(40*time.Millisecond)
}

// loadMonitor is a heartbeat whose replica lags loaded while the target is
// busy and idle otherwise: one reading every 5 ms from Start to Stop, what
// the target saw deciding the delay (not duckbench's attack windows).
type loadMonitor struct {
	target       *busyTarget
	loaded, idle time.Duration

	mu       sync.Mutex
	readings []reading
	stop     chan struct{}
	done     chan struct{}
}

type reading struct {
	at    time.Time
	delay time.Duration
}

func (m *loadMonitor) Start(ctx context.Context, t0 time.Time) error {
	m.stop, m.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(m.done)
		tk := time.NewTicker(5 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-m.stop:
				return
			case now := <-tk.C:
				d := m.idle
				if m.target.busy(now) {
					d = m.loaded
				}
				m.mu.Lock()
				m.readings = append(m.readings, reading{now, d})
				m.mu.Unlock()
			}
		}
	}()
	return nil
}

func (m *loadMonitor) Stop(ctx context.Context) {
	if m.stop != nil {
		close(m.stop)
		<-m.done
		m.stop = nil
	}
}
func (m *loadMonitor) Collectors() []prometheus.Collector                           { return nil }
func (m *loadMonitor) Fill(r *results.Result)                                       {}
func (m *loadMonitor) Settle(ctx context.Context, t time.Time, limit time.Duration) {}

func (m *loadMonitor) Replication(selects func(time.Time) bool) []results.ReplicaStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ds []float64
	for _, rd := range m.readings {
		if selects(rd.at) {
			ds = append(ds, rd.delay.Seconds())
		}
	}
	st := results.ReplicaStats{Replica: "r1", HeartbeatSamples: uint64(len(ds))}
	if len(ds) > 0 {
		sort.Float64s(ds)
		st.DelayP50Seconds, st.DelayP99Seconds, st.DelayMaxSeconds = ds[len(ds)/2], ds[len(ds)*99/100], ds[len(ds)-1]
	}
	return []results.ReplicaStats{st}
}

// A run's replication figures are of its attack windows: the replica lags
// 50 ms while the target is loaded and 1 ms otherwise, so every attack
// figure is 50 ms and the idle ones (the cooldown between the trials)
// 1 ms; max_replication_delay 20 ms fails. On main the figures were the
// whole session's and there was no idle report.
func TestRunReplicationOfAttackWindows(t *testing.T) {
	bt := newBusyTarget(t)
	mon := &loadMonitor{target: bt, loaded: 50 * time.Millisecond, idle: time.Millisecond}
	o := testOptions(t, &fakeDriver{url: bt.URL}, nil)
	o.NewMonitor = func(stack.Endpoints) (Monitor, error) { return mon, nil }
	o.Repeat, o.Cooldown = 2, 300*time.Millisecond
	s := testSpec()
	s.Load.Duration = spec.Duration(500 * time.Millisecond)
	s.SLO = spec.SLO{MaxReplicationDelay: spec.Duration(20 * time.Millisecond)}
	out, err := Run(context.Background(), s, o)
	if err != nil {
		t.Fatalf("Run() error: %v", err)
	}
	r := out.Result
	if len(r.Replication) != 1 || len(r.ReplicationIdle) != 1 || len(r.Trials) != 2 {
		t.Fatalf("Run() = replication %+v, idle %+v, %d trials; want one replica each, 2 trials", r.Replication, r.ReplicationIdle, len(r.Trials))
	}
	if got := r.Replication[0]; got.DelayP50Seconds != 0.050 || got.HeartbeatSamples < 120 {
		t.Errorf("attack replication = %+v; want p50 50ms over ≥ 120 readings (2 × 500 ms at one per 5 ms)", got)
	}
	if got := r.ReplicationIdle[0]; got.DelayP50Seconds != 0.001 || got.HeartbeatSamples < 30 {
		t.Errorf("idle replication = %+v; want p50 1ms over ≥ 30 readings (a 300 ms cooldown)", got)
	}
	for i, tr := range r.Trials {
		if len(tr.Replication) != 1 || tr.Replication[0].DelayP50Seconds != 0.050 || tr.Replication[0].HeartbeatSamples < 60 {
			t.Errorf("trial %d replication = %+v; want p50 50ms over ≥ 60 readings", i+1, tr.Replication)
		}
	}
	if r.SLO == nil || r.SLO.Pass {
		t.Errorf("SLO %+v; want max_replication_delay 20ms broken by the 50 ms under load", r.SLO)
	}
}

// Capacity judges each step on its own step's replication readings: with
// an SLO that has max_replication_delay (the README's quick tour), a
// replica that keeps up lets the search find a rate (on main: "no
// sustainable rate", every step judged with no replica data), and one that
// lags under load fails every step, the start rate retried.
func TestCapacityJudgesStepReplication(t *testing.T) {
	slo := spec.SLO{Success: 0.99, MaxReplicationDelay: spec.Duration(20 * time.Millisecond)}
	search := func(loaded time.Duration) (*CapacityOutcome, error) {
		bt := newBusyTarget(t)
		mon := &loadMonitor{target: bt, loaded: loaded, idle: time.Millisecond}
		o := testOptions(t, &fakeDriver{url: bt.URL}, nil)
		o.NewMonitor = func(stack.Endpoints) (Monitor, error) { return mon, nil }
		co := CapacityOptions{CapacityConfig: CapacityConfig{SLO: slo, Start: 20, MaxRate: 40, StepDuration: 500 * time.Millisecond,
			Cooldown: 100 * time.Millisecond, MaxTime: 20 * time.Second}}
		return Capacity(context.Background(), testSpec(), o, co)
	}
	t.Run("replica keeps up", func(t *testing.T) {
		out, err := search(time.Millisecond)
		if err != nil {
			t.Fatalf("Capacity() error: %v", err)
		}
		c := out.Result.Capacity
		if c.Rate != 40 || len(c.Steps) != 2 {
			t.Fatalf("Capacity() = %g req/s in %d steps %+v; want 40 in 2", c.Rate, len(c.Steps), c.Steps)
		}
		for _, st := range c.Steps {
			if len(st.Replication) != 1 || st.Replication[0].HeartbeatSamples < 50 {
				t.Errorf("step at %g: replication %+v; want its own ≥ 50 readings (500 ms at one per 5 ms)", st.Rate, st.Replication)
			}
		}
		if r := out.Result; len(r.Replication) != 1 || r.Replication[0].HeartbeatSamples >= 150 || r.SLO == nil || !r.SLO.Pass {
			t.Errorf("record: replication %+v, SLO %+v; want the 40 req/s step's alone, passed", r.Replication, r.SLO)
		}
	})
	t.Run("replica lags under load", func(t *testing.T) {
		out, err := search(50 * time.Millisecond)
		if !errors.Is(err, ErrNoCapacity) {
			t.Fatalf("Capacity() error = %v; want ErrNoCapacity", err)
		}
		c := out.Result.Capacity
		if len(c.Steps) != 1 || len(c.Steps[0].Trials) != 2 || !strings.Contains(c.Steps[0].Why, "max_replication_delay") {
			t.Errorf("steps %+v; want the start rate failed on max_replication_delay twice", c.Steps)
		}
	})
}

// A capacity sweep under an SLO with max_replication_delay finds every
// variant's capacity (on main each search said "no sustainable rate").
func TestSweepCapacityReplicationSLO(t *testing.T) {
	bt := newBusyTarget(t)
	sw, cfgs := fakeSweep(2)
	for _, c := range cfgs {
		c.NewDriver = func() (stack.Driver, error) { return &fakeDriver{url: bt.URL}, nil }
		c.NewMonitor = func(stack.Endpoints) (Monitor, error) {
			return &loadMonitor{target: bt, loaded: time.Millisecond, idle: time.Millisecond}, nil
		}
	}
	cfg := CapacityConfig{SLO: spec.SLO{Success: 0.99, MaxReplicationDelay: spec.Duration(20 * time.Millisecond)},
		Start: 20, MaxRate: 40, StepDuration: 300 * time.Millisecond, Cooldown: -1, MaxTime: 10 * time.Second}
	_, err := Sweep(context.Background(), sw, cfgs, SweepOptions{Rounds: 1, Cooldown: -1, Capacity: &cfg,
		Run: Options{ResultsDir: t.TempDir(), Listen: "127.0.0.1:0"}})
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	for _, r := range sw.Runs {
		if r.Capacity == nil || r.Capacity.Rate != 40 {
			t.Errorf("run %d (variant %d): capacity %+v, %s; want 40 req/s", r.Seq, r.Variant, r.Capacity, r.Error)
		}
	}
}
