package runner

import (
	"context"
	"testing"
	"time"

	"github.com/duckbench/duckbench/spec"
)

// TestRunAgentsWarmup: a sharded run keeps load.warmup (it was dropped
// silently): the plan carries it and its common start lies the warm-up
// beyond the fleet's start lead, so that the agents warm up before it; the
// result counts the measured schedule only.
func TestRunAgentsWarmup(t *testing.T) {
	d := &fakeDriver{url: target(t)}
	o := testOptions(t, d, &fakeMonitor{})
	fl := &fakeFleet{n: 2, target: d.url}
	o.Fleet = fl
	s := testSpec()
	s.Load.Rate = 40
	s.Load.Duration = spec.Duration(500 * time.Millisecond)
	const warmup = 400 * time.Millisecond
	s.Load.Warmup = spec.Duration(warmup)
	t0 := time.Now()
	out, err := Run(context.Background(), s, o)
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if len(fl.plans) != 1 {
		t.Fatalf("the fleet got %d plans; want 1", len(fl.plans))
	}
	p := fl.plans[0]
	if got := p.Workload.Warmup.D(); got != warmup {
		t.Errorf("plan warmup = %v; want the spec's %v", got, warmup)
	}
	if lead, want := p.Start.Sub(t0), fl.StartLead()+warmup; lead < want-time.Millisecond {
		t.Errorf("common start %v after the run began; want at least start lead + warmup = %v", lead, want)
	}
	if got := out.Result.Summary.Requests; got != 20 {
		t.Errorf("Run() counted %d requests; want 20 (40 req/s × 0.5 s, the warm-up left out)", got)
	}
}
