package runner

import (
	"context"
	"time"

	"github.com/duckbench/duckbench/results"
)

// NodeWatcher is a stack driver of a cluster (swarm) that can follow its
// nodes during a run: WatchNodes watches from t0 until ctx ends, and the
// wait it returns gives the timeline's events (a node lost, with the
// services on it; a node back).
type NodeWatcher interface {
	WatchNodes(ctx context.Context, t0 time.Time) (wait func() []results.Event)
}

// watchNodes starts the driver's node watch of a plain run (a sharded
// one's fleet watches the nodes itself); it returns the events' wait,
// which returns nothing for a driver that cannot watch.
func watchNodes(ctx context.Context, o Options, t0 time.Time) func() []results.Event {
	w, ok := o.Driver.(NodeWatcher)
	if !ok || o.Fleet != nil {
		return func() []results.Event { return nil }
	}
	return w.WatchNodes(ctx, t0)
}
