package main

import (
	"github.com/duckbench/duckbench/runner"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

// newMonitor returns the probes of a run of s.
// TODO(lead): wire probes.NewMonitor once it lands.
func newMonitor(s *spec.Spec) func(ep stack.Endpoints) (runner.Monitor, error) {
	return nil
}
