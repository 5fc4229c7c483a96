package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/probes"
	"github.com/duckbench/duckbench/stack"
)

func init() { register(newExporterCmd) }

func newExporterCmd() *cobra.Command {
	var (
		f           stackFlags
		listen      string
		master      string
		replicas    []string
		haproxyAddr string
		passwordEnv string
		heartbeat   time.Duration
	)
	c := &cobra.Command{
		Use:   "exporter [SPEC]",
		Short: "Serve Redis replication and HAProxy share/cache metrics to Prometheus until Ctrl-C",
		Long: `Serve /metrics for Prometheus: Redis replication delay (a heartbeat published on
the master every 100ms and pushed to a subscriber on every replica), offset lag, ACK age,
link state and keyspace hit ratio; HAProxy per-server state, requests, share
of the backend, responses by class and per-backend cache hit ratio.

With SPEC, the endpoints are those of the stack duckbench up started for it.
Without SPEC, name the endpoints of any stack: --redis-master, one
--redis-replica per replica (ADDR or NAME=ADDR), --haproxy-stats (a unix
socket path or host:port of the Runtime API). The Redis password, if any, is
read from the environment variable --redis-password-env names (SPEC: the
spec's redis.password_env); it is never printed.

The heartbeat costs 10 PUBLISH/s on the master, applied by every replica, at
the default interval. Runs until Ctrl-C.`,
		Example: `  duckbench exporter examples/seed.yaml
  duckbench exporter examples/seed.yaml --listen 127.0.0.1:9500
  duckbench exporter --redis-master 127.0.0.1:6379 --redis-replica 127.0.0.1:6380 \
      --redis-replica replica-b=127.0.0.1:6381 --haproxy-stats /run/haproxy/admin.sock
  REDIS_PW=secret duckbench exporter --redis-master 10.0.0.5:6379 --redis-password-env REDIS_PW`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			flagForm := master != "" || len(replicas) > 0 || haproxyAddr != ""
			var (
				ep   stack.Endpoints
				opts probes.Options
			)
			switch {
			case len(args) == 1 && flagForm:
				return usageErr(errors.New("give either SPEC or --redis-master/--redis-replica/--haproxy-stats, not both"))
			case len(args) == 1:
				s, d, err := f.loadDriver(args[0])
				if err != nil {
					return err
				}
				st, err := d.Status(cmd.Context())
				if err != nil {
					return depErr(fmt.Errorf("read stack status of %q (is it up? duckbench up %s): %w", s.Name, args[0], err))
				}
				ep, opts = st.Endpoints, probes.OptionsFromSpec(s)
				if !cmd.Flags().Changed("listen") && s.Probes.Listen != "" {
					listen = s.Probes.Listen
				}
			case flagForm:
				var err error
				if ep, err = flagEndpoints(master, replicas, haproxyAddr); err != nil {
					return usageErr(err)
				}
				opts.PasswordEnv = passwordEnv
			default:
				return usageErr(errors.New("give SPEC, or the endpoints with --redis-master/--redis-replica/--haproxy-stats"))
			}
			if cmd.Flags().Changed("heartbeat-interval") {
				opts.HeartbeatInterval = heartbeat
			}
			m, err := probes.NewMonitor(ep, opts)
			if err != nil {
				return usageErr(err)
			}
			defer m.Close()
			reg, err := probes.NewRegistry(m.Collectors()...)
			if err != nil {
				return depErr(err)
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return depErr(fmt.Errorf("listen on %q: %w", listen, err))
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			hbCtx, stopHeartbeat := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { _ = m.Run(hbCtx); close(done) }()
			fmt.Fprintf(cmd.ErrOrStderr(), "duckbench exporter: serving http://%s/metrics (Ctrl-C to stop)\n", ln.Addr())
			err = probes.ServeListener(ctx, ln, reg)
			stopHeartbeat()
			<-done
			if err != nil {
				return depErr(err)
			}
			return nil
		},
	}
	f.add(c)
	c.Flags().StringVar(&listen, "listen", probes.DefaultListen, "address to serve /metrics on")
	c.Flags().StringVar(&master, "redis-master", "", "Redis master host:port (without SPEC)")
	c.Flags().StringArrayVar(&replicas, "redis-replica", nil, "Redis replica host:port or NAME=host:port; repeat per replica")
	c.Flags().StringVar(&haproxyAddr, "haproxy-stats", "", "HAProxy Runtime API: unix socket path or host:port")
	c.Flags().StringVar(&passwordEnv, "redis-password-env", "", "environment variable holding the Redis password")
	c.Flags().DurationVar(&heartbeat, "heartbeat-interval", probes.DefaultHeartbeatInterval, "replication heartbeat period")
	return c
}

// flagEndpoints builds endpoints from the exporter's flags. A replica given
// as a bare address is named by it.
func flagEndpoints(master string, replicas []string, haproxyStats string) (stack.Endpoints, error) {
	ep := stack.Endpoints{Runtime: "external", HAProxy: stack.HAProxyEndpoint{Stats: haproxyStats}}
	if master == "" && len(replicas) > 0 {
		return ep, errors.New("--redis-replica needs --redis-master")
	}
	if master != "" {
		ep.Redis = append(ep.Redis, stack.RedisEndpoint{Name: "redis-master", Role: "master", Addr: master})
	}
	for _, r := range replicas {
		name, addr, ok := strings.Cut(r, "=")
		if !ok {
			name, addr = r, r
		}
		if name == "" || addr == "" || !strings.Contains(addr, ":") {
			return ep, fmt.Errorf("--redis-replica %q: want host:port or NAME=host:port", r)
		}
		ep.Redis = append(ep.Redis, stack.RedisEndpoint{Name: name, Role: "replica", Addr: addr})
	}
	return ep, nil
}
