package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/agents"
	"github.com/duckbench/duckbench/appimage"
	"github.com/duckbench/duckbench/runner"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
	"github.com/duckbench/duckbench/swarm"
)

// agentFlags are the load-agent flags of run and capacity (check has them
// through run's flags and refuses them).
type agentFlags struct {
	agents   int
	agentImg string
	lead     time.Duration
}

func (f *agentFlags) add(c *cobra.Command) {
	fl := c.Flags()
	fl.IntVar(&f.agents, "agents", 0, "shard the attack over N load agents deployed as a swarm service (needs --runtime swarm); the result is their exact merge")
	fl.StringVar(&f.agentImg, "agent-image", "", "image of the load agents (default duckbench:<version>, built from this binary when missing)")
	fl.DurationVar(&f.lead, "agent-start-lead", agents.DefaultStartLead, "with --agents: the agents' common start lies this far after their deployment")
}

// configure turns --agents N into the swarm fleet of the session; repeat
// is the command's --repeat (1 when it has none).
func (f *agentFlags) configure(s *spec.Spec, st *stackFlags, repeat int, o *runner.Options) error {
	if f.agents == 0 {
		return nil
	}
	rt := st.runtime
	if rt == "" || rt == "auto" {
		rt = s.Runtime
	}
	switch {
	case f.agents < 0:
		return usageErr(fmt.Errorf("--agents: must be >= 1 (got %d)", f.agents))
	case rt != stack.RuntimeSwarm:
		return usageErr(fmt.Errorf("--agents: load agents run as a swarm service; needs --runtime swarm (got %q)", rt))
	case repeat > 1:
		return usageErr(errors.New("--agents: does not combine with --repeat"))
	case f.lead <= 0:
		return usageErr(fmt.Errorf("--agent-start-lead: must be > 0 (got %v)", f.lead))
	}
	runDir := st.runDir
	if runDir == "" {
		runDir = defaultRunDir(s)
	}
	img := f.agentImg
	if img == "" {
		img = appimage.Tag(version)
	}
	o.Fleet = &swarm.Fleet{RunDir: runDir, Agents: f.agents, Image: img, Lead: f.lead, Progress: progress, Registry: st.registry}
	return nil
}

func init() { register(newAgentCmd) }

// newAgentCmd is one load agent of a sharded run (hidden: the coordinator,
// `duckbench run --agents N`, starts it as a swarm service). Its plan and
// index come from the environment; its result goes to stdout as the lines
// the coordinator reads back from the service's logs.
func newAgentCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "agent",
		Short:  "Run one shard of a sharded attack (started by run --agents N)",
		Hidden: true,
		Long: `agent reads its plan from ` + agents.PlanEnv + ` and its 1-based index from
` + agents.IndexEnv + `, announces itself with its clock reading, waits for the
common start, drives its share of the schedule and prints its result
(histograms, counts, raw results if asked) as checksummed lines on stdout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := agents.DecodePlan(os.Getenv(agents.PlanEnv))
			if err != nil {
				return usageErr(err)
			}
			idx, err := strconv.Atoi(os.Getenv(agents.IndexEnv))
			if err != nil {
				return usageErr(fmt.Errorf("%s: %w", agents.IndexEnv, err))
			}
			shift, err := agents.ParseShift(os.Getenv(agents.ShiftEnv), idx)
			if err != nil {
				return usageErr(err)
			}
			fmt.Fprintf(os.Stderr, "agent %d of %d: start at %s, %v against %s\n", idx, p.Agents,
				p.Start.Format(time.RFC3339Nano), p.Duration, p.Target)
			work, _, stop := interruptible(cmd.Context())
			defer stop()
			if err := agents.Serve(work, cmd.OutOrStdout(), p, idx, shift); err != nil {
				if errors.Is(err, agents.ErrBadIndex) {
					return usageErr(err)
				}
				return depErr(err)
			}
			return nil
		},
	}
}
