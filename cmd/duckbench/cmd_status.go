package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/results/report"
)

func init() { register(newStatusCmd) }

func newStatusCmd() *cobra.Command {
	var (
		f      stackFlags
		asJSON bool
	)
	c := &cobra.Command{
		Use:   "status SPEC",
		Short: "Show a running stack's endpoints and the health of each service",
		Long: `Show the endpoints of a stack brought up with duckbench up, and whether each
service runs and is healthy. --json prints the stable object other tools read:
runtime, haproxy.url (the load entry point), haproxy.stats (Runtime API socket
or address), redis[] (name, role, addr), apps[] (name, url) and services[].
Exits 3 when the stack is not up or a service is not healthy.`,
		Example: `  duckbench status examples/seed.yaml
  duckbench status examples/seed.yaml --json | jq -r .haproxy.url`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, d, err := f.loadDriver(args[0])
			if err != nil {
				return err
			}
			st, err := d.Status(cmd.Context())
			if err != nil {
				return depErr(err)
			}
			out := cmd.OutOrStdout()
			unhealthy := 0
			for _, sv := range st.Services {
				if !sv.Healthy {
					unhealthy++
				}
			}
			if asJSON {
				if err := report.WriteJSON(out, st); err != nil {
					return depErr(err)
				}
			} else {
				fmt.Fprintf(out, "stack %q (%s), up since %s\n", s.Name, st.Runtime, st.StartedAt.Format("2006-01-02 15:04:05Z07:00"))
				fmt.Fprintf(out, "haproxy: %s  runtime API: %s\n", st.HAProxy.URL, st.HAProxy.Stats)
				if st.HAProxy.Prometheus != "" {
					fmt.Fprintf(out, "haproxy prometheus: %s\n", st.HAProxy.Prometheus)
				}
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "SERVICE\tKIND\tPID\tRUNNING\tHEALTHY\tADDRESS")
				addr := map[string]string{"haproxy": st.HAProxy.URL}
				for _, r := range st.Redis {
					addr[r.Name] = r.Addr + " (" + r.Role + ")"
				}
				for _, a := range st.Apps {
					addr[a.Name] = a.URL
					if a.URL == "" {
						addr[a.Name] = "(swarm tasks, through HAProxy)"
					}
				}
				for _, sv := range st.Services {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%v\t%v\t%s\n", sv.Name, sv.Kind, sv.PID, sv.Running, sv.Healthy, addr[sv.Name])
				}
				tw.Flush()
			}
			if unhealthy > 0 {
				return depErr(fmt.Errorf("status %q: %d of %d services not healthy", s.Name, unhealthy, len(st.Services)))
			}
			return nil
		},
	}
	f.add(c)
	c.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return c
}
