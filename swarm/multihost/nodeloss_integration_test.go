//go:build integration

package multihost

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/testhosts"
	"github.com/duckbench/duckbench/results"
)

// TestAgentHostLost (#25 item 5): the link of a host that runs a load
// agent (not the manager, not HAProxy's host) is cut 3 s into the attack.
// That agent's shard is reported missing with its node named, the other
// two merge exactly (the merged count is theirs, each sent its whole
// stripe of the schedule), the run is incomplete, exit 3, the loss is on
// the timeline with the services that ran there (an app there: HAProxy
// marks it down, the run goes on), and down says which node it could not
// reach.
func TestAgentHostLost(t *testing.T) {
	c, _ := requireCluster(t)
	res := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd, sc := startRun(ctx, t, c, nil, "run", "examples/seed.yaml", "--runtime", "swarm", "--agents", "3",
		"--duration", "10s", "--rate", "300", "--agent-start-lead", "12s", "--results", res, "--run-dir", filepath.Join(res, "run"))
	var out strings.Builder
	var cut *testhosts.Host
	var cutAt time.Time
	var downAt atomic.Int64 // since the common start, when the manager said down
	defer func() {
		if cut != nil {
			heal(t, c, cut)
		}
	}()
	haproxy := ""
	for sc.Scan() {
		l := sc.Text()
		out.WriteString(l + "\n")
		if m := regexp.MustCompile(`haproxy@(\S+)`).FindStringSubmatch(l); m != nil {
			haproxy = m[1]
		}
		m := regexp.MustCompile(`common start (\d\d:\d\d:\d\d\.\d{3})`).FindStringSubmatch(l)
		if m == nil || cut != nil {
			continue
		}
		for _, h := range c.Hosts[1:] {
			if h.Name != haproxy {
				cut = h
				break
			}
		}
		hm, _ := time.Parse("15:04:05.000", m[1])
		now := time.Now().UTC()
		start := time.Date(now.Year(), now.Month(), now.Day(), hm.Hour(), hm.Minute(), hm.Second(), hm.Nanosecond(), time.UTC)
		go func() { cutAt = cutAt3s(ctx, t, c, cut, start, &downAt) }()
	}
	err := cmd.Wait()
	t.Logf("duckbench run (cut %v at %s):\n%s", cut, cutAt.UTC().Format("15:04:05.000"), out.String())
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Fatalf("exit: %v; want 3 (incomplete)", err)
	}
	r, _ := loadResult(t, res)
	if r.Status != results.StatusIncomplete {
		t.Errorf("status %q; want %q", r.Status, results.StatusIncomplete)
	}
	var sum uint64
	lost := 0
	for _, a := range r.Agents {
		t.Logf("agent %d on %s: %s %s, planned %d, sent %d", a.Index, a.Node, a.Status, a.Error, a.PlannedRequests, a.Requests)
		if a.Node == cut.Name {
			lost++
			if a.Status != results.AgentMissing || !strings.Contains(a.Error, cut.Name) {
				t.Errorf("agent %d on the cut host: %s %q; want missing, naming %s", a.Index, a.Status, a.Error, cut.Name)
			}
			continue
		}
		if a.Status != results.AgentOK || a.Requests != a.PlannedRequests {
			t.Errorf("agent %d: %s, %d of %d planned", a.Index, a.Status, a.Requests, a.PlannedRequests)
		}
		sum += a.Requests
	}
	if lost != 1 {
		t.Errorf("%d agents on the cut host %s; want 1", lost, cut.Name)
	}
	if r.Summary.Requests != sum {
		t.Errorf("merged requests %d; the live agents' sum %d", r.Summary.Requests, sum)
	}
	checkLossOnTimeline(t, r, cut, time.Duration(downAt.Load()).Seconds())
	if !strings.Contains(out.String(), "could not reach node "+cut.Name) {
		t.Errorf("down did not say it could not reach %s", cut.Name)
	}
}

// cutAt3s cuts h's link 3 s after start and returns when; it then polls
// the manager's own view of h and stores in downAt when (since start) the
// manager called it down.
func cutAt3s(ctx context.Context, t *testing.T, c *testhosts.Cluster, h *testhosts.Host, start time.Time, downAt *atomic.Int64) time.Time {
	time.Sleep(time.Until(start.Add(3 * time.Second)))
	at := time.Now()
	if err := c.Cut(ctx, h); err != nil {
		t.Error(err)
	}
	for ctx.Err() == nil {
		if st, _ := c.NodeState(ctx, h); st == "down" {
			downAt.Store(time.Since(start).Nanoseconds())
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	return at
}

// checkLossOnTimeline: the record's timeline has the node-lost event of
// cut within [-1 s, +3.5 s] of when the manager called it down (mgr,
// seconds since the attack's start), and an app that ran there was marked
// down by HAProxy.
func checkLossOnTimeline(t *testing.T, r *results.Result, cut *testhosts.Host, mgr float64) {
	t.Helper()
	// The loss on the timeline, with what ran there; an app there shows
	// its effect: HAProxy marked its server down.
	var lostEv *results.Event
	for i, e := range r.Events {
		if e.Action == "node-lost" && e.Target == cut.Name {
			lostEv = &r.Events[i]
		}
	}
	if lostEv == nil {
		t.Fatalf("no node-lost event for %s on the timeline: %+v", cut.Name, r.Events)
	}
	// The run's timeline starts before the attack: its second T of the
	// attack's first second is the attack's start on it (rounded: ±0.5 s).
	if len(r.Timeline) == 0 {
		t.Fatal("no timeline")
	}
	origin := float64(r.Timeline[0].T)
	t.Logf("timeline (attack start at ~%+.0fs): cut at %+.1fs, the manager said down at %+.1fs, the run recorded %+.1fs: %s",
		origin, origin+3, origin+mgr, lostEv.AtSeconds, lostEv.Message)
	if d := lostEv.AtSeconds - (origin + mgr); mgr == 0 || d < -1 || d > 3.5 {
		t.Errorf("node-lost at %+.1fs; the manager called the node down at %+.1fs (want within [-1 s, +3.5 s] of it, the origin ±0.5 s)", lostEv.AtSeconds, origin+mgr)
	}
	for _, b := range r.Backends {
		app := strings.TrimPrefix(b.Server, "apps/")
		if strings.Contains(lostEv.Message, " "+app) && b.DownSeconds <= 0 {
			t.Errorf("%s ran on the cut host but HAProxy never marked it down", b.Server)
		}
	}
}

// TestStackHostLost (#25 item 5, a host of the stack, no agents): a plain
// `run --runtime swarm` with redis-replica-2 pinned to the third host and
// everything else off it; that host's link is cut 3 s into the attack.
// The loss is on the timeline (node-lost, naming redis-replica-2) within
// [-1 s, +3.5 s] of when the manager called the node down, the attack
// goes on to send every planned request (rate × duration, from the flags),
// and the record ends failed (exit 3) naming the replica that is not
// running at the end.
func TestStackHostLost(t *testing.T) {
	c, _ := requireCluster(t)
	lost := c.Hosts[2]
	sp := lostSpec(t, lost.Name)
	res := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd, sc := startRun(ctx, t, c, []string{"LOSTPW=lost pw"}, "run", sp, "--runtime", "swarm", "--duration", "12s", "--rate", "100",
		"--results", res, "--run-dir", filepath.Join(res, "run"), "-q")
	var out strings.Builder
	var cut bool
	var downAt atomic.Int64
	defer func() {
		if cut {
			heal(t, c, lost)
		}
	}()
	for sc.Scan() {
		l := sc.Text()
		out.WriteString(l + "\n")
		if !cut && strings.HasPrefix(l, "attacking http://") {
			cut = true
			start := time.Now()
			go cutAt3s(ctx, t, c, lost, start, &downAt)
		}
	}
	err := cmd.Wait()
	t.Logf("duckbench run (%s cut 3 s into the attack):\n%s", lost.Name, out.String())
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Errorf("exit: %v; want 3 (a service of the stack not running at the end)", err)
	}
	if !strings.Contains(out.String(), "swarm: node "+lost.Name+" unreachable") {
		t.Errorf("the loss of %s was not said as it happened", lost.Name)
	}
	r, _ := loadResult(t, res)
	if r.Status != results.StatusFailed || !strings.Contains(r.Error, "redis-replica-2") {
		t.Errorf("status %q, error %q; want failed, naming redis-replica-2", r.Status, r.Error)
	}
	const planned = 100 * 12
	if r.Summary.Requests != planned {
		t.Errorf("requests %d; want all %d planned (the run goes on)", r.Summary.Requests, planned)
	}
	if got := r.Placement["redis-replica-2"]; len(got) != 1 || got[0] != lost.Name {
		t.Errorf("redis-replica-2 placed on %v; want %s", got, lost.Name)
	}
	checkLossOnTimeline(t, r, lost, time.Duration(downAt.Load()).Seconds())
	for _, e := range r.Events {
		if e.Action == "node-lost" && !strings.Contains(e.Message, "on it: redis-replica-2") {
			t.Errorf("node-lost %q; want it to name redis-replica-2 (and nothing else ran there)", e.Message)
		}
	}
}

// lostSpec writes examples/seed.yaml as spec "lost" with redis-replica-2
// pinned to host and every other service kept off it.
func lostSpec(t *testing.T, host string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "seed.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	off := `placement: ["node.hostname!=` + host + `"]`
	y := string(b)
	for _, r := range [][2]string{
		{"name: seed\n", "name: lost\n"},
		{"\nredis:\n", "\nredis:\n  password_env: LOSTPW\n"},
		{"    name: redis-master\n", "    name: redis-master\n    " + off + "\n"},
		{"    - name: redis-replica-1\n", "    - name: redis-replica-1\n      " + off + "\n"},
		{"    - name: redis-replica-2\n", "    - name: redis-replica-2\n      placement: [\"node.hostname==" + host + "\"]\n"},
		{"  - name: app1\n", "  - name: app1\n    " + off + "\n"},
		{"  - name: app2\n", "  - name: app2\n    " + off + "\n"},
		{"\nhaproxy:\n", "\nhaproxy:\n  " + off + "\n"},
	} {
		if strings.Count(y, r[0]) != 1 {
			t.Fatalf("examples/seed.yaml: %q not found once", r[0])
		}
		y = strings.Replace(y, r[0], r[1], 1)
	}
	p := filepath.Join(t.TempDir(), "lost.yaml")
	if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
