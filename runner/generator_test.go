package runner

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

// TestRunRecordsGeneratorCost: a repeated run records each trial's
// generator cost and their sum as the run's.
func TestRunRecordsGeneratorCost(t *testing.T) {
	d := &fakeDriver{url: target(t)}
	o := testOptions(t, d, &fakeMonitor{})
	o.Repeat = 2
	s := testSpec()
	s.Load.Duration = spec.Duration(300 * time.Millisecond)
	out, err := Run(context.Background(), s, o)
	if err != nil {
		t.Fatalf("Run() error: %v", err)
	}
	r := out.Result
	var trials []*results.GeneratorCost
	for _, tr := range r.Trials {
		if tr.Summary.Generator == nil {
			t.Fatalf("trial %d: no generator cost", tr.Index)
		}
		trials = append(trials, tr.Summary.Generator)
	}
	g := r.Summary.Generator
	want := results.SumGenerators(false, trials...)
	if g == nil || len(trials) != 2 || *g != *want {
		t.Fatalf("Summary.Generator = %+v; want the sum of the 2 trials' %+v", g, want)
	}
	if g.Sent != r.Summary.Requests-r.Summary.Unsent || g.CPUSeconds <= 0 {
		t.Errorf("Summary.Generator = %+v; want %d requests sent and some CPU", *g, r.Summary.Requests-r.Summary.Unsent)
	}
}

// TestFinishWarnsOfGeneratorShare: Finish records a "generator" event when
// the generator took more than GeneratorShareWarn of a core on the stack's
// machine, and none when the runtime is not on it.
func TestFinishWarnsOfGeneratorShare(t *testing.T) {
	for _, tc := range []struct {
		runtime string
		cores   float64
		want    bool
	}{
		{"local", 0.7, true},
		{"compose", 0.7, true},
		{"local", 0.1, false},
		{"swarm", 0.7, false}, // no task on this host
		{"fake", 0.7, false},
	} {
		ss := &Session{Spec: testSpec(), Dir: t.TempDir(), o: Options{Now: time.Now, Abort: context.Background()}}
		rep := &load.Report{StartedAt: time.Now(), Summary: results.Summary{Requests: 10, Success: 10,
			Generator: results.NewGeneratorCost(tc.cores*8, tc.cores*2, 10, 10)}}
		r := &results.Result{ID: "x", Runtime: tc.runtime}
		if _, _, err := ss.Finish(context.Background(), r, Ending{Reports: []*load.Report{rep}, T0: rep.StartedAt}); err != nil {
			t.Fatalf("Finish: %v", err)
		}
		var got []string
		for _, e := range r.Events {
			if e.Kind == "generator" {
				got = append(got, e.Message)
			}
		}
		if (len(got) == 1) != tc.want || len(got) > 1 {
			t.Errorf("runtime %s, %g core: generator events %q; want one: %v", tc.runtime, tc.cores, got, tc.want)
		}
		if tc.want && len(got) == 1 && !strings.Contains(got[0], "runtime "+tc.runtime) {
			t.Errorf("runtime %s: event %q does not say where", tc.runtime, got[0])
		}
	}
}
