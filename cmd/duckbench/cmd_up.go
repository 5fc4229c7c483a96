package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func init() { register(newUpCmd) }

func newUpCmd() *cobra.Command {
	var f stackFlags
	c := &cobra.Command{
		Use:   "up SPEC",
		Short: "Bring a spec's stack up (Redis master and replicas, apps, HAProxy) and wait until healthy",
		Long: `Render the spec into the run directory and start the stack: the Redis master,
then the replicas (until their link is up), then the apps, then HAProxy (until
every server is UP). Every listener is on 127.0.0.1. The stack keeps running
after up returns; stop it with duckbench down.

With the local runtime, state.json in the run directory records every process,
so duckbench down works even after duckbench itself was killed. Ctrl-C during
up stops what was started.

--runtime auto (the default, unless the spec names a runtime) prints what it
chose and why: the runtime of a stack of this spec that is up, else local when
haproxy and redis-server are on PATH, else compose when a Docker engine
answers. The compose runtime runs the built-in app from duckbench:<version>,
built from this binary when missing (see duckbench image build).`,
		Example: `  duckbench up examples/seed.yaml
  duckbench up examples/seed.yaml --runtime compose
  duckbench up spec.yaml --run-dir /tmp/bench && duckbench status spec.yaml --run-dir /tmp/bench --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, d, err := f.loadDriver(args[0])
			if err != nil {
				return err
			}
			// The first SIGINT/SIGTERM cancels Up, which rolls back; later
			// ones are absorbed until the roll-back is done (a kill -9 is
			// still recoverable: duckbench down reads the state file).
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ep, err := d.Up(ctx)
			if err != nil {
				return depErr(err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "stack %q is up (%s)\n", s.Name, ep.Runtime)
			fmt.Fprintf(out, "  haproxy  %s  (runtime API %s)\n", ep.HAProxy.URL, ep.HAProxy.Stats)
			for _, r := range ep.Redis {
				fmt.Fprintf(out, "  %-8s %s  %s\n", r.Role, r.Addr, r.Name)
			}
			for _, a := range ep.Apps {
				url := a.URL
				if url == "" {
					url = "(several swarm tasks: through HAProxy only)"
				}
				fmt.Fprintf(out, "  app      %s  %s\n", url, a.Name)
			}
			fmt.Fprintf(out, "stop it with: duckbench down %s\n", args[0])
			return nil
		},
	}
	f.add(c)
	f.addRegistry(c)
	return c
}
