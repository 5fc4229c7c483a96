package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(newDownCmd) }

func newDownCmd() *cobra.Command {
	var f stackFlags
	c := &cobra.Command{
		Use:   "down SPEC",
		Short: "Stop and remove everything a spec's stack started",
		Long: `Stop every process (local) or container, network and volume (compose) of the
stack, and only those. The local runtime reads state.json from the run
directory and checks each PID is still the program it started (start time and
executable) before signalling it: SIGTERM, then SIGKILL after a grace period.
Works after a crash of duckbench; does nothing when nothing is up.`,
		Example: `  duckbench down examples/seed.yaml
  duckbench down spec.yaml --run-dir /tmp/bench`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, d, err := f.loadDriver(args[0])
			if err != nil {
				return err
			}
			_, abort, stop := interruptible(cmd.Context())
			defer stop()
			if err := d.Down(abort); err != nil {
				return depErr(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "stack %q is down\n", s.Name)
			return nil
		},
	}
	f.add(c)
	return c
}
