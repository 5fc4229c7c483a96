package main

import (
	"github.com/duckbench/duckbench/probes"
	"github.com/duckbench/duckbench/runner"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

// newMonitor returns the probes of a run of s: Redis replication and
// keyspace, HAProxy share and cache, as runner.Monitor.
func newMonitor(s *spec.Spec) func(ep stack.Endpoints) (runner.Monitor, error) {
	return func(ep stack.Endpoints) (runner.Monitor, error) {
		return probes.NewMonitor(ep, probes.OptionsFromSpec(s))
	}
}
