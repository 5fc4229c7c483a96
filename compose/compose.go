// Package compose renders a spec into a Docker Compose project
// (compose.yaml, built with the compose-go types) and drives it: up, wait,
// status, faults, down. It knows nothing about load.
package compose

import (
	"errors"

	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

// Options configure the compose driver.
type Options struct {
	// RunDir holds compose.yaml and the rendered configs mounted into the
	// containers; also the state the driver keeps between commands.
	RunDir string
}

// New returns the compose driver for s.
// TODO(compose): implement.
func New(s *spec.Spec, opts Options) (stack.Driver, error) {
	return nil, errors.New("compose runtime: not implemented yet")
}
