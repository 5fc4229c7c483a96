//go:build integration

package probes_test

import (
	"context"
	"fmt"
	"math"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/duckbench/duckbench/probes"
	"github.com/duckbench/duckbench/probes/redisprobe"
	"github.com/duckbench/duckbench/results"
)

// quantile is the q-quantile of sorted ds (nearest rank).
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(q*float64(len(ds))+0.5) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

// quantileCI is the distribution-free 95 % interval of the q-quantile of
// sorted ds: the order statistics at q·n ∓ 1.96·√(n·q·(1−q)) (normal
// approximation of the binomial count below the quantile).
func quantileCI(ds []time.Duration, q float64) (lo, hi time.Duration) {
	n := float64(len(ds))
	if n == 0 {
		return 0, 0
	}
	k, w := q*n, 1.96*math.Sqrt(n*q*(1-q))
	at := func(r float64) time.Duration { return ds[min(max(int(r), 0), len(ds)-1)] }
	return at(math.Floor(k-w) - 1), at(math.Ceil(k+w) - 1)
}

// readings collects a heartbeat's readings per replica.
type readings struct {
	mu sync.Mutex
	by map[string][]redisprobe.Reading
}

func (r *readings) add(rd redisprobe.Reading) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.by == nil {
		r.by = map[string][]redisprobe.Reading{}
	}
	r.by[rd.Replica] = append(r.by[rd.Replica], rd)
}

func (r *readings) get(replica string) []redisprobe.Reading {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]redisprobe.Reading(nil), r.by[replica]...)
}

// TestHeartbeatRestartAndResync runs the heartbeat with AUTH across a
// replica's restart (its subscriber reconnects and resubscribes) and a full
// resync (REPLICAOF NO ONE, then back: the master no longer knows the
// replica's history): the delay grows while nothing is delivered, the
// heartbeats never delivered count as lost, and the readings resume.
func TestHeartbeatRestartAndResync(t *testing.T) {
	const pw, pwEnv = "duck-hb-pw", "DUCKBENCH_IT_HB_PW"
	dir := t.TempDir()
	master := startRedisAuth(t, dir, "redis-master", nil, pw)
	r1 := startRedisAuth(t, dir, "redis-replica-1", master, pw)
	t.Setenv(pwEnv, pw)
	m, err := probes.NewMonitor(redisEndpoints(master, r1), probes.Options{PasswordEnv: pwEnv, HeartbeatInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Start(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	rc := m.Collectors()[0]
	delay := func() float64 {
		v, _ := gauge(t, rc, "duckbench_redis_replication_delay_seconds", map[string]string{"replica": r1.name})
		return v
	}
	waitFor(t, "a first delay under 20ms", 10*time.Second, func() bool { d := delay(); return d > 0 && d < 0.02 })

	// Restart: kill, 1.5s down, start on the same port.
	_, port, _ := net.SplitHostPort(r1.addr)
	if err := r1.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if d := delay(); d < 1.4 {
		t.Errorf("killed replica: delay %.3fs after 1.5s; want ≥ 1.4s", d)
	}
	p, _ := strconv.Atoi(port)
	startRedisOn(t, dir, r1.name, p, master, pw)
	waitFor(t, "the delay to recover after the restart (resubscribed)", 15*time.Second, func() bool { return delay() < 0.02 })

	// Full resync without a restart: the subscriber stays connected.
	mc := redis.NewClient(&redis.Options{Addr: master.addr, Password: pw})
	defer mc.Close()
	rcl := redis.NewClient(&redis.Options{Addr: r1.addr, Password: pw})
	defer rcl.Close()
	fullSyncs := func() int {
		s, _ := mc.Info(ctx, "stats").Result()
		for _, l := range strings.Split(s, "\r\n") {
			if v, ok := strings.CutPrefix(l, "sync_full:"); ok {
				n, _ := strconv.Atoi(v)
				return n
			}
		}
		return -1
	}
	before := fullSyncs()
	if err := rcl.Do(ctx, "REPLICAOF", "NO", "ONE").Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if d := delay(); d < 0.9 {
		t.Errorf("detached replica: delay %.3fs after 1s; want ≥ 0.9s", d)
	}
	h, pt, _ := net.SplitHostPort(master.addr)
	if err := rcl.Do(ctx, "REPLICAOF", h, pt).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the delay to recover after the full resync", 15*time.Second, func() bool { return delay() < 0.02 })
	if after := fullSyncs(); after <= before {
		t.Errorf("sync_full %d → %d: REPLICAOF NO ONE and back did not force a full resync", before, after)
	}
	time.Sleep(300 * time.Millisecond)
	m.Stop(ctx)
	var r results.Result
	m.Fill(&r)
	s := r.Replication[0]
	t.Logf("%+v", s)
	if s.HeartbeatsLost < 20 || s.DelayMaxSeconds < 1.4 {
		t.Errorf("replication = %+v; want ≥ 20 lost heartbeats (1.5s down and 1s detached at 50ms) and max ≥ 1.4s", s)
	}
}

// commandCalls reads INFO commandstats: calls per command.
func commandCalls(ctx context.Context, t *testing.T, addr string) map[string]int {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true})
	defer c.Close()
	s, err := c.Info(ctx, "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, l := range strings.Split(s, "\r\n") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(l, "cmdstat_"), ":calls=")
		if !ok || !strings.HasPrefix(l, "cmdstat_") {
			continue
		}
		n, _ := strconv.Atoi(strings.SplitN(rest, ",", 2)[0])
		out[name] = n
	}
	return out
}

// TestProbeCost measures what the probes cost Redis at the defaults
// (heartbeat 100ms, sampling 1s) with a master and two replicas: every
// command they cause on any node, from INFO commandstats before and after
// a quiet 10s window (the replicas' count includes the PUBLISHes they
// apply from the replication stream). The budget is 1 % of a 5,000
// commands/s workload: 50 commands/s. The arithmetic: 10 PUBLISH/s on the
// master, applied by each replica (20/s), 1 INFO/s per node (3/s) = 33/s.
func TestProbeCost(t *testing.T) {
	dir := t.TempDir()
	master := startRedis(t, dir, "redis-master", nil)
	r1 := startRedis(t, dir, "redis-replica-1", master)
	r2 := startRedis(t, dir, "redis-replica-2", master)
	nodes := []*redisProc{master, r1, r2}
	m, err := probes.NewMonitor(redisEndpoints(master, r1, r2), probes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Start(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // connections and subscriptions made
	const window = 10 * time.Second
	var before []map[string]int
	for _, n := range nodes {
		before = append(before, commandCalls(ctx, t, n.addr))
	}
	start := time.Now()
	time.Sleep(window)
	var after []map[string]int
	for _, n := range nodes {
		after = append(after, commandCalls(ctx, t, n.addr))
	}
	took := time.Since(start).Seconds()
	m.Stop(ctx)
	total := 0
	var lines []string
	for i, n := range nodes {
		for cmd, calls := range after[i] {
			d := calls - before[i][cmd]
			switch cmd {
			case "info", "hello":
				d-- // the "before" connection and INFO commandstats of this test
			case "replconf", "ping":
				continue // replication's own: the replicas' ACKs, the master's pings
			}
			if d > 0 {
				total += d
				lines = append(lines, fmt.Sprintf("%s %s %.1f/s", n.name, cmd, float64(d)/took))
			}
		}
	}
	sort.Strings(lines)
	rate := float64(total) / took
	t.Logf("probe commands over %.1fs: %.1f/s = %.2f %% of 5,000/s\n  %s", took, rate, rate/50, strings.Join(lines, "\n  "))
	if rate > 50 {
		t.Errorf("probes cost %.1f Redis commands/s; want ≤ 50 (1 %% of 5,000/s)", rate)
	}
}
