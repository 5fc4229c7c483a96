package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

func init() { register(newInitCmd) }

// initSpecFile is the file duckbench init writes.
const initSpecFile = "duckbench.yaml"

func newInitCmd() *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Write a commented example spec of the origin lab",
		Long: `Write duckbench.yaml into DIR (default: the current directory, created if
missing): the origin lab — a Redis master with two replicas, two reference apps
and HAProxy round-robin on port 6301 — with every section commented. An
existing duckbench.yaml is kept unless --force is given.`,
		Example: `  duckbench init
  duckbench init lab && duckbench validate lab/duckbench.yaml
  duckbench init --force .`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return usageErr(fmt.Errorf("create %q: %w", dir, err))
			}
			path := filepath.Join(dir, initSpecFile)
			flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if force {
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			f, err := os.OpenFile(path, flags, 0o644)
			if errors.Is(err, fs.ErrExist) {
				return usageErr(fmt.Errorf("%s already exists (use --force to overwrite it)", path))
			}
			if err != nil {
				return usageErr(fmt.Errorf("write %s: %w", path, err))
			}
			_, err = f.WriteString(initSpec)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return depErr(fmt.Errorf("write %s: %w", path, err))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\nnext: duckbench validate %s\n", path, path)
			return nil
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "overwrite an existing duckbench.yaml")
	return c
}

// initSpec is the origin lab, commented; optional settings are shown
// commented out with their defaults.
const initSpec = `# duckbench spec: the origin lab.
#
#   duckbench validate duckbench.yaml        # strict parse, render, check with haproxy/redis-server
#   duckbench render duckbench.yaml -o out   # write haproxy.cfg and redis-<node>.conf
#   duckbench schema > duckbench.schema.json # editor completion, then uncomment the next line
# # yaml-language-server: $schema=duckbench.schema.json
#
# Unknown keys are errors. Every listener binds 127.0.0.1. A port may be "auto".
version: duckbench/v1
name: lab                       # lowercase letters, digits and '-'
# runtime: auto                 # auto (local if haproxy and redis-server are on PATH), local or compose

redis:
  # image: redis:7.0            # compose runtime only
  # password_env: REDIS_PASSWORD  # the password comes from this environment variable, never from the spec
  defaults:                     # every node, unless the node sets its own
    maxmemory: 256mb
    maxmemory_policy: allkeys-lru
    appendonly: false
    # save: ""                  # "" turns RDB snapshots off
    # repl_backlog_size: 1mb
    # repl_diskless_sync: true
    # extra: ["hz 50"]          # raw redis.conf lines
  master:
    name: redis-master
    port: 6379
  replicas:                     # each replicates from the master
    - name: redis-replica-1
      port: 6380
    - name: redis-replica-2
      port: 6381

apps:                           # the built-in reference app (duckbench app)
  - name: app1
    port: 8001
    # kind: builtin             # or command (with command: [...]) or image (with image: ...)
    # origin_cost: 2ms          # simulated work on a cache miss
    # cache_ttl: 60s            # how long values stay in Redis
  - name: app2
    port: 8002

haproxy:
  port: 6301                    # the frontend
  # maxconn: 4096
  # timeouts: {connect: 5s, client: 30s, server: 30s, queue: 5s, http_keep_alive: 10s, http_request: 10s}
  backends:
    - name: apps
      balance: roundrobin       # leastconn, source, uri or random
      servers:
        - app: app1
          weight: 1             # 0-256
        - app: app2
          weight: 1
      health_check: {path: /healthz, interval: 2s, rise: 2, fall: 3}
      # cache: true             # serve cacheable responses from HAProxy's object cache
  # cache: {size: 64mb, max_age: 60s, max_object_size: 512kb}
  # prometheus: {port: 8405}    # HAProxy's own /metrics
  # stats_page: {enabled: true, port: 8404, user: admin, password_env: HAPROXY_STATS_PASSWORD}
  # served_by: {disabled: true} # HAProxy sets X-Served-By to the server's name (per-server latency); on by default

load:                           # driven through HAProxy
  duration: 10s
  rate: 200                     # requests per second, or max
  # shape: constant             # ramp (ramp_from), sine (amplitude, period) or steps (steps: [{rate, for}])
  keys: {distribution: uniform, count: 1000}   # or zipf (zipf_s > 1)
  targets:
    - path: /kv/{key}
      weight: 9
    - path: /
      weight: 1

slo:                            # duckbench run exits 1 when these fail
  p99: 50ms
  success: 99%

# faults:                       # injected during the attack
#   - {at: 5s, action: kill, target: redis-replica-1, for: 2s}
`
