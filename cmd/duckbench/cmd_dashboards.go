package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/dashboards"
)

func init() { register(newDashboardsCmd) }

func newDashboardsCmd() *cobra.Command {
	var (
		out   string
		rules bool
		list  bool
	)
	cmd := &cobra.Command{
		Use:   "dashboards",
		Short: "Write the Grafana dashboards (JSON) and the Prometheus rules",
		Long: `Write duckbench's Grafana dashboards (duckbench overview, Redis replication,
HAProxy backends) as JSON files ready to import or provision, and optionally the
Prometheus recording and alerting rules they go with. --list prints every panel
query instead.`,
		Example: `  duckbench dashboards -o grafana/dashboards
  duckbench dashboards -o grafana --rules     # also grafana/rules/*.rules.yml
  duckbench dashboards --list`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			if list {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "DASHBOARD\tPANEL\tREF\tQUERY")
				for _, q := range dashboards.Queries() {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", q.Dashboard, q.Panel, q.RefID, q.Expr)
				}
				return tw.Flush()
			}
			if out == "" {
				return usageErr(errors.New("dashboards: -o DIR is required (or --list)"))
			}
			paths, err := dashboards.Write(out)
			if err != nil {
				return usageErr(fmt.Errorf("write dashboards: %w", err))
			}
			if rules {
				rp, err := dashboards.WriteRules(filepath.Join(out, "rules"))
				if err != nil {
					return usageErr(fmt.Errorf("write rules: %w", err))
				}
				paths = append(paths, rp...)
			}
			for _, p := range paths {
				fmt.Fprintln(w, p)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "directory to write the dashboard JSON into (created if missing)")
	cmd.Flags().BoolVar(&rules, "rules", false, "also write the Prometheus rule files into DIR/rules")
	cmd.Flags().BoolVar(&list, "list", false, "print every panel's query instead of writing files")
	return cmd
}
