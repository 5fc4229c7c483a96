//go:build integration

package probes_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/duckbench/duckbench/compose"
	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/internal/testimages"
	"github.com/duckbench/duckbench/probes"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

// TestHeartbeatCompose runs the heartbeat on the compose runtime (the seed
// stack in containers, with a password, every port published on
// 127.0.0.1): PUBLISH reaches the subscribers through the containers'
// replication, and the delay recovers after a container restart (the
// subscriber resubscribes) and after a full resync.
func TestHeartbeatCompose(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := compose.DockerAvailable(ctx); err != nil {
		testenv.Unavailable(t, fmt.Sprintf("compose test skipped: %v", err))
	}
	imgs, err := testimages.Build(ctx)
	if err != nil {
		t.Fatalf("testimages.Build() = %v", err)
	}
	bin := filepath.Join(t.TempDir(), "duckbench")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/duckbench")
	build.Dir, build.Env = "..", append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build duckbench: %v\n%s", err, out)
	}
	s, err := spec.Load("../examples/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const pwEnv, pw = "DUCKBENCH_IT_COMPOSE_PW", "hb compose pw"
	t.Setenv(pwEnv, pw)
	s.Name = fmt.Sprintf("replication-hb-%d", os.Getpid())
	s.Redis.Image, s.HAProxy.Image, s.Redis.PasswordEnv = imgs.Redis, imgs.HAProxy, pwEnv
	for _, l := range s.Listeners() {
		*l.Port = spec.PortAuto
	}
	d, err := compose.New(s, compose.Options{RunDir: t.TempDir(), Binary: bin, WaitTimeout: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Down(context.Background()) })
	ep, err := d.Up(ctx)
	if err != nil {
		t.Fatalf("Up() = %v", err)
	}
	m, err := probes.NewMonitor(ep, probes.OptionsFromSpec(s))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Start(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	rc := m.Collectors()[0]
	delay := func(replica string) float64 {
		v, _ := gauge(t, rc, "duckbench_redis_replication_delay_seconds", map[string]string{"replica": replica})
		return v
	}
	// Under 100ms: the ports are published through docker-proxy on a
	// shared 2-core host; an outage reads in seconds.
	recovered := func(what string) {
		t.Helper()
		var d1, d2 float64
		deadline := time.Now().Add(2 * time.Minute)
		for {
			d1, d2 = delay("redis-replica-1"), delay("redis-replica-2")
			if d1 > 0 && d1 < 0.1 && d2 > 0 && d2 < 0.1 {
				t.Logf("%s: delays %.4fs, %.4fs", what, d1, d2)
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: delays still %.3fs, %.3fs after 2m", what, d1, d2)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	recovered("both replicas")

	if err := d.Fault(ctx, "redis-replica-1", "restart"); err != nil {
		t.Fatal(err)
	}
	recovered("after a container restart")

	var r2 string
	for _, r := range ep.Replicas() {
		if r.Name == "redis-replica-2" {
			r2 = r.Addr
		}
	}
	c := redis.NewClient(&redis.Options{Addr: r2, Password: pw})
	defer c.Close()
	forceFullResync(ctx, t, c)
	recovered("after a full resync")
	time.Sleep(time.Second)
	m.Stop(ctx)
	var res results.Result
	m.Fill(&res)
	for _, st := range res.Replication {
		t.Logf("%+v", st)
		// The outages are in the figures: a delay max of seconds. Whether
		// the heartbeats of the outage arrive late or are lost depends on
		// how the replica came back: a partial resync from the master's
		// backlog delivers them late (seen with a quick container
		// restart), a full resync loses them; either way the max shows it.
		if st.HeartbeatSamples == 0 || st.DelayMaxSeconds < 0.5 {
			t.Errorf("%s: %+v; want readings and a max ≥ 0.5s (restart / resync)", st.Replica, st)
		}
		if st.Replica == "redis-replica-2" && st.HeartbeatsLost == 0 {
			t.Errorf("%s: %+v; want heartbeats lost across the full resync", st.Replica, st)
		}
	}
}

// forceFullResync detaches the replica behind c for a second and attaches
// it again to its master (as the replica reaches it inside the project's
// network): a new replication ID, so a full resync.
func forceFullResync(ctx context.Context, t *testing.T, c *redis.Client) {
	t.Helper()
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		t.Fatal(err)
	}
	var host, port string
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, "master_host:"); ok {
			host = v
		}
		if v, ok := strings.CutPrefix(l, "master_port:"); ok {
			port = v
		}
	}
	if err := c.Do(ctx, "REPLICAOF", "NO", "ONE").Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := c.Do(ctx, "REPLICAOF", host, port).Err(); err != nil {
		t.Fatal(err)
	}
}
