package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/duckbench/duckbench/appimage"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/runner"
	"github.com/duckbench/duckbench/spec"
)

// binaryStopWait is how long a side's binary has to tear its stack down
// after the interrupt an ab passes on to it.
const binaryStopWait = 2 * time.Minute

// binaryRun performs one ab run with another duckbench binary, `bin run
// SPEC --quiet --results DIR …` (a build of another revision: its configs,
// app and load generator), and loads the result it stored under the run's
// results directory. Exit 1 (the spec's own SLO failed) still is a sample.
func binaryRun(bin string, f *abFlags) func(context.Context, *spec.Spec, runner.Options) (*runner.Outcome, error) {
	return func(ctx context.Context, _ *spec.Spec, o runner.Options) (*runner.Outcome, error) {
		before, err := os.ReadDir(o.ResultsDir)
		if err != nil {
			return nil, fmt.Errorf("read results dir: %w", err)
		}
		cmd := exec.CommandContext(ctx, bin, binaryRunArgs(f, o)...)
		// A group of its own: a Ctrl-C reaches the child once, from here
		// (the terminal's second SIGINT would make it abort its run).
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
		cmd.WaitDelay = binaryStopWait
		if f.registry != "" { // the variable: a build of another revision may lack the flag
			cmd.Env = append(os.Environ(), appimage.RegistryEnv+"="+f.registry)
		}
		if !f.quiet {
			cmd.Stdout, cmd.Stderr = progress, progress
		}
		runErr := cmd.Run()
		dir, err := newEntry(o.ResultsDir, before)
		if err != nil || dir == "" {
			return nil, errors.Join(fmt.Errorf("%s run %s stored no result", bin, o.SpecPath), runErr, err)
		}
		r, err := results.Load(dir)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("%s run %s: %w", bin, o.SpecPath, err), runErr)
		}
		out := &runner.Outcome{Result: r, Dir: dir, Path: filepath.Join(dir, results.FileName)}
		var ee *exec.ExitError
		if runErr != nil && !(errors.As(runErr, &ee) && ee.ExitCode() == exitCheckFail) {
			return out, fmt.Errorf("%s run %s: %w", bin, o.SpecPath, runErr)
		}
		return out, nil
	}
}

// binaryRunArgs are the arguments of one side's `run`: the ab's duration
// (A's load.duration unless --duration), rate, exporter and stack flags.
func binaryRunArgs(f *abFlags, o runner.Options) []string {
	args := []string{"run", o.SpecPath, "--quiet", "--results", o.ResultsDir}
	if o.Duration > 0 {
		args = append(args, "--duration", o.Duration.String())
	}
	if f.rate != "" {
		args = append(args, "--rate", f.rate)
	}
	if f.listen != "" {
		args = append(args, "--exporter-listen", f.listen)
	}
	if f.runtime != "" && f.runtime != "auto" {
		args = append(args, "--runtime", f.runtime)
	}
	if f.runDir != "" {
		args = append(args, "--run-dir", f.runDir)
	}
	return args
}

// newEntry is the one directory of dir not in before ("" when none).
func newEntry(dir string, before []os.DirEntry) (string, error) {
	seen := map[string]bool{}
	for _, e := range before {
		seen[e.Name()] = true
	}
	after, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("read results dir: %w", err)
	}
	var found []string
	for _, e := range after {
		if e.IsDir() && !seen[e.Name()] {
			found = append(found, filepath.Join(dir, e.Name()))
		}
	}
	if len(found) > 1 {
		return "", fmt.Errorf("%d new results in %s; want one", len(found), dir)
	}
	if len(found) == 0 {
		return "", nil
	}
	return found[0], nil
}
