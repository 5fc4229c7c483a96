package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/runner"
	"github.com/duckbench/duckbench/spec"
)

func init() { register(newCapacityCmd) }

// capacityFlags are the flags of `duckbench capacity`.
type capacityFlags struct {
	sessionFlags
	slo          string
	maxTime      time.Duration
	start        float64
	maxRate      float64
	stepDuration time.Duration
	cooldown     time.Duration
	precision    float64
	// maxTimeName and cooldownName are the flags' names (sweep renames them).
	maxTimeName, cooldownName string
	agentFlags
}

func newCapacityCmd() *cobra.Command {
	var f capacityFlags
	c := &cobra.Command{
		Use:   "capacity SPEC",
		Short: "Find the highest request rate the stack sustains within an SLO",
		Long: `capacity brings the stack up once and searches for the highest rate that meets
the SLO: short open-loop trials at a constant rate, the rate doubling from
--start until a trial breaks the SLO, then a binary search between the last
good and the first bad rate until that bracket is within --precision. A
cooldown separates the trials. A trial whose load generator could not keep up
is "unknown": it says nothing about the server, bounds the search from above,
and the rate found is then only a lower bound.

One noisy trial does not bound the search: a step whose first trial does not
pass (the start rate's too) is tried again at its rate, and when the two
disagree a third decides; the step's outcome is the majority's and the step
table shows every trial ("fail, pass, pass"). Each trial is judged on its own
attack window, replication included (max_replication_delay: the heartbeats
published during the trial).

The SLO is --slo (default: the spec's slo section): comma-separated terms
  p50|p90|p99|p999|max < DURATION     e.g. p99<50ms
  success > PERCENT                   e.g. success>99.9%
  rate > REQ/S                        minimum achieved rate
The whole search stops at --max-time and reports the bracket found so far.
Every step is stored in results/<UTC timestamp>-<spec>/result.json and charted
in report.html.

With --runtime swarm --agents N every step is a sharded attack on N load
agents (deployed anew per step, so each step also waits --agent-start-lead);
a step with a missing agent ends the search, incomplete.

Exit codes: 0 a rate was found, 1 even the start rate broke the SLO, 2 bad
spec or usage, 3 the stack or a dependency failed (or a load agent's shard is
missing), 130 interrupted.`,
		Example: `  duckbench capacity examples/seed.yaml --slo 'p99<20ms' --max-time 3m
  duckbench capacity examples/seed.yaml --slo 'p99<50ms,success>99.9%' --start 200 --max-rate 5000
  duckbench capacity examples/seed.yaml --slo 'p999<100ms' --step-duration 10s --cooldown 5s`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCapacity(cmd, &f, args[0])
		},
	}
	f.sessionFlags.add(c)
	f.agentFlags.add(c)
	f.addSearch(c, "max-time", "cooldown")
	return c
}

// addSearch adds the search's flags to c, the bound on one search and the
// pause between its steps under the names given.
func (f *capacityFlags) addSearch(c *cobra.Command, maxTime, cooldown string) {
	f.maxTimeName, f.cooldownName = maxTime, cooldown
	fl := c.Flags()
	fl.StringVar(&f.slo, "slo", "", `SLO each step must meet, e.g. 'p99<50ms,success>99.9%' (default: the spec's slo)`)
	fl.DurationVar(&f.maxTime, maxTime, runner.DefaultCapacityMaxTime, "bound on the whole search")
	fl.Float64Var(&f.start, "start", runner.DefaultCapacityStart, "first rate tried (req/s)")
	fl.Float64Var(&f.maxRate, "max-rate", 0, "highest rate tried (req/s; 0 = no cap)")
	fl.DurationVar(&f.stepDuration, "step-duration", runner.DefaultCapacityStepDuration, "length of each constant-rate trial")
	fl.DurationVar(&f.cooldown, cooldown, runner.DefaultCapacityCooldown, "pause between trials")
	fl.Float64Var(&f.precision, "precision", runner.DefaultCapacityPrecision, "stop when the bracket is narrower than this share of its top")
}

// capacityConfig checks the flags and turns them into a search config.
func (f *capacityFlags) capacityConfig(s *spec.Spec) (runner.CapacityConfig, error) {
	cfg := runner.CapacityConfig{
		Start: f.start, MaxRate: f.maxRate, StepDuration: f.stepDuration,
		Cooldown: f.cooldown, MaxTime: f.maxTime, Precision: f.precision,
	}
	switch {
	case f.slo != "":
		slo, err := runner.ParseSLO(f.slo)
		if err != nil {
			return cfg, usageErr(fmt.Errorf("--slo: %w", err))
		}
		cfg.SLO, cfg.SLOText = slo, f.slo
	case s.SLO != (spec.SLO{}):
		cfg.SLO = s.SLO
	default:
		return cfg, usageErr(errors.New("no SLO: pass --slo (e.g. --slo 'p99<50ms,success>99.9%') or set the spec's slo section"))
	}
	cfg.SLO, cfg.SLOText = results.WithDefaultSuccess(cfg.SLO, cfg.SLOText, runner.FormatSLO)
	switch {
	case f.start <= 0:
		return cfg, usageErr(fmt.Errorf("--start: must be > 0 req/s (got %g)", f.start))
	case f.maxRate < 0:
		return cfg, usageErr(fmt.Errorf("--max-rate: must be >= 0 (got %g)", f.maxRate))
	case f.maxRate > 0 && f.maxRate < f.start:
		return cfg, usageErr(fmt.Errorf("--max-rate %g is below --start %g", f.maxRate, f.start))
	case f.stepDuration < time.Second:
		return cfg, usageErr(fmt.Errorf("--step-duration: must be at least 1s (got %v)", f.stepDuration))
	case f.cooldown < 0:
		return cfg, usageErr(fmt.Errorf("--%s: must not be negative (got %v)", f.cooldownName, f.cooldown))
	case f.maxTime < f.stepDuration:
		return cfg, usageErr(fmt.Errorf("--%s %v leaves no room for one %v step", f.maxTimeName, f.maxTime, f.stepDuration))
	case f.precision <= 0 || f.precision >= 1:
		return cfg, usageErr(fmt.Errorf("--precision: must be between 0 and 1 (got %g)", f.precision))
	}
	if f.cooldown == 0 {
		cfg.Cooldown = -1 // no cooldown; zero would mean the default
	}
	return cfg, nil
}

func runCapacity(cmd *cobra.Command, f *capacityFlags, path string) error {
	var cfg runner.CapacityConfig
	ss, err := f.prepare(cmd, path, func(s *spec.Spec, o *runner.Options) (err error) {
		if cfg, err = f.capacityConfig(s); err != nil {
			return err
		}
		return f.agentFlags.configure(s, &f.stackFlags, 1, o)
	})
	if err != nil {
		return err
	}
	defer ss.stop()
	out, err := runner.Capacity(ss.work, ss.spec, ss.opts, runner.CapacityOptions{CapacityConfig: cfg, Table: progress})
	if out != nil && out.Capacity != nil {
		fmt.Fprintln(cmd.OutOrStdout())
		fmt.Fprintln(cmd.OutOrStdout(), capacityLine(out))
	}
	var rec *runner.Outcome
	if out != nil {
		rec = &out.Outcome
	}
	if errors.Is(err, runner.ErrNoCapacity) && ss.work.Err() == nil {
		return checkErr(fmt.Errorf("%w (%s); try a lower --start", err, cfg.SLOText))
	}
	// The record's SLO verdict is the capacity's own: the exit says
	// whether a rate was found, not how the whole search fared.
	return sessionExit(ss.work, rec, err, "steps so far", false)
}

// capacityLine is the one-line answer: the rate and its bracket.
func capacityLine(out *runner.CapacityOutcome) string {
	c := out.Capacity
	if c.Rate == 0 {
		return fmt.Sprintf("capacity: none found (SLO %s)", c.SLO)
	}
	hi := "not reached"
	if c.HighBad > 0 {
		hi = fmt.Sprintf("%g req/s", c.HighBad)
	}
	s := fmt.Sprintf("capacity: %g req/s (SLO %s), bracket [%g req/s, %s)", c.Rate, c.SLO, c.LowGood, hi)
	if out.Saturated {
		s += "; the load generator saturated above it, so this is a lower bound"
	}
	if c.TimedOut {
		s += "; --max-time reached, the bracket is what was found so far"
	}
	return s + fmt.Sprintf("; %d steps", len(c.Steps))
}
