package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/results/report"
)

func init() { register(newReportCmd) }

func newReportCmd() *cobra.Command {
	var htmlPath string
	var asJSON bool
	c := &cobra.Command{
		Use:   "report RESULT.json",
		Short: "Re-render a stored result as a text summary, JSON or an HTML report",
		Long: `Report reads a result.json (or the run folder holding it) and prints the text
summary: totals, latency quantiles up to p99.99, status codes, per-app share,
replication and per-backend figures, events and the SLO verdict. --html also
writes the self-contained HTML report with charts; --json prints the record.
A sweep.json (or its folder) prints the sweep's table and answer.`,
		Example: `  duckbench report results/20261127T120102Z-seed
  duckbench report results/20261127T120102Z-seed/result.json --html report.html
  duckbench report result.json --json | jq .summary.latency`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if sw, ok, err := results.LoadSweep(args[0]); ok {
				if err != nil {
					return usageErr(err)
				}
				return reportSweep(cmd, sw, htmlPath, asJSON)
			}
			r, err := results.Load(args[0])
			if err != nil {
				return usageErr(err)
			}
			out := cmd.OutOrStdout()
			if err := writeHTMLFile(htmlPath, func(w io.Writer) error { return report.WriteHTML(w, r) }); err != nil {
				return err
			}
			if asJSON {
				data, err := results.Marshal(r)
				if err != nil {
					return err
				}
				_, err = out.Write(data)
				return err
			}
			if err := report.WriteText(out, r); err != nil {
				return err
			}
			if htmlPath != "" {
				fmt.Fprintf(out, "\nHTML report: %s\n", htmlPath)
			}
			return nil
		},
	}
	c.Flags().StringVar(&htmlPath, "html", "", "also write the HTML report to `FILE`")
	c.Flags().BoolVar(&asJSON, "json", false, "print the result record as JSON instead of the text summary")
	return c
}

// reportSweep prints a stored sweep (re-analysed) and, with htmlPath,
// writes its report.
func reportSweep(cmd *cobra.Command, sw *results.Sweep, htmlPath string, asJSON bool) error {
	if err := writeHTMLFile(htmlPath, func(w io.Writer) error { return report.WriteSweepHTML(w, sw) }); err != nil {
		return err
	}
	if asJSON {
		return writeSweep(cmd.OutOrStdout(), &sweepFlags{asJSON: true}, sw)
	}
	return report.WriteSweepText(cmd.OutOrStdout(), sw)
}

// writeHTMLFile renders a report with page and writes it to path ("":
// nothing).
func writeHTMLFile(path string, page func(io.Writer) error) error {
	if path == "" {
		return nil
	}
	var buf bytes.Buffer
	if err := page(&buf); err != nil {
		return fmt.Errorf("render html report: %w", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}
