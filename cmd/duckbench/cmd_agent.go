package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/agents"
)

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
			out := cmd.OutOrStdout()
			if err := agents.WriteHello(out, idx, time.Now()); err != nil {
				return depErr(err)
			}
			fmt.Fprintf(os.Stderr, "agent %d of %d: start at %s, %v against %s\n", idx, p.Agents,
				p.Start.Format(time.RFC3339Nano), p.Duration, p.Target)
			work, _, stop := interruptible(cmd.Context())
			defer stop()
			s, err := agents.Run(work, p, idx, nil)
			if err != nil {
				if errors.Is(err, agents.ErrBadIndex) {
					return usageErr(err)
				}
				if s == nil {
					return depErr(err)
				}
			}
			if werr := agents.WriteShard(out, s); werr != nil {
				return depErr(werr)
			}
			return depErr(err)
		},
	}
}
