package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/configgen"
	"github.com/duckbench/duckbench/spec"
)

func init() { register(newValidateCmd) }

func newValidateCmd() *cobra.Command {
	var noBinaries bool
	c := &cobra.Command{
		Use:   "validate SPEC...",
		Short: "Check specs: strict parse, render, and the real haproxy and redis-server",
		Long: `Check each spec: strict decoding (unknown keys, wrong types), cross-field
validation (names, ports, weights, cache sizes, load shape, faults…), rendering,
then "haproxy -c" on haproxy.cfg and a brief real redis-server start per
redis.conf (on a unix socket in a temporary directory).

Every problem is printed with its field path and file:line:column. Exit codes:
0 all valid, 2 a spec is invalid, 3 haproxy or redis-server is missing.`,
		Example: `  duckbench validate examples/seed.yaml
  duckbench validate examples/*.yaml
  duckbench validate --no-binaries spec.yaml   # parse and render only`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var worst error
			code := 0
			for _, path := range args {
				err := validateSpecFile(cmd.Context(), path, noBinaries)
				if err == nil {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", path)
					continue
				}
				var ee *exitError
				c := exitUsage
				if errors.As(err, &ee) {
					c = ee.code
				}
				if len(args) == 1 {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "duckbench: %v\n", err)
				if c > code {
					code, worst = c, err
				}
			}
			if worst != nil {
				return withCode(code, fmt.Errorf("validate: not every spec is valid (%d given)", len(args)))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&noBinaries, "no-binaries", false, "skip the checks with the real haproxy and redis-server")
	return c
}

// validateSpecFile loads, renders (local target, temporary run dir) and, unless
// noBinaries, checks one spec with the real programs. Errors carry exit codes.
func validateSpecFile(ctx context.Context, path string, noBinaries bool) error {
	if ctx == nil {
		ctx = context.Background()
	}
	s, err := spec.Load(path)
	if err != nil {
		return usageErr(err)
	}
	return checkWithPrograms(ctx, s, filepath.Base(path), noBinaries)
}

// checkWithPrograms renders a copy of s (local target, temporary run dir) and,
// unless noBinaries, checks it with the real programs; name prefixes the
// errors. Errors carry exit codes.
func checkWithPrograms(ctx context.Context, s *spec.Spec, name string, noBinaries bool) error {
	s, err := s.Clone()
	if err != nil {
		return depErr(err)
	}
	// Any port will do for a check: "auto" becomes a placeholder.
	next := spec.Port(20000)
	_ = s.ResolveAutoPorts(func(string) (spec.Port, error) { next++; return next, nil })
	runDir, err := os.MkdirTemp("", "duckbench-validate-")
	if err != nil {
		return depErr(fmt.Errorf("validate %s: %w", name, err))
	}
	defer os.RemoveAll(runDir)
	files, err := configgen.Render(s, configgen.Target{Runtime: "local", RunDir: runDir})
	if err != nil {
		return usageErr(fmt.Errorf("%s: %w", name, err))
	}
	if noBinaries {
		return nil
	}
	wrap := func(err error) error {
		err = fmt.Errorf("%s: %w", name, err)
		if errors.Is(err, configgen.ErrMissingBinary) {
			return depErr(err)
		}
		return usageErr(err)
	}
	if err := files.WriteLabTLS(runDir); err != nil { // haproxy -c reads the lab certificate of a TLS bind
		return depErr(fmt.Errorf("%s: %w", name, err))
	}
	if err := configgen.CheckHAProxy(ctx, files.HAProxy); err != nil {
		if loc := files.Locate(err.Error()); loc != err.Error() {
			err = errors.New(loc) // the user's file:line, for haproxy.config_file
		}
		return wrap(err)
	}
	for _, node := range redisNodeNames(s) {
		if err := configgen.CheckRedis(ctx, node, files.Redis[node]); err != nil {
			return wrap(err)
		}
	}
	return nil
}

// redisNodeNames lists the Redis nodes of s, master first.
func redisNodeNames(s *spec.Spec) []string {
	var names []string
	for _, n := range s.Redis.Nodes() {
		names = append(names, n.Name)
	}
	return names
}
