package runner

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

// Faulter applies one fault action to one service; stack.Driver is one.
type Faulter interface {
	Fault(ctx context.Context, service string, action spec.FaultAction) error
}

// faultStep is one scheduled action: a fault from the spec, or the recovery
// that its `for` implies.
type faultStep struct {
	at       time.Duration
	target   string
	action   spec.FaultAction // what the driver is told: kill, stop, cont, restart
	kind     string           // "fault" or "recovery"
	specItem int
}

// plan expands the spec's faults into driver actions in time order.
// pause = stop now + cont after For; stop/kill with For recover with
// cont/restart after For.
func plan(faults []spec.Fault) []faultStep {
	var steps []faultStep
	for i, f := range faults {
		at := f.At.D()
		switch f.Action {
		case spec.FaultPause:
			steps = append(steps, faultStep{at, f.Target, spec.FaultStop, "fault", i})
			steps = append(steps, faultStep{at + f.For.D(), f.Target, spec.FaultCont, "recovery", i})
		case spec.FaultStop:
			steps = append(steps, faultStep{at, f.Target, spec.FaultStop, "fault", i})
			if f.For > 0 {
				steps = append(steps, faultStep{at + f.For.D(), f.Target, spec.FaultCont, "recovery", i})
			}
		case spec.FaultKill:
			steps = append(steps, faultStep{at, f.Target, spec.FaultKill, "fault", i})
			if f.For > 0 {
				steps = append(steps, faultStep{at + f.For.D(), f.Target, spec.FaultRestart, "recovery", i})
			}
		default: // cont, restart
			steps = append(steps, faultStep{at, f.Target, f.Action, "fault", i})
		}
	}
	sort.SliceStable(steps, func(a, b int) bool { return steps[a].at < steps[b].at })
	return steps
}

// faultRunner executes a plan against a Faulter and records every action as
// an event, failed ones included. Load and probes run on regardless.
type faultRunner struct {
	driver Faulter
	steps  []faultStep

	mu     sync.Mutex
	events []results.Event
	wg     sync.WaitGroup
}

// shift delays every step by d (before start).
func (r *faultRunner) shift(d time.Duration) {
	for i := range r.steps {
		r.steps[i].at += d
	}
}

// start runs the plan in the background, relative to t0. Cancelling ctx
// stops the remaining steps.
func (r *faultRunner) start(ctx context.Context, t0 time.Time) {
	if len(r.steps) == 0 {
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for _, st := range r.steps {
			wait := time.Until(t0.Add(st.at))
			if wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
			actx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := r.driver.Fault(actx, st.target, st.action)
			cancel()
			ev := results.Event{
				AtSeconds: time.Since(t0).Seconds(),
				Kind:      st.kind,
				Target:    st.target,
				Action:    string(st.action),
				Message:   describeStep(st),
			}
			if err != nil {
				ev.Kind = "error"
				ev.Message = fmt.Sprintf("%s %s failed: %v", st.action, st.target, err)
			}
			r.mu.Lock()
			r.events = append(r.events, ev)
			r.mu.Unlock()
		}
	}()
}

// wait blocks until the plan is done or cancelled, then returns its events.
func (r *faultRunner) wait() []results.Event {
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]results.Event(nil), r.events...)
}

// describeStep says what a step did, in the words of the spec.
func describeStep(st faultStep) string {
	switch st.action {
	case spec.FaultKill:
		return "killed"
	case spec.FaultStop:
		return "paused (SIGSTOP or docker pause)"
	case spec.FaultCont:
		return "resumed"
	case spec.FaultRestart:
		return "restarted"
	}
	return string(st.action)
}
