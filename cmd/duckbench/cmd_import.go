package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/specimport"
)

func init() { register(newImportCmd) }

func newImportCmd() *cobra.Command {
	var out, redisConf, name string
	var force bool
	c := &cobra.Command{
		Use:   "import HAPROXY.CFG... [--redis REDIS.CONF] -o SPEC",
		Short: "Write a starting spec for your own haproxy.cfg (and redis.conf)",
		Long: `Write a spec that benchmarks your own configuration files as they are:
haproxy.config_file names them (several files or directories, in haproxy -f
order), one builtin app per server stands in for your servers (weights and
maxconn stay in your file), the load's targets are read from the frontend
the load goes to (default_backend, use_backend with a path ACL), and
redis.config_file names your redis.conf for a master and a replica. What it
guessed is printed. When your files have no frontend or no server (Debian's
/etc/haproxy/haproxy.cfg), it also writes <name>-lab.cfg next to the spec: a
frontend and backend loaded after your files.

The files are referenced where they lie, never copied. Next: duckbench
validate SPEC, duckbench render SPEC -o DIR --explain, duckbench run SPEC.`,
		Example: `  duckbench import /etc/haproxy/haproxy.cfg --redis /etc/redis/redis.conf -o debian.yaml
  duckbench import haproxy.cfg conf.d/ -o lab.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" {
				name = specimport.Name(out)
			}
			res, err := specimport.Build(name, args, redisConf)
			if err != nil {
				return usageErr(err)
			}
			files := map[string][]byte{out: res.Spec}
			if res.LabFile {
				files[filepath.Join(filepath.Dir(out), specimport.LabName(name))] = []byte(specimport.LabFile)
			}
			for p := range files { // check all before writing any
				if _, err := os.Stat(p); err == nil && !force {
					return usageErr(fmt.Errorf("%s already exists (use --force to overwrite it)", p))
				} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
					return usageErr(err)
				}
			}
			for p, b := range files {
				if err := os.WriteFile(p, b, 0o644); err != nil {
					return depErr(fmt.Errorf("write %s: %w", p, err))
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", p)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "guessed:\n  %s\nnext: duckbench validate %s\n", strings.Join(res.Guesses, "\n  "), out)
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "spec file to write (required)")
	c.Flags().StringVar(&redisConf, "redis", "", "your redis.conf, for every Redis node")
	c.Flags().StringVar(&name, "name", "", "spec name (default: from the output file name)")
	c.Flags().BoolVar(&force, "force", false, "overwrite existing files")
	_ = c.MarkFlagRequired("output")
	return c
}
