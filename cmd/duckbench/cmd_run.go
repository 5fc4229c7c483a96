package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/runner"
	"github.com/duckbench/duckbench/spec"
)

func init() { register(newRunCmd) }

// runFlags are the flags of run and check: a session plus what one attack
// (or --repeat N) takes.
type runFlags struct {
	sessionFlags
	duration time.Duration
	rate     *spec.Rate
	repeat   int
	raw      bool
	agentFlags
}

func (f *runFlags) add(c *cobra.Command) {
	f.sessionFlags.add(c)
	fl := c.Flags()
	fl.DurationVar(&f.duration, "duration", 0, "attack duration (overrides load.duration)")
	fl.Var(rateFlag{&f.rate}, "rate", `request rate in req/s or "max" (overrides load.rate)`)
	fl.IntVar(&f.repeat, "repeat", 1, "run the attack N times (trials) for a noise-aware compare")
	fl.BoolVar(&f.raw, "raw", false, "also save every request result in vegeta's format (results.bin; with --agents one agent-<i>.bin per agent): timestamp = intended send time, latency from it, as `vegeta report` reads it")
	f.agentFlags.add(c)
}

// configure adds the attack flags to the runner options.
func (f *runFlags) configure(s *spec.Spec, o *runner.Options) error {
	if f.duration < 0 {
		return usageErr(fmt.Errorf("--duration: must be > 0 (got %v)", f.duration))
	}
	if f.repeat < 1 {
		return usageErr(fmt.Errorf("--repeat: must be >= 1 (got %d)", f.repeat))
	}
	o.Duration, o.Rate, o.Repeat, o.Raw = f.duration, f.rate, f.repeat, f.raw
	return f.agentFlags.configure(s, &f.stackFlags, f.repeat, o)
}

func newRunCmd() *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "run SPEC",
		Short: "Bring the stack up, drive load through HAProxy, record and report the result, tear down",
		Long: `run is the whole benchmark: render the spec, bring the stack up (local
processes by default), start the probes and the Prometheus exporter, attack
HAProxy with the spec's load, inject its faults, write
results/<UTC timestamp>-<spec>/result.json and report.html, print the summary
and the SLO verdict, and tear the stack down.

Ctrl-C stops the attack, keeps the results so far (marked interrupted) and
tears down; a second Ctrl-C aborts at once but still stops what was started.

With --runtime swarm --agents N the attack runs on N load agents, a swarm
service of the stack: each sends every N-th request of the schedule from a
common start, and the result is the exact merge of their histograms and
counts, with a per-agent table. A missing agent marks the run incomplete.

Exit codes: 0 ok, 1 SLO violated, 2 bad spec or usage, 3 the stack or a
dependency failed (or a load agent's shard is missing), 130 interrupted.`,
		Example: `  duckbench run examples/seed.yaml
  duckbench run examples/seed.yaml --duration 10s --rate 500
  duckbench run examples/seed.yaml --rate max --duration 30s --raw
  duckbench run examples/seed.yaml --repeat 5 --results results/
  duckbench run examples/seed.yaml --prometheus
  DUCKBENCH_REDIS_PASSWORD=… duckbench run examples/seed.yaml --runtime swarm --agents 3`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := runSpec(cmd, &f, args[0])
			return err
		},
	}
	f.add(c)
	return c
}

// runSpec performs a run and maps its outcome to an exit code.
func runSpec(cmd *cobra.Command, f *runFlags, path string) (*runner.Outcome, error) {
	ss, err := f.prepare(cmd, path, f.configure)
	if err != nil {
		return nil, err
	}
	defer ss.stop()
	out, err := runner.Run(ss.work, ss.spec, ss.opts)
	return out, sessionExit(ss.work, out, err, "partial result", true)
}
