package stack

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/spec"
)

func TestResolvePorts(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := spec.Port(busy.Addr().(*net.TCPAddr).Port)

	base := func() *spec.Spec {
		s := &spec.Spec{
			Name: "t",
			Redis: spec.Redis{
				Master:   spec.RedisNode{Name: "redis-master"},
				Replicas: []spec.RedisNode{{Name: "redis-replica-1"}},
			},
			Apps: []spec.App{{Name: "app1"}, {Name: "app2"}},
		}
		for _, li := range s.Listeners() {
			*li.Port = spec.PortAuto
		}
		return s
	}
	t.Run("auto ports are distinct and free", func(t *testing.T) {
		s := base()
		var picked []string
		if err := ResolvePorts(s, PortOptions{Picked: func(path string, _ spec.Port) { picked = append(picked, path) }}); err != nil {
			t.Fatalf("ResolvePorts() = %v", err)
		}
		seen := map[spec.Port]string{}
		for _, li := range s.Listeners() {
			if li.Port.IsAuto() || *li.Port <= 0 {
				t.Errorf("%s = %v after ResolvePorts; want a port", li.Path, *li.Port)
			}
			if other, dup := seen[*li.Port]; dup {
				t.Errorf("%s and %s both got port %d", li.Path, other, *li.Port)
			}
			seen[*li.Port] = li.Path
		}
		if len(picked) != len(s.Listeners()) {
			t.Errorf("Picked told %d ports; want %d", len(picked), len(s.Listeners()))
		}
		// Once resolved, the same ports check free again (nothing listens).
		if err := ResolvePorts(s, PortOptions{}); err != nil {
			t.Errorf("ResolvePorts(resolved) = %v", err)
		}
	})
	t.Run("skipped listeners stay auto", func(t *testing.T) {
		s := base()
		if err := ResolvePorts(s, PortOptions{Skip: []string{"haproxy.stats_socket.port"}}); err != nil {
			t.Fatalf("ResolvePorts() = %v", err)
		}
		if !s.HAProxy.StatsSocket.Port.IsAuto() {
			t.Errorf("haproxy.stats_socket.port = %v; want auto (skipped)", s.HAProxy.StatsSocket.Port)
		}
	})
	for _, tc := range []struct {
		name string
		set  func(s *spec.Spec)
		want []string
	}{
		{"port in use names the port and the app", func(s *spec.Spec) { s.Apps[1].Port = busyPort },
			[]string{strconv.Itoa(int(busyPort)), "app2", "apps[1].port"}},
		{"port in use names the replica", func(s *spec.Spec) { s.Redis.Replicas[0].Port = busyPort },
			[]string{strconv.Itoa(int(busyPort)), "redis-replica-1", "redis.replicas[0].port"}},
		{"one port twice", func(s *spec.Spec) { s.Apps[0].Port, s.HAProxy.Port = 18001, 18001 },
			[]string{"port 18001 of haproxy (haproxy.port) is also apps[0].port"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			tc.set(s)
			err := ResolvePorts(s, PortOptions{})
			if !errors.Is(err, ErrPortInUse) {
				t.Fatalf("ResolvePorts() = %v; want ErrPortInUse", err)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("ResolvePorts() error %q does not name %q", err, want)
				}
			}
		})
	}
}

func TestBuiltinAppArgs(t *testing.T) {
	s := &spec.Spec{Redis: spec.Redis{
		Master:   spec.RedisNode{Name: "redis-master", Port: 6379},
		Replicas: []spec.RedisNode{{Name: "redis-replica-1", Port: 6380}, {Name: "redis-replica-2", Port: 6381}},
	}}
	a := spec.App{Name: "app1", Port: 8001, OriginCost: spec.Duration(2e6), CacheTTL: 0, MaxConcurrency: 4}
	for _, tc := range []struct {
		name             string
		listenHost, host string
		pwEnv, want      string
	}{
		{"local", "127.0.0.1", "127.0.0.1", "",
			"app --name app1 --listen 127.0.0.1:8001 --redis-master 127.0.0.1:6379 --redis-replica 127.0.0.1:6380 --redis-replica 127.0.0.1:6381 --origin-cost 2ms --cache-ttl 0s --max-concurrency 4"},
		{"compose", "0.0.0.0", "", "PW",
			"app --name app1 --listen 0.0.0.0:8001 --redis-master redis-master:6379 --redis-replica redis-replica-1:6380 --redis-replica redis-replica-2:6381 --origin-cost 2ms --cache-ttl 0s --max-concurrency 4 --redis-password-env PW"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// cache_ttl: 0 is on the line: the spec's explicit zero (never
			// expire) must not fall back to the app's 60s default.
			got := strings.Join(BuiltinAppArgs(a, AppAddrsOf(s, a, tc.listenHost, tc.host), tc.pwEnv), " ")
			if got != tc.want {
				t.Errorf("BuiltinAppArgs() = %q;\nwant %q", got, tc.want)
			}
		})
	}
}
