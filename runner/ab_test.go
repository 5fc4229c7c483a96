package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

// fakeRuns is a RunOne that records each call and returns a result whose
// p99 is the spec's p99 (by spec name) with a small wobble.
type fakeRuns struct {
	p99   map[string]float64
	calls []Options
	specs []string
	fail  int // 1-based call that fails (0: none)
}

func (f *fakeRuns) run(ctx context.Context, s *spec.Spec, o Options) (*Outcome, error) {
	f.calls = append(f.calls, o)
	f.specs = append(f.specs, s.Name)
	n := len(f.calls)
	if n == f.fail {
		return nil, errors.New("stack failed")
	}
	wobble := 1 + 0.01*float64(n%3)
	sum := results.Summary{Requests: 1000, Success: 1000, Throughput: 100,
		Latency: results.Quantiles{P50: 0.001, P99: f.p99[s.Name] * wobble}}
	r := &results.Result{ID: "run" + strings.Repeat("x", n), Spec: results.SpecInfo{Name: s.Name, Hash: s.Hash()},
		Status: results.StatusCompleted, Summary: sum, Trials: []results.Trial{{Index: 1, Summary: sum}}}
	return &Outcome{Result: r}, nil
}

func abConfig(name string, d time.Duration) ABConfig {
	s := testSpec()
	s.Name = name
	s.Load.Duration = spec.Duration(d)
	return ABConfig{Spec: s, Path: name + ".yaml", NewDriver: func() (stack.Driver, error) { return &fakeDriver{}, nil }}
}

func TestABInterleavesAndCompares(t *testing.T) {
	f := &fakeRuns{p99: map[string]float64{"old": 0.010, "new": 0.013}}
	dir := t.TempDir()
	a, b := abConfig("old", 3*time.Second), abConfig("new", 9*time.Second)
	out, err := AB(context.Background(), a, b, ABOptions{Cooldown: time.Millisecond, RunOne: f.run,
		Run: Options{ResultsDir: dir}})
	if err != nil {
		t.Fatalf("AB() error: %v", err)
	}
	if got, want := strings.Join(f.specs, " "), "old new new old old new new old old new new old"; got != want {
		t.Errorf("AB ran %q; want the counterbalanced %q", got, want)
	}
	for i, o := range f.calls {
		if o.Duration != 3*time.Second || o.ResultsDir != out.Dir || o.Repeat != 1 {
			t.Errorf("run %d: duration %v, results dir %q, repeat %d; want A's 3s, %q, 1", i+1, o.Duration, o.ResultsDir, o.Repeat, out.Dir)
		}
	}
	ab := out.AB
	if ab.Rounds != results.DefaultRounds || len(ab.Runs) != 2*results.DefaultRounds || ab.AA || ab.Status != results.StatusCompleted {
		t.Errorf("ab = rounds %d, %d runs, aa %v, status %q; want %d, %d, false, completed", ab.Rounds, len(ab.Runs), ab.AA, ab.Status,
			results.DefaultRounds, 2*results.DefaultRounds)
	}
	c := ab.Comparison
	if c == nil || !c.Regression || c.Base.Runs != results.DefaultRounds {
		t.Fatalf("comparison = %+v; want a regression over %d runs a side", c, results.DefaultRounds)
	}
	if filepath.Dir(out.Dir) != dir {
		t.Errorf("ab dir %q; want it under %q", out.Dir, dir)
	}
	for _, p := range []string{out.Path, out.HTML} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("ab output: %v", err)
		}
	}
	if !strings.Contains(ab.ID, "ab-old-vs-new") {
		t.Errorf("ab ID %q; want it to name both specs", ab.ID)
	}
}

func TestABSameSpecIsAA(t *testing.T) {
	f := &fakeRuns{p99: map[string]float64{"seed": 0.010}}
	a := abConfig("seed", time.Second)
	out, err := AB(context.Background(), a, a, ABOptions{Rounds: 4, Cooldown: time.Millisecond, RunOne: f.run,
		Run: Options{ResultsDir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	if !out.AB.AA || out.AB.Comparison.Regression {
		t.Errorf("AB(seed, seed) = aa %v, regression %v; want an A/A without regression", out.AB.AA, out.AB.Comparison.Regression)
	}
}

func TestABStopsAtAFailedRun(t *testing.T) {
	f := &fakeRuns{p99: map[string]float64{"old": 0.010, "new": 0.010}, fail: 3}
	out, err := AB(context.Background(), abConfig("old", time.Second), abConfig("new", time.Second),
		ABOptions{Cooldown: time.Millisecond, RunOne: f.run, Run: Options{ResultsDir: t.TempDir()}})
	if err == nil || !strings.Contains(err.Error(), "run 3 (B new.yaml)") {
		t.Fatalf("AB() error = %v; want run 3's failure", err)
	}
	if len(f.calls) != 3 || out.AB.Status != results.StatusFailed || len(out.AB.Runs) != 2 || out.AB.Comparison == nil {
		t.Errorf("after a failed 3rd run: %d calls, status %q, %d runs recorded, comparison %v; want 3, failed, 2, present",
			len(f.calls), out.AB.Status, len(out.AB.Runs), out.AB.Comparison != nil)
	}
	if _, err := os.Stat(out.Path); err != nil {
		t.Errorf("the partial ab was not stored: %v", err)
	}
}

// One round through the real Run against a fake stack: each run's folder
// lands under the ab's.
func TestABWithRun(t *testing.T) {
	url := target(t)
	cfg := abConfig("fake", time.Second)
	cfg.NewDriver = func() (stack.Driver, error) { return &fakeDriver{url: url}, nil }
	out, err := AB(context.Background(), cfg, cfg, ABOptions{Rounds: 1, Cooldown: time.Millisecond,
		Run: Options{ResultsDir: t.TempDir(), Listen: "off"}})
	if err != nil {
		t.Fatalf("AB() error: %v", err)
	}
	for _, r := range out.AB.Runs {
		if _, err := os.Stat(filepath.Join(out.Dir, r.ID, "result.json")); err != nil || r.Summary.Requests == 0 {
			t.Errorf("run %d: %v, %d requests; want its result.json under the ab folder", r.Seq, err, r.Summary.Requests)
		}
	}
}
