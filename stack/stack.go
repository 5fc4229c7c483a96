// Package stack brings a spec's stack up and down. A Driver is one runtime:
// local processes (the default, Local) or a Docker Compose project (package
// compose). Whatever the runtime, every endpoint it hands out is reachable
// from the host on 127.0.0.1.
//
// The contract every driver keeps is the Driver interface with its sentinel
// errors; package stacktest holds the conformance suite each driver's
// integration test runs. The pieces every driver needs are here once:
// ResolvePorts picks the ports, BuiltinAppArgs builds the reference app's
// command line.
package stack

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/duckbench/duckbench/configgen"
	"github.com/duckbench/duckbench/spec"
)

// Runtime names.
const (
	RuntimeLocal   = "local"
	RuntimeCompose = "compose"
	RuntimeSwarm   = "swarm"
)

// Sentinel errors of the Driver contract. Every driver wraps them (errors.Is
// finds them), with a message that says what to do.
var (
	// ErrNotUp: Status, Fault and Logs of a stack that was never started
	// or was taken down (Down itself has nothing to do and returns nil).
	ErrNotUp = errors.New("stack is not up")
	// ErrAlreadyUp: Up of a stack whose services still run (from this or
	// another duckbench process); duckbench down first.
	ErrAlreadyUp = errors.New("stack is already up")
	// ErrPortInUse: Up when a port from the spec is taken by another
	// program (or given to two services).
	ErrPortInUse = errors.New("port already in use")
	// ErrMissingProgram: Up when a program the runtime needs (haproxy,
	// redis-server, docker) is not installed; the message carries the
	// install hint. It is configgen's ErrMissingBinary, so one errors.Is
	// covers the config checks too.
	ErrMissingProgram = configgen.ErrMissingBinary
)

// Driver runs one stack. Its constructor is given the spec; Up renders the
// configs (configgen) into the run directory itself, after resolving the
// spec's "auto" ports.
type Driver interface {
	// Up starts every service in dependency order and waits until healthy.
	// On failure or cancellation it stops what it started before returning
	// (an interrupted Up's error wraps ctx.Err()). ErrAlreadyUp,
	// ErrPortInUse and ErrMissingProgram say why it could not start.
	Up(ctx context.Context) (Endpoints, error)
	// Status reports the services of a stack started earlier (possibly by
	// another duckbench process), read from the state the driver keeps;
	// ErrNotUp when there is none.
	Status(ctx context.Context) (Status, error)
	// Down stops and removes everything of this stack, and only that. It
	// works from the kept state alone, after a crash of the process that
	// ran Up too, and is a no-op when nothing is up.
	Down(ctx context.Context) error
	// Fault applies a driver action (kill, stop, cont, restart; pause is
	// the spec's stop + cont) to one service, by its spec name.
	Fault(ctx context.Context, service string, action spec.FaultAction) error
	// Logs writes one service's log to w, or every service's when service
	// is "".
	Logs(ctx context.Context, service string, w LogWriter) error
}

// LogWriter receives log output.
type LogWriter interface {
	Write(p []byte) (int, error)
}

// Endpoints is how the rest of duckbench reaches a running stack. The JSON
// form is the stable `duckbench status --json` contract.
type Endpoints struct {
	Runtime string          `json:"runtime"`
	Project string          `json:"project"`
	RunDir  string          `json:"run_dir"`
	HAProxy HAProxyEndpoint `json:"haproxy"`
	Redis   []RedisEndpoint `json:"redis"`
	Apps    []AppEndpoint   `json:"apps"`
	// Placement is, on a cluster runtime (swarm), the host names of the
	// nodes each service's tasks ran on when the stack came up; nil on
	// one machine.
	Placement map[string][]string `json:"placement,omitempty"`
}

// HAProxyEndpoint locates HAProxy.
type HAProxyEndpoint struct {
	// URL is the load entry point, e.g. http://127.0.0.1:6301.
	URL string `json:"url"`
	// Stats is the Runtime API: a unix socket path or host:port.
	Stats string `json:"stats"`
	// Prometheus is HAProxy's own exporter URL ("" when disabled).
	Prometheus string `json:"prometheus,omitempty"`
	// CA is the lab CA file the load trusts when URL is https (the entry
	// bind of a config_file is TLS; see configgen.Files.EntryTLS), else "".
	CA string `json:"ca,omitempty"`
}

// RedisEndpoint locates one redis-server.
type RedisEndpoint struct {
	Name string `json:"name"`
	Role string `json:"role"` // spec.RoleMaster or spec.RoleReplica
	Addr string `json:"addr"` // 127.0.0.1:port
}

// AppEndpoint locates one app instance.
type AppEndpoint struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Master returns the master's endpoint.
func (e Endpoints) Master() (RedisEndpoint, bool) {
	for _, r := range e.Redis {
		if r.Role == spec.RoleMaster {
			return r, true
		}
	}
	return RedisEndpoint{}, false
}

// Replicas returns the replicas' endpoints.
func (e Endpoints) Replicas() []RedisEndpoint {
	var out []RedisEndpoint
	for _, r := range e.Redis {
		if r.Role == spec.RoleReplica {
			out = append(out, r)
		}
	}
	return out
}

// Status is a stack's state as `duckbench status` shows it.
type Status struct {
	Endpoints
	StartedAt time.Time       `json:"started_at"`
	Services  []ServiceStatus `json:"services"`
}

// ServiceStatus is one process or container.
type ServiceStatus struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"` // redis, app, haproxy
	PID     int    `json:"pid,omitempty"`
	Running bool   `json:"running"`
	Healthy bool   `json:"healthy"`
}

// DriverInput is what every Docker runtime's constructor starts with: s
// copied (resolving "auto" ports at Up must not change the caller's spec)
// and runDir, which is required, made absolute. Errors name the runtime.
func DriverInput(runtime string, s *spec.Spec, runDir string) (*spec.Spec, string, error) {
	if s == nil {
		return nil, "", fmt.Errorf("%s runtime: nil spec", runtime)
	}
	if runDir == "" {
		return nil, "", fmt.Errorf("%s runtime: a run directory is needed", runtime)
	}
	dir, err := filepath.Abs(runDir)
	if err != nil {
		return nil, "", fmt.Errorf("%s runtime: run dir: %w", runtime, err)
	}
	c, err := s.Clone()
	if err != nil {
		return nil, "", fmt.Errorf("%s runtime: %w", runtime, err)
	}
	return c, dir, nil
}
