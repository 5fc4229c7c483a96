package probes

import (
	"context"
	"testing"
	"time"

	"github.com/duckbench/duckbench/probes/redisprobe"
)

// Replication summarises only the readings of the span asked for: the
// heartbeats by their publish time (arrival − delay), the INFO samples by
// their scrape; a heartbeat overdue now counts as lost with its age.
func TestReplicationWindow(t *testing.T) {
	t0 := time.Now().Add(-10 * time.Second)
	m := &Monitor{opts: Options{HeartbeatInterval: 100 * time.Millisecond}, replicas: []string{"r1"}}
	m.rec = newRecording(t0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	// Idle before 2 s and from 4 s: 1 ms; the attack [2 s, 3.99 s]: 30 ms.
	// A heartbeat published at 3.95 s arrives after the window ends: it
	// is the window's.
	for i := 0; i < 60; i++ {
		pub := at(float64(i) / 10)
		d := time.Millisecond
		if i >= 20 && i <= 39 {
			d = 30 * time.Millisecond
		}
		if i == 39 {
			pub, d = at(3.95), 120*time.Millisecond
		}
		m.rec.reading(redisprobe.Reading{Replica: "r1", At: pub.Add(d), Delay: d})
	}
	st := &redisprobe.Snapshot{Replicas: []redisprobe.ReplicaStatus{{Replica: "r1", LinkUp: true, InMaster: true}}}
	for _, s := range []struct {
		at  float64
		lag int64
		up  bool
	}{{1, 9000, true}, {2.5, 100, false}, {3.5, 200, true}, {5, 7000, true}} {
		st.At, st.Replicas[0].OffsetLag, st.Replicas[0].LinkUp = at(s.at), s.lag, s.up
		m.rec.redis(st, nil)
	}
	attack := func(t time.Time) bool { return !t.Before(at(2)) && t.Before(at(3.99)) }
	got := m.Replication(attack)
	if len(got) != 1 {
		t.Fatalf("Replication(attack) = %+v; want one replica", got)
	}
	r := got[0]
	if r.HeartbeatSamples != 20 || !near(r.DelayP50Seconds, 0.030) || r.DelayMaxSeconds < 0.119 || r.MaxOffsetLagBytes != 200 || r.LinkDownSeconds != 1.5 {
		t.Errorf("Replication(attack) = %+v; want 20 readings, p50 30ms, max 120ms, offset lag 200, link down 1.5s", r)
	}
	idle := m.Replication(func(t time.Time) bool { return !attack(t) })[0]
	if idle.HeartbeatSamples != 40 || idle.DelayMaxSeconds != 0.001 || idle.MaxOffsetLagBytes != 9000 {
		t.Errorf("Replication(idle) = %+v; want 40 readings of 1ms, offset lag 9000", idle)
	}

	// While the heartbeat runs, a heartbeat published at 6 s and not
	// delivered (now ~4 s overdue) counts as lost with its age; one just
	// published does not.
	m.hbOn = true
	pending := time.Since(at(6))
	m.currentDelay = func(string, time.Time) (time.Duration, bool) { return pending, true }
	late := m.Replication(func(t time.Time) bool { return !t.Before(at(5)) })[0]
	if late.HeartbeatSamples != 11 || late.HeartbeatsLost != 1 || late.DelayMaxSeconds < 3.9 {
		t.Errorf("Replication(after 5 s, heartbeat running) = %+v; want 10 readings + 1 lost of ≥ 3.9 s", late)
	}
	pending = 50 * time.Millisecond
	if got := m.Replication(func(t time.Time) bool { return !t.Before(at(5)) })[0]; got.HeartbeatSamples != 10 {
		t.Errorf("Replication(after 5 s) with a heartbeat 50ms old = %+v; want 10 readings", got)
	}
	// Settle gives up at its limit on a replica that delivers nothing.
	m.hb = &redisprobe.Heartbeat{}
	start := time.Now()
	m.Settle(context.Background(), time.Now(), 50*time.Millisecond)
	if d := time.Since(start); d < 50*time.Millisecond || d > 2*time.Second {
		t.Errorf("Settle on a silent replica returned after %v; want its 50ms limit", d)
	}
	m.Settle(context.Background(), at(5.9), time.Minute) // delivered: at once
}

// near says whether an HdrHistogram reading (3 significant digits) is want.
func near(got, want float64) bool { return got >= want && got <= want*1.001 }
