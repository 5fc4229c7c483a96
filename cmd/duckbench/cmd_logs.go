package main

import (
	"github.com/spf13/cobra"
)

func init() { register(newLogsCmd) }

func newLogsCmd() *cobra.Command {
	var f stackFlags
	c := &cobra.Command{
		Use:   "logs SPEC [SERVICE]",
		Short: "Print the logs of a stack's services",
		Long: `Print the log of one service (a Redis node, an app or haproxy, by its name in
the spec), or of every service when none is given. Local logs live in
<run dir>/logs/<service>.log and are kept after duckbench down.`,
		Example: `  duckbench logs examples/seed.yaml
  duckbench logs examples/seed.yaml redis-replica-1`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, d, err := f.loadDriver(args[0])
			if err != nil {
				return err
			}
			service := ""
			if len(args) == 2 {
				service = args[1]
			}
			if err := d.Logs(cmd.Context(), service, cmd.OutOrStdout()); err != nil {
				return depErr(err)
			}
			return nil
		},
	}
	f.add(c)
	return c
}
