// Package stack brings a spec's stack up and down. A Driver is one runtime:
// local processes (the default) or a Docker Compose project. Whatever the
// runtime, every endpoint it hands out is reachable from the host on 127.0.0.1.
package stack

import (
	"context"
	"time"

	"github.com/duckbench/duckbench/spec"
)

// Runtime names.
const (
	RuntimeLocal   = "local"
	RuntimeCompose = "compose"
)

// Driver runs one stack. Its constructor is given the spec; Up renders the
// configs (configgen) into the run directory itself, after resolving the
// spec's "auto" ports.
type Driver interface {
	// Up starts every service in dependency order and waits until healthy.
	// On failure or cancellation it stops what it started before returning.
	Up(ctx context.Context) (Endpoints, error)
	// Status reports the services of a stack started earlier (possibly by
	// another duckbench process), read from the state the driver keeps.
	Status(ctx context.Context) (Status, error)
	// Down stops and removes everything of this stack, and only that.
	Down(ctx context.Context) error
	// Fault applies a fault action (kill, stop, cont, restart) to one service.
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
}

// HAProxyEndpoint locates HAProxy.
type HAProxyEndpoint struct {
	// URL is the load entry point, e.g. http://127.0.0.1:6301.
	URL string `json:"url"`
	// Stats is the Runtime API: a unix socket path or host:port.
	Stats string `json:"stats"`
	// Prometheus is HAProxy's own exporter URL ("" when disabled).
	Prometheus string `json:"prometheus,omitempty"`
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
