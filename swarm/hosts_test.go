package swarm

import (
	"fmt"
	"testing"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/stack"
)

// TestNodeEvents: a node newly down is a node-lost fault naming the
// stack's services on it; one back is a node-back recovery; a failed
// reading (nil) neither loses nor recovers anything.
func TestNodeEvents(t *testing.T) {
	st := &state{
		Endpoints: stack.Endpoints{Redis: []stack.RedisEndpoint{{Name: "redis-master"}, {Name: "redis-replica-1"}}, Apps: []stack.AppEndpoint{{Name: "app1"}}},
		Nodes:     map[string][]string{"redis-master": {"h1"}, "redis-replica-1": {"h3"}, "app1": {"h2", "h3"}, "haproxy": {"h1"}},
	}
	var said []string
	logf := func(f string, a ...any) { said = append(said, fmt.Sprintf(f, a...)) }
	evs := nodeEvents(-0.2, st, nil, map[string]string{}, nil, logf)
	evs = nodeEvents(3.4, st, map[string]string{}, map[string]string{"h3": "down"}, evs, logf)
	evs = nodeEvents(5, st, map[string]string{"h3": "down"}, nil, evs, logf)
	evs = nodeEvents(9, st, map[string]string{"h3": "down"}, map[string]string{"h3": "down"}, evs, logf)
	evs = nodeEvents(12, st, map[string]string{"h3": "down"}, map[string]string{}, evs, logf)
	want := []results.Event{
		{AtSeconds: 3.4, Kind: "fault", Target: "h3", Action: "node-lost", Message: "node h3 unreachable (swarm: down); on it: redis-replica-1, app1"},
		{AtSeconds: 12, Kind: "recovery", Target: "h3", Action: "node-back", Message: "node h3 reachable again"},
	}
	if fmt.Sprint(evs) != fmt.Sprint(want) || len(said) != 2 {
		t.Errorf("events %+v, said %q; want %+v, each said", evs, said, want)
	}
	if evs := nodeEvents(-1, st, nil, map[string]string{"h9": "unknown"}, nil, logf); len(evs) != 1 || evs[0].AtSeconds != 0 || evs[0].Message != "node h9 unreachable (swarm: unknown)" {
		t.Errorf("a loss before the origin, on a node without services: %+v; want at 0, no services", evs)
	}
}
