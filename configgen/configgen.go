// Package configgen renders a spec into the files the real programs read:
// haproxy.cfg and one redis.conf per node. It renders from typed structs,
// deterministically, and can check its output with the real binaries. It
// starts no long-lived process.
package configgen

import "github.com/duckbench/duckbench/spec"

// Target says where the rendered files will run. The same spec renders
// differently for local processes (everything on 127.0.0.1, sockets and
// data in RunDir) and for compose (service names on the project network,
// files mounted at fixed container paths).
type Target struct {
	// Runtime is stack.RuntimeLocal or stack.RuntimeCompose.
	Runtime string
	// RunDir is the absolute run directory (local): the Runtime API socket,
	// Redis working directories and pid files live below it.
	RunDir string
}

// Files is one render. Every byte slice is a complete file; none holds a
// password (see RedisSecretArgs).
type Files struct {
	// HAProxy is haproxy.cfg.
	HAProxy []byte
	// Redis maps a node name to its redis.conf (file redis-<node>.conf).
	Redis map[string][]byte
	// Names lists every file name in a stable order: haproxy.cfg, then
	// redis-<node>.conf in spec order.
	Names []string
}

// Render renders s (with defaults applied and every port resolved: no
// "auto" left) for t.
// TODO(foundation): implement.
func Render(s *spec.Spec, t Target) (*Files, error) { return &Files{}, nil }
