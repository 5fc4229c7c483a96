package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/results"
)

func init() { register(newBaselineCmd) }

func newBaselineCmd() *cobra.Command {
	var name, dir string
	c := &cobra.Command{
		Use:   "baseline RESULT.json",
		Short: "Promote a result to the baseline that compare and check use",
		Long: `Baseline copies a result (a result.json or its run folder) to
<dir>/<spec name>.json, or <dir>/<NAME>.json with --name, replacing any earlier
baseline. Commit the file so CI compares against it.`,
		Example: `  duckbench baseline results/20261127T120102Z-seed
  duckbench baseline results/20261127T120102Z-seed/result.json --name seed-2cpu
  duckbench compare results/baselines/seed.json results/20261128T090000Z-seed`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := results.Load(args[0])
			if err != nil {
				return usageErr(err)
			}
			n := name
			if n == "" {
				n = r.Spec.Name
			}
			n = strings.TrimSuffix(n, ".json")
			if n == "" {
				return usageErr(errors.New("the result names no spec: pass --name"))
			}
			if n != filepath.Base(n) || n == "." || n == ".." {
				return usageErr(fmt.Errorf("--name %q must be a plain file name", n))
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("create baseline dir: %w", err)
			}
			path := filepath.Join(dir, n+".json")
			if err := results.WriteFile(path, r); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "baseline %s ← %s (spec %s, %s)\n", path, r.ID, r.Spec.Name, r.StartedAt.UTC().Format("2006-01-02 15:04Z"))
			return nil
		},
	}
	c.Flags().StringVar(&name, "name", "", "baseline `NAME` (default: the spec name)")
	c.Flags().StringVar(&dir, "dir", filepath.Join("results", "baselines"), "baselines `DIR`ectory")
	return c
}
