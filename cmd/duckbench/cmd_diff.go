package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/appimage"
	"github.com/duckbench/duckbench/compose"
	"github.com/duckbench/duckbench/configgen"
	"github.com/duckbench/duckbench/internal/textdiff"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

func init() { register(newDiffCmd) }

// diffRunDir stands in for the run directory in diffed local configs, so
// that two specs render comparable paths.
const diffRunDir = "/run/duckbench"

func newDiffCmd() *cobra.Command {
	var exitCode bool
	c := &cobra.Command{
		Use:   "diff OLD.yaml NEW.yaml",
		Short: "Show what changed between two specs: by field path, and in every rendered file",
		Long: `diff loads both specs (defaults applied, so a field written out at its
default is no change), lists the changed fields by path, then prints the
unified diff of every rendered file: haproxy.cfg, each redis-<node>.conf and
compose.yaml. Review it before you run a regression check on a config change.`,
		Example: `  duckbench diff examples/seed.yaml examples/cache-weighted.yaml
  duckbench diff old.yaml new.yaml --exit-code   # exit 1 when anything differs`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := spec.Load(args[0])
			if err != nil {
				return usageErr(err)
			}
			b, err := spec.Load(args[1])
			if err != nil {
				return usageErr(err)
			}
			changed, err := writeDiff(cmd.OutOrStdout(), args[0], args[1], a, b)
			if err != nil {
				return depErr(err)
			}
			if changed && exitCode {
				return checkErr(errors.New("the specs differ"))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&exitCode, "exit-code", false, "exit 1 when the specs differ")
	return c
}

// writeDiff writes the semantic and rendered diffs of a and b and reports
// whether anything differs.
func writeDiff(w io.Writer, aName, bName string, a, b *spec.Spec) (bool, error) {
	changes, err := spec.Diff(a, b)
	if err != nil {
		return false, err
	}
	if len(changes) == 0 {
		fmt.Fprintln(w, "no changes")
		return false, nil
	}
	fmt.Fprintf(w, "spec: %d field(s) changed\n", len(changes))
	for _, c := range changes {
		fmt.Fprintf(w, "  %s\n", c)
	}
	if spec.FileBased(a) || spec.FileBased(b) {
		ds, err := configgen.DiffFiles(a, b)
		if err != nil {
			return true, err
		}
		fmt.Fprintf(w, "\nconfig files: %d directive(s) changed\n", len(ds))
		for _, d := range ds {
			fmt.Fprintf(w, "  %s\n", d)
		}
	}
	af, aerr := renderAll(a)
	bf, berr := renderAll(b)
	if err := errors.Join(aerr, berr); err != nil {
		fmt.Fprintf(w, "\nrendered files not compared: %v\n", err)
		return true, nil
	}
	for _, name := range unionNames(af, bf) {
		if d := textdiff.Unified("a/"+name, "b/"+name, body(af.files[name]), body(bf.files[name])); d != "" {
			fmt.Fprintf(w, "\n%s", d)
		}
	}
	return true, nil
}

// body drops the header lines that name the spec and its hash: they differ
// whenever the specs do, and would put a hunk in every file.
func body(file []byte) string {
	var sb strings.Builder
	for _, l := range strings.SplitAfter(string(file), "\n") {
		if strings.HasPrefix(l, "# spec") {
			continue
		}
		sb.WriteString(l)
	}
	return sb.String()
}

type rendered struct {
	names []string
	files map[string][]byte
}

// renderAll renders every file of s for the local runtime (with a fixed run
// dir) and compose.yaml.
func renderAll(s *spec.Spec) (*rendered, error) {
	fileBased := spec.FileBased(s)
	if fileBased { // the same placeholder ports on both sides: files compare line by line
		var err error
		if s, err = s.Clone(); err != nil {
			return nil, err
		}
		next := spec.Port(20000)
		_ = s.ResolveAutoPorts(func(string) (spec.Port, error) { next++; return next, nil })
	}
	if err := noAutoPorts(s); err != nil {
		return nil, err
	}
	f, err := configgen.Render(s, configgen.Target{Runtime: stack.RuntimeLocal, RunDir: diffRunDir})
	if err != nil {
		return nil, fmt.Errorf("render %q: %w", s.Name, err)
	}
	out := &rendered{files: map[string][]byte{"haproxy.cfg": f.HAProxy}, names: []string{"haproxy.cfg"}}
	for _, n := range f.Names {
		if n == "haproxy.cfg" {
			continue
		}
		out.names = append(out.names, n)
	}
	for node, conf := range f.Redis {
		out.files[configgen.RedisFile(node)] = conf
	}
	if fileBased {
		return out, nil // config_file runs on the local runtime only
	}
	cy, err := compose.Render(s, compose.RenderOptions{AppImage: appimage.Tag(version)})
	if err != nil {
		return nil, fmt.Errorf("render compose.yaml of %q: %w", s.Name, err)
	}
	out.files[compose.FileName] = cy
	out.names = append(out.names, compose.FileName)
	return out, nil
}

func noAutoPorts(s *spec.Spec) error {
	var auto []string
	for _, l := range s.Listeners() {
		if l.Port.IsAuto() {
			auto = append(auto, l.Path)
		}
	}
	if len(auto) > 0 {
		return fmt.Errorf("%q has ports set to auto (%v); rendered files depend on the ports picked at run time", s.Name, auto)
	}
	return nil
}

func unionNames(a, b *rendered) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range [][]string{a.names, b.names} {
		for _, n := range l {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}
