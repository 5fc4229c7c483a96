package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

// Capacity search defaults (flags of `duckbench capacity`).
const (
	DefaultCapacityStart        = 50.0
	DefaultCapacityStepDuration = 5 * time.Second
	DefaultCapacityCooldown     = 2 * time.Second
	DefaultCapacityMaxTime      = 3 * time.Minute
	// DefaultCapacityPrecision ends the binary search once the bracket
	// [last good, first bad) is narrower than this share of its top.
	DefaultCapacityPrecision = 0.05
)

// Outcomes of a capacity step.
const (
	StepPass    = "pass"
	StepFail    = "fail"
	StepUnknown = "unknown" // only the generator could not keep up: no verdict on the server
)

// CapacityConfig configures a capacity search. Zero values take the
// DefaultCapacity* values.
type CapacityConfig struct {
	// SLO is what a step must meet to pass; SLOText is recorded with it.
	SLO     spec.SLO
	SLOText string
	// Start is the first rate tried (req/s); the rate doubles from there
	// until a step fails. MaxRate caps every rate tried (0: no cap).
	Start, MaxRate float64
	// StepDuration is each step's open-loop trial, Cooldown the pause
	// before the next one (negative: none).
	StepDuration, Cooldown time.Duration
	// MaxTime bounds the whole search: no step starts that could not end
	// (with its cooldown) within it.
	MaxTime time.Duration
	// Precision is the bracket width (share of its top) that ends the search.
	Precision float64
	// OnStep is told each settled step (e.g. to print it).
	OnStep func(results.CapacityStep)
	// Replication returns the replication figures of a trial's attack
	// window, which the trial is judged on with the rest of the SLO (nil:
	// none; an SLO with max_replication_delay then fails every step).
	Replication func(ctx context.Context, rep *load.Report) []results.ReplicaStats
	// Now and Sleep are the clock (tests); Sleep reports whether d passed
	// before ctx was done.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) bool
}

func (c *CapacityConfig) defaults() {
	if c.Start <= 0 {
		c.Start = DefaultCapacityStart
	}
	if c.StepDuration <= 0 {
		c.StepDuration = DefaultCapacityStepDuration
	}
	if c.Cooldown == 0 {
		c.Cooldown = DefaultCapacityCooldown
	}
	if c.MaxTime <= 0 {
		c.MaxTime = DefaultCapacityMaxTime
	}
	if c.Precision <= 0 {
		c.Precision = DefaultCapacityPrecision
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = sleep
	}
	if c.SLOText == "" {
		c.SLOText = FormatSLO(c.SLO)
	}
}

// Trier runs one open-loop trial at a constant rate (req/s).
type Trier func(ctx context.Context, rate float64) (*load.Report, error)

// ErrNoCapacity says even the start rate did not meet the SLO (or could
// not be judged): there is no sustainable rate to report.
var ErrNoCapacity = errors.New("no sustainable rate: the start rate did not meet the SLO")

// SearchCapacity finds the highest rate at which try's trials meet the SLO:
// the rate doubles from Start until a step fails, then a binary search
// between the last good and the first bad rate narrows the bracket to
// Precision. A step whose system under test could not keep up fails; a
// step whose generator alone could not is "unknown": it is no verdict on
// the server, but no higher rate can be judged either, so it bounds the
// search from above without counting as the first bad rate.
//
// One noisy trial (a hiccup of the machine, a GC pause, a freeze) must not
// bound the search: a step whose first trial does not pass — the start
// rate's included — is tried again, and when the two disagree a third
// decides; the step's outcome is the majority's (see settled).
//
// It returns the capacity found so far in every case: with TimedOut set when
// MaxTime ran out, with ErrNoCapacity when the start rate did not pass, and
// with ctx's error or try's error when the search was cut short.
func SearchCapacity(ctx context.Context, cfg CapacityConfig, try Trier) (*results.Capacity, error) {
	cfg.defaults()
	s := &searcher{ctx: ctx, cfg: cfg, try: try, c: &results.Capacity{SLO: cfg.SLOText},
		deadline: cfg.Now().Add(cfg.MaxTime), tried: map[float64]string{}}
	c := s.c
	var lo, bad, unknown float64 // last good, first bad, lowest unknown (0 = none)
	ceiling := func() float64 {  // the lowest rate known not to be sustainable-or-judgeable
		switch {
		case bad > 0 && unknown > 0:
			return math.Min(bad, unknown)
		case bad > 0:
			return bad
		}
		return unknown
	}
	finish := func(err error) (*results.Capacity, error) {
		c.Rate, c.LowGood, c.HighBad = lo, lo, bad
		if err == nil && lo == 0 {
			err = ErrNoCapacity
		}
		return c, err
	}

	// Exponential growth.
	rate := cfg.Start
	if cfg.MaxRate > 0 && rate > cfg.MaxRate {
		rate = cfg.MaxRate
	}
	for {
		o, ok, err := s.step(rate)
		if !ok {
			return finish(err)
		}
		if o == StepPass {
			lo = rate
			if cfg.MaxRate > 0 && rate >= cfg.MaxRate {
				return finish(nil) // meets the SLO at the cap
			}
			rate = roundRate(rate * 2)
			if cfg.MaxRate > 0 && rate > cfg.MaxRate {
				rate = cfg.MaxRate
			}
			continue
		}
		if o == StepFail {
			bad = rate
		} else {
			unknown = rate
		}
		break
	}
	if lo == 0 {
		return finish(nil) // the start rate failed or could not be judged
	}

	// Binary search in [lo, ceiling).
	for {
		hi := ceiling()
		if (hi-lo)/hi <= cfg.Precision {
			return finish(nil)
		}
		mid := roundRate((lo + hi) / 2)
		if mid <= lo || mid >= hi {
			return finish(nil) // rounding leaves nothing between
		}
		o, ok, err := s.step(mid)
		if !ok {
			return finish(err)
		}
		switch o {
		case StepPass:
			lo = mid
		case StepFail:
			bad = mid
		default:
			unknown = mid
		}
	}
}

// searcher runs the steps of one search.
type searcher struct {
	ctx      context.Context
	cfg      CapacityConfig
	try      Trier
	c        *results.Capacity
	deadline time.Time
	tried    map[float64]string // rate → settled outcome
	nTrials  int
}

// step settles the outcome at rate with as many trials as settled wants;
// ok is false when the search must stop (time, ctx or an error) and err
// says why when it is an error. A step the search stopped in before it
// was settled is recorded with its trials so far, but bounds nothing.
func (s *searcher) step(rate float64) (outcome string, ok bool, err error) {
	if o, done := s.tried[rate]; done {
		return o, true, nil
	}
	var trials []results.CapacityTrial
	for !settled(trials) {
		tr, ok, err := s.trial(rate)
		if !ok {
			if len(trials) > 0 {
				last := trials[len(trials)-1]
				last.Why += "; not confirmed: the search ended before another trial"
				trials[len(trials)-1] = last
				s.record(rate, trials)
			}
			return "", false, err
		}
		trials = append(trials, tr)
	}
	st := s.record(rate, trials)
	s.tried[rate] = st.Outcome
	return st.Outcome, true, nil
}

// record adds the step at rate to the search, with the figures of its
// last trial, and tells OnStep.
func (s *searcher) record(rate float64, trials []results.CapacityTrial) results.CapacityStep {
	last := trials[len(trials)-1]
	st := results.CapacityStep{Rate: rate, Outcome: last.Outcome, Why: last.Why, Seed: last.Seed,
		Summary: last.Summary, Replication: last.Replication}
	if len(trials) > 1 {
		st.Trials = trials
	}
	s.c.Steps = append(s.c.Steps, st)
	if s.cfg.OnStep != nil {
		s.cfg.OnStep(st)
	}
	return st
}

// settled says whether trials decide their step: a first trial that
// passes does; one that does not is confirmed by a second, and when the
// two disagree a third decides. The outcome is then the last trial's,
// which is always the majority's: one noisy trial cannot flip a step.
func settled(trials []results.CapacityTrial) bool {
	var pass, not int
	for _, tr := range trials {
		if tr.Outcome == StepPass {
			pass++
		} else {
			not++
		}
	}
	return (pass == 1 && not == 0) || pass >= 2 || not >= 2
}

// trial runs one trial at rate after the cooldown, if the deadline leaves
// room for it; ok is false when the search must stop.
func (s *searcher) trial(rate float64) (tr results.CapacityTrial, ok bool, err error) {
	cool := max(s.cfg.Cooldown, 0)
	need := s.cfg.StepDuration
	if s.nTrials > 0 {
		need += cool
	}
	if s.cfg.Now().Add(need).After(s.deadline) {
		s.c.TimedOut = true
		return tr, false, nil
	}
	if s.nTrials > 0 && cool > 0 && !s.cfg.Sleep(s.ctx, cool) {
		return tr, false, s.ctx.Err()
	}
	s.nTrials++
	rep, err := s.try(s.ctx, rate)
	if s.ctx.Err() != nil {
		// A cut-short trial is no evidence either way.
		return tr, false, s.ctx.Err()
	}
	if err != nil {
		return tr, false, fmt.Errorf("capacity step at %g req/s: %w", rate, err)
	}
	var repl []results.ReplicaStats
	if s.cfg.Replication != nil {
		repl = s.cfg.Replication(s.ctx, rep)
	}
	outcome, why := judgeStep(s.cfg.SLO, rep, repl)
	return results.CapacityTrial{Outcome: outcome, Why: why, Seed: rep.Plan.Seed, Summary: rep.Summary, Replication: repl}, true, nil
}

// judgeStep is a step's outcome and why. The step is judged on its
// intended-time latency (the report's primary figure) and on the
// replication readings of its own attack window (repl). A system under
// test that could not keep up — the schedule slipped with every worker
// busy at the machine's hard cap, or waiting on a server whose service
// time had grown — breaks the SLO however the percentiles came out: fail.
// A generator that could not keep up by itself (CPU, or a configured
// worker cap while the server answered as usual) leaves the step unknown:
// no verdict on the server, never a fail.
func judgeStep(slo spec.SLO, rep *load.Report, repl []results.ReplicaStats) (outcome, why string) {
	switch {
	case rep.SUTBound:
		why = "the system under test could not keep up (the schedule slipped while its service time grew"
		if rep.Plan.WorkersUsed >= rep.Plan.MaxWorkers {
			why = fmt.Sprintf("the system under test could not keep up (the schedule slipped at the cap of %d requests in flight", rep.Plan.MaxWorkers)
		}
		if len(rep.Stalls) > 0 {
			why = fmt.Sprintf("%s; %d stall(s)", why, len(rep.Stalls))
		}
		return StepFail, why + ")"
	case rep.Saturated && rep.SaturationCause == load.SaturationCap:
		return StepUnknown, fmt.Sprintf("unknown (generator cap): all %d workers busy at the configured cap while the server answered as usual: no verdict on the server", rep.Plan.MaxWorkers)
	case rep.Saturated:
		return StepUnknown, "unknown (generator CPU): the load generator could not keep up with workers free: no verdict on the server"
	}
	v := results.EvaluateSLO(slo, &results.Result{Summary: rep.Summary, Replication: repl})
	if v.Pass {
		return StepPass, "SLO met"
	}
	var broken []string
	for _, c := range v.Checks {
		if !c.Pass {
			broken = append(broken, fmt.Sprintf("%s %s (observed %s)", c.Name, c.Threshold, c.Observed))
		}
	}
	return StepFail, "SLO broken: " + strings.Join(broken, ", ")
}

// roundRate keeps rates readable: whole req/s from 20 up, tenths below.
func roundRate(r float64) float64 {
	if r >= 20 {
		return math.Round(r)
	}
	return math.Round(r*10) / 10
}

// CapacityOptions configure Capacity (the command's flags).
type CapacityOptions struct {
	CapacityConfig
	// Table receives one line per step as it finishes (nil: none).
	Table io.Writer
}

// CapacityOutcome is what a capacity search leaves behind.
type CapacityOutcome struct {
	Outcome
	Capacity *results.Capacity
	// Saturated is true when the search was bounded by the generator, not
	// by the server: the rate found is then only a lower bound.
	Saturated bool
}

// Capacity brings the stack of s up once, searches for its capacity with
// short constant-rate trials (see SearchCapacity), records every step in a
// result (result.json + report.html) and tears the stack down. The error is
// ErrNoCapacity when the start rate failed, ErrStackDown when the stack died,
// ctx's error when interrupted; the outcome is returned whenever a result
// was recorded.
func Capacity(ctx context.Context, s *spec.Spec, o Options, co CapacityOptions) (out *CapacityOutcome, err error) {
	ss, err := Start(ctx, s, o)
	if err != nil {
		return nil, err
	}
	defer ss.closeInto(&err)
	r := ss.NewResult()
	out = &CapacityOutcome{Outcome: Outcome{Result: r, Dir: ss.Dir, ExporterAddr: ss.ExporterAddr}}

	cfg := co.CapacityConfig
	cfg.defaults()
	userStep := cfg.OnStep
	var reports []*load.Report
	stepReport := map[float64]*load.Report{}
	var stackErr error
	cfg.OnStep = func(st results.CapacityStep) {
		if n := len(reports); n > 0 {
			stepReport[st.Rate] = reports[n-1]
		}
		if co.Table != nil {
			writeStepRows(co.Table, st)
		}
		if userStep != nil {
			userStep(st)
		}
	}
	if cfg.Replication == nil {
		cfg.Replication = ss.Replication
	}
	seed, keys := s.Load.Seed, s.Load.Keys.Count
	if seed == 0 {
		seed = 1
	}
	if keys <= 0 {
		keys = load.DefaultKeyCount
	}
	stepAgents := map[float64][]results.AgentStats{}
	var lastAgents []results.AgentStats
	try := func(ctx context.Context, rate float64) (*load.Report, error) {
		rt := spec.Rate(rate)
		// Step i draws its own seeded sequence on its own keys (numbered
		// from i × keys.count): no step runs on a cache an earlier one warmed.
		i := len(reports)
		ao := AttackOptions{Rate: &rt, Duration: cfg.StepDuration, Constant: true,
			Seed: seed + int64(i), KeyOffset: i * keys,
			OnPlan: func(p results.LoadPlan) {
				if r.Plan.Shape == "" {
					r.Plan = p
				}
			}}
		var rep *load.Report
		var err error
		if ss.o.Fleet != nil {
			// Every step is its own sharded attack: the agents' table of
			// the record is the step's whose figures it shows.
			rep, lastAgents, err = ss.attackAgents(ctx, ao)
			stepAgents[rate] = lastAgents
		} else {
			rep, err = ss.Attack(ctx, ao)
		}
		if rep != nil {
			reports = append(reports, rep)
		}
		if err != nil {
			return rep, err
		}
		// A step whose stack died is no verdict: stop the search.
		if err := ss.CheckStack(ctx); err != nil {
			stackErr = err
			return rep, err
		}
		return rep, nil
	}
	ss.logf("capacity search on %s: SLO %s, start %g req/s, steps of %v with %v cooldown, at most %v",
		ss.Endpoints.HAProxy.URL, cfg.SLOText, cfg.Start, cfg.StepDuration, max(cfg.Cooldown, 0), cfg.MaxTime)
	writeStepHeader(co.Table)
	capa, searchErr := SearchCapacity(ctx, cfg, try)
	if stackErr != nil {
		searchErr = stackErr
	}
	for _, st := range capa.Steps {
		if st.Outcome == StepUnknown && (capa.HighBad == 0 || st.Rate < capa.HighBad) {
			out.Saturated = true
		}
	}
	out.Capacity = capa
	e := Ending{Reports: reports, T0: ss.T0, Err: searchErr, Amend: func(r *results.Result) {
		// The steps are not trials of one attack: the record's figures are
		// the step at the rate found; the timeline keeps every step.
		r.Trials = nil
		if rep := stepReport[capa.Rate]; rep != nil && capa.Rate > 0 {
			r.Summary, r.Histogram, r.ServiceHistogram, r.Targets, r.AppShare = rep.Summary, rep.Histogram, rep.ServiceHistogram, rep.Targets, rep.AppShare
			r.Servers = rep.Servers
			r.SUTBound = rep.SUTBound // the steps above the rate found are in Capacity.Steps
		}
		r.Capacity = capa
		if repl := foundReplication(capa); repl != nil {
			r.Replication = repl // the step the verdict is of
		}
		r.Agents = stepAgents[capa.Rate]
		if errors.Is(searchErr, ErrIncomplete) || r.Agents == nil {
			r.Agents = lastAgents
		}
		r.Plan.Rate = capa.Rate
		r.Plan.DurationSeconds = cfg.StepDuration.Seconds()
		r.GeneratorSaturated = out.Saturated
	}}
	if errors.Is(searchErr, ErrNoCapacity) {
		e.Err = nil // a finding, not a failure of the run
	}
	if capa.Rate > 0 {
		// The record's verdict is the capacity's: the SLO held at the rate found.
		e.SLO = &cfg.SLO
	}
	if out.Path, out.HTML, err = ss.Finish(ctx, r, e); err != nil {
		return out, err
	}
	return out, searchErr
}

// foundReplication is the replication of the step at the rate found (nil:
// none found, or no probes).
func foundReplication(c *results.Capacity) []results.ReplicaStats {
	for _, st := range c.Steps {
		if c.Rate > 0 && st.Rate == c.Rate {
			return st.Replication
		}
	}
	return nil
}

// writeStepHeader heads the live table w (nil: none).
func writeStepHeader(w io.Writer) {
	if w != nil {
		fmt.Fprintf(w, "%-10s %-8s %-5s %10s %9s %9s %9s %9s  %s\n", "rate", "outcome", "trial", "throughput", "success", "p50", "p99", "svc p99", "why")
	}
}

// writeStepRows writes a settled step to the live table: one row per
// trial, the last one (which settled it) with the step's outcome and,
// when it took more than one, the trials' outcomes in order.
func writeStepRows(w io.Writer, st results.CapacityStep) {
	trials := st.Trials
	if len(trials) == 0 {
		trials = []results.CapacityTrial{{Outcome: st.Outcome, Why: st.Why, Summary: st.Summary}}
	}
	for i, tr := range trials {
		sum := tr.Summary
		svc := "-"
		if sum.ServiceTime != nil {
			svc = results.FormatSeconds(sum.ServiceTime.P99)
		}
		why := tr.Why
		if i == len(trials)-1 && len(trials) > 1 {
			why = fmt.Sprintf("%s → step %s (trials: %s)", why, st.Outcome, st.Confirmation())
		}
		fmt.Fprintf(w, "%-10g %-8s %-5s %10.1f %9s %9s %9s %9s  %s\n", st.Rate, tr.Outcome, fmt.Sprintf("%d/%d", i+1, len(trials)), sum.Throughput,
			results.FormatPercent(sum.SuccessRatio), results.FormatSeconds(sum.Latency.P50), results.FormatSeconds(sum.Latency.P99), svc, why)
	}
}
