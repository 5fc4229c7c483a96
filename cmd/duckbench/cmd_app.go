package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/app"
)

func init() { register(newAppCmd) }

func newAppCmd() *cobra.Command {
	var (
		cfg          app.Config
		passwordEnv  string
		passwordFile string
	)
	c := &cobra.Command{
		Use:   "app",
		Short: "Run the reference web app (Redis-backed, tells who served each request)",
		Long: `Run the reference web app that stands in for the origin lab's Django app.

GET / says hello; GET /kv/{key} reads through a cache-aside pattern (replicas
round-robin, on a miss a value is computed at --origin-cost and written to the
master with --cache-ttl); PUT /kv/{key} writes to the master; GET /healthz
PINGs the Redis links. Every response carries X-Served-By: <name>.

The Redis password is read from the environment variable named by
--redis-password-env, or from the file named by --redis-password-file (a
Docker secret such as /run/secrets/redis_password; one trailing newline is
dropped), never from a flag.`,
		Example: `  duckbench app --name app1 --listen 127.0.0.1:8001 \
    --redis-master 127.0.0.1:6379 --redis-replica 127.0.0.1:6380 --redis-replica 127.0.0.1:6381
  REDIS_PW=secret duckbench app --name app2 --redis-password-env REDIS_PW --max-concurrency 64`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if passwordEnv != "" {
				pw, ok := os.LookupEnv(passwordEnv)
				if !ok {
					return usageErr(fmt.Errorf("--redis-password-env: environment variable %q is not set", passwordEnv))
				}
				cfg.RedisPassword = pw
			}
			if passwordFile != "" {
				if passwordEnv != "" {
					return usageErr(errors.New("--redis-password-file: give either it or --redis-password-env"))
				}
				b, err := os.ReadFile(passwordFile)
				if err != nil {
					return usageErr(fmt.Errorf("--redis-password-file: %w", err))
				}
				cfg.RedisPassword = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
			}
			// Secrets fail closed: a password asked for but empty is an error,
			// not a connection without one.
			if (passwordEnv != "" || passwordFile != "") && cfg.RedisPassword == "" {
				return depErr(fmt.Errorf("redis password: %s%s is empty: not starting without one", passwordEnv, passwordFile))
			}
			if cfg.OriginCost == 0 {
				cfg.OriginCost = -1 // an explicit 0 means no cost
			}
			if cfg.CacheTTL == 0 {
				cfg.CacheTTL = -1 // an explicit 0 means no TTL
			}
			app.SetRedisLog(cmd.ErrOrStderr())
			a, err := app.New(cfg)
			if err != nil {
				return usageErr(err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			err = a.Run(ctx, func(addr net.Addr) {
				fmt.Fprintf(cmd.ErrOrStderr(), "duckbench app %s listening on http://%s\n", cfg.Name, addr)
			})
			if err != nil && ctx.Err() == nil {
				return depErr(err)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&cfg.Name, "name", "", "instance name, sent in X-Served-By (required)")
	f.StringVar(&cfg.Listen, "listen", app.DefaultListen, "address to listen on")
	f.StringVar(&cfg.RedisMaster, "redis-master", app.DefaultRedisMaster, "Redis master host:port (writes)")
	f.StringSliceVar(&cfg.RedisReplicas, "redis-replica", nil, "Redis replica host:port for reads (repeatable; none = read the master)")
	f.StringVar(&passwordEnv, "redis-password-env", "", "name of the environment variable holding the Redis password")
	f.StringVar(&passwordFile, "redis-password-file", "", "file holding the Redis password (a Docker secret)")
	f.DurationVar(&cfg.OriginCost, "origin-cost", app.DefaultOriginCost, "simulated cost of computing a value on a cache miss")
	f.DurationVar(&cfg.CacheTTL, "cache-ttl", app.DefaultCacheTTL, "TTL of computed values in Redis and Cache-Control max-age (0 = no TTL, uncacheable)")
	f.IntVar(&cfg.MaxConcurrency, "max-concurrency", 0, "cap on in-flight requests, 503 beyond (0 = no cap)")
	f.IntVar(&cfg.PoolSize, "redis-pool-size", 128, "connections per Redis link")
	_ = c.MarkFlagRequired("name")
	return c
}
