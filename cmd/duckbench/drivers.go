package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/duckbench/duckbench/compose"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
	"github.com/spf13/cobra"
)

// progress is where drivers write their progress lines (stderr, so that
// stdout stays machine-readable).
var progress io.Writer = os.Stderr

// defaultRunDir is a spec's run directory: .duckbench/<spec name> under the
// working directory.
func defaultRunDir(s *spec.Spec) string { return filepath.Join(".duckbench", s.Name) }

// newDriver returns the stack driver for s. runtime is local, compose, or
// auto/"" (the spec's runtime, then: the runtime whose state file the run dir
// holds, then local when haproxy and redis-server are on PATH, else compose).
func newDriver(s *spec.Spec, runtime, runDir string) (stack.Driver, error) {
	return newDriverWith(s, runtime, runDir, false)
}

// newDriverWith is newDriver with the compose observability profile
// (Prometheus and Grafana provisioned with duckbench's dashboards) on or off.
func newDriverWith(s *spec.Spec, runtime, runDir string, observability bool) (stack.Driver, error) {
	if runDir == "" {
		runDir = defaultRunDir(s)
	}
	if runtime == "" || runtime == "auto" {
		runtime = s.Runtime
	}
	if runtime == "" || runtime == "auto" {
		runtime = autoRuntime(runDir)
	}
	switch runtime {
	case stack.RuntimeLocal:
		return stack.NewLocal(s, stack.LocalOptions{RunDir: runDir, Log: progress})
	case stack.RuntimeCompose:
		return compose.New(s, compose.Options{RunDir: runDir, Observability: observability})
	}
	return nil, usageErr(fmt.Errorf("--runtime: unknown runtime %q (want auto, local or compose)", runtime))
}

func autoRuntime(runDir string) string {
	// A stack already up decides: status and down must find it.
	if _, err := os.Stat(filepath.Join(runDir, stack.StateFile)); err == nil {
		return stack.RuntimeLocal
	}
	if _, err := os.Stat(filepath.Join(runDir, compose.StateFile)); err == nil {
		return stack.RuntimeCompose
	}
	_, errH := exec.LookPath("haproxy")
	_, errR := exec.LookPath("redis-server")
	if errH == nil && errR == nil {
		return stack.RuntimeLocal
	}
	return stack.RuntimeCompose
}

// stackFlags are the flags every stack command shares.
type stackFlags struct {
	runtime       string
	runDir        string
	observability bool
}

func (f *stackFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&f.runtime, "runtime", "auto", "stack runtime: auto, local or compose")
	c.Flags().StringVar(&f.runDir, "run-dir", "", "run directory (default .duckbench/<spec name>)")
	c.Flags().BoolVar(&f.observability, "observability", false, "compose runtime: also start Prometheus and Grafana provisioned with duckbench's dashboards and rules")
}

// loadDriver loads the spec at path and returns its driver.
func (f *stackFlags) loadDriver(path string) (*spec.Spec, stack.Driver, error) {
	s, err := spec.Load(path)
	if err != nil {
		return nil, nil, usageErr(err)
	}
	if f.observability && f.runtime != stack.RuntimeCompose && s.Runtime != stack.RuntimeCompose {
		return nil, nil, usageErr(errors.New("--observability: needs --runtime compose (with the local runtime use duckbench run --prometheus)"))
	}
	d, err := newDriverWith(s, f.runtime, f.runDir, f.observability)
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return nil, nil, err
		}
		return nil, nil, depErr(err)
	}
	return s, d, nil
}
