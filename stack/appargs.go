package stack

import (
	"strconv"

	"github.com/duckbench/duckbench/spec"
)

// AppAddrs are where one app listens and reaches Redis, as the app's
// runtime sees them: loopback ports locally, service names on a compose
// network.
type AppAddrs struct {
	Listen   string
	Master   string
	Replicas []string
}

// AppAddrsOf returns the addresses of app a of s with every node reached
// at host (127.0.0.1 locally), or at its own name when host is "" (a
// compose service name); the app listens on listenHost.
func AppAddrsOf(s *spec.Spec, a spec.App, listenHost, host string) AppAddrs {
	addr := func(name string, p spec.Port) string {
		if host == "" {
			return name + ":" + strconv.Itoa(int(p))
		}
		return host + ":" + strconv.Itoa(int(p))
	}
	out := AppAddrs{Listen: listenHost + ":" + strconv.Itoa(int(a.Port))}
	for _, n := range s.Redis.Nodes() {
		if n.Master() {
			out.Master = addr(n.Name, n.Port)
		} else {
			out.Replicas = append(out.Replicas, addr(n.Name, n.Port))
		}
	}
	return out
}

// BuiltinAppArgs is the reference app's command line after the program
// name (`duckbench app …`) for app a (defaults applied) at addrs. The
// spec's figures go on the line as written, explicit zeros included: an
// origin_cost of 0 is no cost and a cache_ttl of 0 never expires, as the
// spec documents (the app's own defaults apply only to a flag left out).
// passwordEnv names the variable the app reads the Redis password from
// ("" for none).
func BuiltinAppArgs(a spec.App, addrs AppAddrs, passwordEnv string) []string {
	args := []string{"app", "--name", a.Name, "--listen", addrs.Listen, "--redis-master", addrs.Master}
	for _, r := range addrs.Replicas {
		args = append(args, "--redis-replica", r)
	}
	args = append(args, "--origin-cost", a.OriginCost.String(), "--cache-ttl", a.CacheTTL.String())
	if a.MaxConcurrency > 0 {
		args = append(args, "--max-concurrency", strconv.Itoa(a.MaxConcurrency))
	}
	if passwordEnv != "" {
		args = append(args, "--redis-password-env", passwordEnv)
	}
	return args
}
