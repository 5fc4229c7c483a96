package runner

import (
	"context"
	"testing"
	"time"

	"github.com/duckbench/duckbench/results"
)

// watchingDriver is a fakeDriver that watches its nodes: it reports one
// node lost 0.5 s after t0, if its watch still runs then.
type watchingDriver struct {
	*fakeDriver
	watched int
}

func (d *watchingDriver) WatchNodes(ctx context.Context, t0 time.Time) func() []results.Event {
	d.watched++
	ch := make(chan []results.Event, 1)
	go func() {
		select {
		case <-ctx.Done():
			ch <- nil
			return
		case <-time.After(time.Until(t0.Add(500 * time.Millisecond))):
		}
		ev := results.Event{AtSeconds: time.Since(t0).Seconds(), Kind: "fault", Action: "node-lost", Target: "h3", Message: "node h3 unreachable (swarm: down); on it: redis-replica-2"}
		<-ctx.Done() // the watch ends with the attack
		ch <- []results.Event{ev}
	}()
	return func() []results.Event { return <-ch }
}

// TestRunWatchesNodes: a plain run on a driver that watches its nodes
// puts the node it lost on the record's timeline, and the attack runs its
// whole plan (the run goes on).
func TestRunWatchesNodes(t *testing.T) {
	d := &watchingDriver{fakeDriver: &fakeDriver{url: target(t)}}
	o := testOptions(t, d.fakeDriver, &fakeMonitor{})
	o.Driver = d
	out, err := Run(context.Background(), testSpec(), o)
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	r := out.Result
	var lost *results.Event
	for i, e := range r.Events {
		if e.Action == "node-lost" {
			lost = &r.Events[i]
		}
	}
	if d.watched != 1 || lost == nil || lost.Target != "h3" || lost.AtSeconds < 0.5 || lost.AtSeconds > 1 {
		t.Fatalf("watched %d times, events %+v; want one watch and node-lost h3 at 0.5-1 s", d.watched, r.Events)
	}
	if want := uint64(50); r.Summary.Requests != want { // 50 req/s × 1 s, from testSpec
		t.Errorf("requests %d; want the whole plan, %d", r.Summary.Requests, want)
	}
}
