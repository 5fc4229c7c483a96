package runner

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/duckbench/duckbench/spec"
)

func TestPlan(t *testing.T) {
	s := func(d time.Duration) spec.Duration { return spec.Duration(d) }
	faults := []spec.Fault{
		{At: s(5 * time.Second), Action: "kill", Target: "redis-replica-1"},
		{At: s(1 * time.Second), Action: "pause", Target: "redis-master", For: s(2 * time.Second)},
		{At: s(2 * time.Second), Action: "kill", Target: "app2", For: s(4 * time.Second)},
	}
	got := plan(faults)
	want := []struct {
		at     time.Duration
		target string
		action spec.FaultAction
	}{
		{1 * time.Second, "redis-master", "stop"},
		{2 * time.Second, "app2", "kill"},
		{3 * time.Second, "redis-master", "cont"},
		{5 * time.Second, "redis-replica-1", "kill"},
		{6 * time.Second, "app2", "restart"},
	}
	if len(got) != len(want) {
		t.Fatalf("plan() = %d steps; want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].at != w.at || got[i].target != w.target || got[i].action != w.action {
			t.Errorf("plan()[%d] = %v %s %s; want %v %s %s", i, got[i].at, got[i].action, got[i].target, w.at, w.action, w.target)
		}
	}
}

type fakeFaulter struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeFaulter) Fault(ctx context.Context, service string, action spec.FaultAction) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, string(action)+" "+service)
	if service == "broken" {
		return errors.New("no such service")
	}
	return nil
}

func TestFaultRunnerRecordsEvents(t *testing.T) {
	ms := func(n int) spec.Duration { return spec.Duration(time.Duration(n) * time.Millisecond) }
	ff := &fakeFaulter{}
	r := &faultRunner{driver: ff, steps: plan([]spec.Fault{
		{At: ms(10), Action: "stop", Target: "app1", For: ms(20)},
		{At: ms(15), Action: "kill", Target: "broken"},
	})}
	r.start(context.Background(), time.Now())
	events := r.wait()
	if len(events) != 3 {
		t.Fatalf("events = %+v; want 3", events)
	}
	kinds := []string{events[0].Kind, events[1].Kind, events[2].Kind}
	if kinds[0] != "fault" || kinds[1] != "error" || kinds[2] != "recovery" {
		t.Errorf("event kinds = %v; want [fault error recovery]", kinds)
	}
	if events[2].AtSeconds < 0.03 {
		t.Errorf("recovery at %.3fs; want >= 0.030s", events[2].AtSeconds)
	}
}

func TestFaultRunnerStopsOnCancel(t *testing.T) {
	ff := &fakeFaulter{}
	r := &faultRunner{driver: ff, steps: plan([]spec.Fault{{At: spec.Duration(time.Hour), Action: "kill", Target: "app1"}})}
	ctx, cancel := context.WithCancel(context.Background())
	r.start(ctx, time.Now())
	cancel()
	if ev := r.wait(); len(ev) != 0 {
		t.Errorf("events after cancel = %+v; want none", ev)
	}
}
