package runner

import (
	"context"
	"time"

	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
)

// SettleMax bounds the wait, after an attack, for the heartbeats published
// during it: a replica that delivers none by then is stalled, and its
// overdue heartbeat counts with its age (see probes.Monitor.Replication).
const SettleMax = time.Second

// inWindow says whether t falls in rep's attack window: from its start to
// its end (the last response).
func inWindow(rep *load.Report, t time.Time) bool {
	return rep != nil && !rep.StartedAt.IsZero() && !t.Before(rep.StartedAt) && !t.After(rep.EndedAt)
}

// Replication is the probes' replication figures of rep's attack window,
// once the heartbeats published in it have arrived (at most SettleMax).
// Nil without probes.
func (ss *Session) Replication(ctx context.Context, rep *load.Report) []results.ReplicaStats {
	if ss.mon == nil || rep == nil {
		return nil
	}
	ss.mon.Settle(ctx, rep.EndedAt, SettleMax)
	return ss.mon.Replication(func(t time.Time) bool { return inWindow(rep, t) })
}

// fillReplication narrows the record's replication figures to the attack
// windows of reps (each trial's to its own) and reports the rest of the
// session — probes' first sample, agents' start lead, cooldowns — apart,
// as ReplicationIdle. Call after the probes stopped.
func (ss *Session) fillReplication(r *results.Result, reps []*load.Report) {
	if ss.mon == nil {
		return
	}
	in := func(t time.Time) bool {
		for _, rep := range reps {
			if inWindow(rep, t) {
				return true
			}
		}
		return false
	}
	r.Replication = ss.mon.Replication(in)
	r.ReplicationIdle = ss.mon.Replication(func(t time.Time) bool { return !in(t) })
	if len(r.Trials) != len(reps) {
		return
	}
	for i, rep := range reps {
		r.Trials[i].Replication = ss.mon.Replication(func(t time.Time) bool { return inWindow(rep, t) })
	}
}
