package runner

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duckbench/duckbench/agents"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

// fakeFleet runs its agents in process against the plan's target; the
// agents in drop deliver nothing.
type fakeFleet struct {
	n      int
	target string
	drop   map[int]bool
	start  time.Time
	plans  []agents.Plan // every plan it was given
}

func (f *fakeFleet) Count() int                        { return f.n }
func (f *fakeFleet) Prepare(ctx context.Context) error { return nil }
func (f *fakeFleet) StartLead() time.Duration          { return 300 * time.Millisecond }

func (f *fakeFleet) Attack(ctx context.Context, p agents.Plan) ([]agents.Arrival, agents.Plan, error) {
	p.Agents, p.Target, f.start = f.n, f.target, p.Start
	f.plans = append(f.plans, p)
	arr := make([]agents.Arrival, f.n)
	var wg sync.WaitGroup
	for i := range f.n {
		arr[i] = agents.Arrival{Index: i + 1, Hello: true, Err: errors.New("task failed: exit 137")}
		if f.drop[i+1] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := agents.Run(ctx, p, i+1, nil)
			arr[i].Shard, arr[i].Err = s, err
		}()
	}
	wg.Wait()
	return arr, p, nil
}

// TestRunAgents: a sharded run records the agents' exact merge, one row
// per agent, the whole rate as its plan, and the faults keep their time
// relative to the agents' common start.
func TestRunAgents(t *testing.T) {
	d := &fakeDriver{url: target(t)}
	o := testOptions(t, d, &fakeMonitor{})
	fl := &fakeFleet{n: 3, target: d.url}
	o.Fleet = fl
	s := testSpec()
	s.Load.Rate = 60
	s.Faults = []spec.Fault{{At: spec.Duration(200 * time.Millisecond), Target: "app2", Action: spec.FaultRestart}}
	t0 := time.Now()
	out, err := Run(context.Background(), s, o)
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	r := out.Result
	var sum uint64
	for _, a := range r.Agents {
		if a.Status != results.AgentOK {
			t.Errorf("agent %d: %s; want ok", a.Index, a.Status)
		}
		sum += a.Requests
	}
	if len(r.Agents) != 3 || r.Summary.Requests != sum || sum != 60 {
		t.Errorf("Run() = %d agents, %d requests (agents' sum %d); want 3 agents and 60 = their sum", len(r.Agents), r.Summary.Requests, sum)
	}
	if r.Plan.Rate != 60 || r.Status != results.StatusCompleted {
		t.Errorf("Run() plan rate %v, status %q; want 60, completed", r.Plan.Rate, r.Status)
	}
	// The fault is due 200ms after the agents' start, which lies at least
	// the lead after t0.
	lead := fl.start.Sub(t0).Seconds()
	var fault *results.Event
	for i, e := range r.Events {
		if e.Kind == "fault" {
			fault = &r.Events[i]
		}
	}
	if fault == nil || fault.AtSeconds < lead+0.2-0.05 {
		t.Errorf("fault event %+v; want one at least %.2fs after the run's start (the agents' start + 0.2s)", fault, lead+0.2)
	}
}

// TestRunAgentMissing: a missing shard makes the run incomplete, names the
// agent, keeps the others' merge and still tears the stack down.
func TestRunAgentMissing(t *testing.T) {
	d := &fakeDriver{url: target(t)}
	o := testOptions(t, d, &fakeMonitor{})
	o.Fleet = &fakeFleet{n: 3, target: d.url, drop: map[int]bool{2: true}}
	out, err := Run(context.Background(), testSpec(), o)
	if !errors.Is(err, ErrIncomplete) || out == nil {
		t.Fatalf("Run() = %v; want ErrIncomplete with a result", err)
	}
	r := out.Result
	if r.Status != results.StatusIncomplete || !strings.Contains(r.Error, "agent 2: task failed: exit 137") {
		t.Errorf("result status %q, error %q; want incomplete naming agent 2", r.Status, r.Error)
	}
	if r.Agents[1].Status != results.AgentMissing || r.Summary.Requests != r.Agents[0].Requests+r.Agents[2].Requests {
		t.Errorf("agents %+v, %d requests; want agent 2 missing and the others' sum", r.Agents, r.Summary.Requests)
	}
	if d.downs != 1 {
		t.Errorf("teardown ran %d times; want 1", d.downs)
	}
	o.Repeat = 2
	if _, err := Run(context.Background(), testSpec(), o); err == nil || d.ups != 1 {
		t.Errorf("Run(--repeat 2 with agents) = %v after %d ups; want an error before the stack comes up", err, d.ups)
	}
}

// TestCapacityAgentsStepsAreConstant: every step of a sharded capacity
// search hands the agents a constant rate without warm-up, as an unsharded
// step runs, whatever the spec's shape.
func TestCapacityAgentsStepsAreConstant(t *testing.T) {
	d := &fakeDriver{url: target(t)}
	o := testOptions(t, d, &fakeMonitor{})
	fl := &fakeFleet{n: 2, target: d.url}
	o.Fleet = fl
	s := testSpec()
	s.Load.Shape, s.Load.RampFrom, s.Load.Warmup = "ramp", 5, spec.Duration(time.Second)
	co := CapacityOptions{CapacityConfig: CapacityConfig{
		SLO: spec.SLO{Success: 0.99}, Start: 20, MaxRate: 40, StepDuration: time.Second, Cooldown: -1, MaxTime: 20 * time.Second,
	}}
	if _, err := Capacity(context.Background(), s, o, co); err != nil {
		t.Fatalf("Capacity() error: %v", err)
	}
	if len(fl.plans) != 2 {
		t.Fatalf("the fleet got %d plans; want one per step (2)", len(fl.plans))
	}
	for i, p := range fl.plans {
		if w := p.Workload; (w.Shape != "" && w.Shape != "constant") || w.Warmup != 0 || w.Rate != spec.Rate(20*(i+1)) {
			t.Errorf("step %d: workload shape %q, warmup %v, rate %v; want constant at %d req/s without warm-up", i+1, w.Shape, w.Warmup, w.Rate, 20*(i+1))
		}
	}
}
