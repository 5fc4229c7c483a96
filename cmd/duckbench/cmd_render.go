package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/appimage"

	"github.com/duckbench/duckbench/compose"
	"github.com/duckbench/duckbench/configgen"
	"github.com/duckbench/duckbench/labtls"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

func init() { register(newRenderCmd) }

func newRenderCmd() *cobra.Command {
	var out, runtime, appImage string
	var explain bool
	c := &cobra.Command{
		Use:   "render SPEC -o DIR",
		Short: "Write haproxy.cfg, redis-<node>.conf and compose.yaml for a spec",
		Long: `Render a spec into the files the real programs read: haproxy.cfg and one
redis-<node>.conf per Redis node, in DIR (created if missing). Everything is
rendered in memory first: on any error nothing is written. Ports written as
"auto" are replaced by free ports picked now (printed on stderr).

It also writes compose.yaml with the configs it mounts — in DIR/compose, or
in DIR itself with --runtime compose. That directory stands alone: it holds
no host path, only images (redis, haproxy, and the app image
duckbench:<version>, built with "duckbench image build") and relative config
paths, so it can be copied to another machine and started there:
  cd DIR/compose && docker-compose -p mylab up -d`,
		Example: `  duckbench render examples/seed.yaml -o /tmp/seed
  duckbench render examples/seed.yaml -o out --runtime compose`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runtime != "local" && runtime != "compose" {
				return usageErr(fmt.Errorf("--runtime: must be local or compose (got %q)", runtime))
			}
			s, err := spec.Load(args[0])
			if err != nil {
				return usageErr(err)
			}
			dir, err := filepath.Abs(out)
			if err != nil {
				return usageErr(fmt.Errorf("output dir: %w", err))
			}
			// Nothing listens yet: pick the auto ports, leave the fixed ones
			// unchecked (they are checked when the files are used).
			err = stack.ResolvePorts(s, stack.PortOptions{NoCheck: true, Picked: func(path string, p spec.Port) {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: auto -> %d\n", path, p)
			}})
			if err != nil {
				return depErr(err)
			}
			files, err := configgen.Render(s, configgen.Target{Runtime: runtime, RunDir: dir})
			if err != nil {
				return usageErr(err)
			}
			// compose.yaml and the configs it mounts: in DIR for
			// --runtime compose, else in DIR/compose. Rendered before
			// anything is written, so that an error leaves nothing behind.
			fileBased := spec.FileBased(s)
			if fileBased && runtime == "compose" {
				return usageErr(fmt.Errorf("--runtime compose: a spec with config_file runs on the local runtime only in this version"))
			}
			composeDir, composeFiles := dir, files
			if fileBased {
				return writeFileBased(cmd, files, dir, out, explain)
			}
			if runtime != "compose" {
				composeDir = filepath.Join(dir, "compose")
				if composeFiles, err = configgen.Render(s, configgen.Target{Runtime: "compose"}); err != nil {
					return usageErr(err)
				}
			}
			composeYAML, err := compose.Render(s, compose.RenderOptions{AppImage: appImage})
			if err != nil {
				return usageErr(err)
			}
			if err := os.MkdirAll(composeDir, 0o755); err != nil {
				return usageErr(fmt.Errorf("create output dir: %w", err))
			}
			if err := files.WriteDir(dir); err != nil {
				return usageErr(err)
			}
			if composeDir != dir {
				if err := composeFiles.WriteDir(composeDir); err != nil {
					return usageErr(err)
				}
			}
			if err := os.WriteFile(filepath.Join(composeDir, compose.FileName), composeYAML, 0o644); err != nil {
				return usageErr(fmt.Errorf("write compose.yaml: %w", err))
			}
			for _, name := range files.Names {
				fmt.Fprintln(cmd.OutOrStdout(), filepath.Join(out, name))
			}
			rel := filepath.Join(out, strings.TrimPrefix(strings.TrimPrefix(composeDir, dir), "/"))
			if composeDir != dir {
				for _, name := range composeFiles.Names {
					fmt.Fprintln(cmd.OutOrStdout(), filepath.Join(rel, name))
				}
			}
			fmt.Fprintln(cmd.OutOrStdout(), filepath.Join(rel, compose.FileName))
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "directory to write the files to (required)")
	c.Flags().StringVar(&runtime, "runtime", "local", "render for this runtime: local or compose")
	c.Flags().BoolVar(&explain, "explain", false, "list every change made to the spec's own config files (config_file): file:line → what and why")
	c.Flags().StringVar(&appImage, "app-image", appimage.Tag(version), "compose.yaml: image of builtin apps whose spec names none")
	_ = c.MarkFlagRequired("output")
	return c
}

// writeFileBased writes the files of a spec with config_file (no
// compose.yaml: the local runtime only) and, with explain, every rewrite.
func writeFileBased(cmd *cobra.Command, files *configgen.Files, dir, out string, explain bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usageErr(fmt.Errorf("create output dir: %w", err))
	}
	if err := files.WriteDir(dir); err != nil {
		return usageErr(err)
	}
	for _, name := range files.Names {
		fmt.Fprintln(cmd.OutOrStdout(), filepath.Join(out, name))
	}
	if files.LabTLS { // written by WriteDir: this render's own lab CA and certificate
		fmt.Fprintln(cmd.OutOrStdout(), filepath.Join(out, configgen.LabTLSDir, labtls.CertFile))
		fmt.Fprintln(cmd.OutOrStdout(), filepath.Join(out, configgen.LabTLSDir, labtls.CAFile))
	}
	if explain {
		fmt.Fprintln(cmd.OutOrStdout(), "\nrewrites of your config files:")
		for _, r := range files.Explain {
			fmt.Fprintln(cmd.OutOrStdout(), "  "+r.String())
		}
	}
	return nil
}
