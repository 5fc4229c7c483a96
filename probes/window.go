package probes

import (
	"context"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/duckbench/duckbench/results"
)

// beat is one heartbeat reading of a replica.
type beat struct {
	pub   time.Time // publish time: arrival − delay
	delay time.Duration
	lost  bool
}

// infoSample is one INFO scrape's view of a replica.
type infoSample struct {
	at       time.Time
	dt       time.Duration // since the previous scrape
	linkUp   bool
	inMaster bool
	lag      int64
	ack      float64
}

// Replication summarises each replica's readings of the span selects
// accepts: the heartbeats published in it and the INFO samples scraped in
// it. A runner asks for the attack windows (a trial, a capacity step) and
// for the idle rest of the session apart. While the heartbeat runs, a
// heartbeat of the span that is overdue now (older than one interval plus
// the replica's last delay: the replica is stalled) counts as lost, its
// age now its delay, a lower bound, so that a step judged at its end sees
// a stall that has not ended yet.
func (m *Monitor) Replication(selects func(time.Time) bool) []results.ReplicaStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.replication(selects)
}

// replication is Replication with m.mu held.
func (m *Monitor) replication(selects func(time.Time) bool) []results.ReplicaStats {
	if m.rec == nil {
		return nil
	}
	now := time.Now()
	out := make([]results.ReplicaStats, 0, len(m.replicas))
	for _, name := range m.replicas {
		beats := m.rec.beats[name]
		if b, ok := m.overdue(name, beats, now); ok && selects(b.pub) {
			beats = append(beats[:len(beats):len(beats)], b)
		}
		out = append(out, replicaStats(name, beats, m.rec.infos[name], selects))
	}
	return out
}

// overdue is the oldest heartbeat published and not yet delivered to
// replica, as a lost reading aged now, when it is overdue: older than one
// interval plus the replica's last delay (the rule of Heartbeat.Stop).
func (m *Monitor) overdue(replica string, beats []beat, now time.Time) (beat, bool) {
	if !m.hbOn || len(beats) == 0 {
		return beat{}, false
	}
	current := m.currentDelay
	if current == nil {
		current = m.hb.Delay
	}
	d, ok := current(replica, now)
	last := beats[len(beats)-1]
	if !ok || d <= m.opts.HeartbeatInterval+last.delay {
		return beat{}, false
	}
	return beat{pub: now.Add(-d), delay: d, lost: true}, true
}

// replicaStats summarises the readings of one replica that selects accepts.
func replicaStats(name string, beats []beat, infos []infoSample, selects func(time.Time) bool) results.ReplicaStats {
	st := results.ReplicaStats{Replica: name}
	// Microseconds, 3 significant digits: 0.1 % error, within the
	// measurement's own.
	h := hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3)
	for _, b := range beats {
		if !selects(b.pub) {
			continue
		}
		_ = h.RecordValue(max(1, b.delay.Microseconds()))
		st.HeartbeatSamples++
		if b.lost {
			st.HeartbeatsLost++
		}
	}
	if h.TotalCount() > 0 {
		us := func(v int64) float64 { return float64(v) / 1e6 }
		st.DelayP50Seconds = us(h.ValueAtQuantile(50))
		st.DelayP99Seconds = us(h.ValueAtQuantile(99))
		st.DelayMaxSeconds = us(h.Max())
	}
	var down time.Duration
	for _, s := range infos {
		if !selects(s.at) {
			continue
		}
		if !s.linkUp {
			down += s.dt
		}
		if s.inMaster {
			st.MaxOffsetLagBytes = max(st.MaxOffsetLagBytes, s.lag)
			st.MaxAckAgeSeconds = max(st.MaxAckAgeSeconds, s.ack)
		}
	}
	st.LinkDownSeconds = down.Seconds()
	return st
}

// settlePoll is how often Settle looks at the readings.
const settlePoll = 10 * time.Millisecond

// Settle waits until every replica has delivered (or been found to have
// lost) the heartbeats published before t — that is, one published at or
// after t has arrived — or until limit passed or ctx ended. It returns at
// once without a heartbeat. A step's replication is read after it.
func (m *Monitor) Settle(ctx context.Context, t time.Time, limit time.Duration) {
	if m.hb == nil {
		return
	}
	deadline := time.Now().Add(limit)
	for {
		if m.settled(t) || !time.Now().Before(deadline) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(settlePoll):
		}
	}
}

// settled says whether every replica delivered a heartbeat published at
// or after t.
func (m *Monitor) settled(t time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rec == nil || !m.hbOn {
		return true
	}
	for _, name := range m.replicas {
		beats := m.rec.beats[name]
		if len(beats) == 0 || beats[len(beats)-1].pub.Before(t) {
			return false
		}
	}
	return true
}
