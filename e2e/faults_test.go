//go:build integration

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/duckbench/duckbench/results"
)

// faultRun runs a seed-like spec with faults and returns the exit code, the
// result and the process.
func faultRun(t *testing.T, o specOpts) (int, *results.Result, string, *proc) {
	t.Helper()
	e := newEnv(t, seedSpec(o))
	p := start(t, nil, e.runArgs()...)
	code := p.wait(2 * time.Minute)
	assertNoOrphans(t, e.runDir, p)
	r, path := loadResult(t, e.results)
	return code, r, path, p
}

// verdictCode is the exit code a completed run's SLO verdict implies.
func verdictCode(r *results.Result) int {
	if r.SLO != nil && !r.SLO.Pass {
		return 1
	}
	return 0
}

// findEvent returns the first event of kind on target.
func findEvent(r *results.Result, kind, target string) (results.Event, bool) {
	for _, ev := range r.Events {
		if ev.Kind == kind && ev.Target == target {
			return ev, true
		}
	}
	return results.Event{}, false
}

func timelineErrors(r *results.Result, from, to int) (n uint64) {
	for _, s := range r.Timeline {
		if s.T >= from && s.T < to {
			n += s.Errors
		}
	}
	return n
}

func describeTimeline(r *results.Result) string {
	var b strings.Builder
	for _, s := range r.Timeline {
		fmt.Fprintf(&b, "  t=%d rate=%.0f p50=%.1fms p99=%.1fms max=%.1fms errors=%d codes=%v\n",
			s.T, s.AchievedRate, s.P50*1e3, s.P99*1e3, s.Max*1e3, s.Errors, s.StatusCodes)
	}
	return b.String()
}

// TestFaultKillReplica is issue 8's Done-when: a kill of a replica at a few
// seconds in; the run completes, exits with its SLO verdict, and its
// result.json holds the fault event.
func TestFaultKillReplica(t *testing.T) {
	need(t)
	t.Parallel()
	code, r, path, p := faultRun(t, specOpts{name: "e2e-kill-replica", duration: "8s",
		faults: "  - at: 5s\n    action: kill\n    target: redis-replica-1\n"})
	if r.Status != "completed" {
		p.dump()
		t.Fatalf("status = %q (%s); want completed", r.Status, r.Error)
	}
	if want := verdictCode(r); code != want {
		p.dump()
		t.Errorf("exit %d; want %d (the SLO verdict's)", code, want)
	}
	ev, ok := findEvent(r, "fault", "redis-replica-1")
	if !ok || ev.Action != "kill" {
		t.Fatalf("no kill event for redis-replica-1 in %+v", r.Events)
	}
	if ev.AtSeconds < 4.9 || ev.AtSeconds > 6.5 {
		t.Errorf("kill event at %.2fs; want ~5s", ev.AtSeconds)
	}
	html, err := os.ReadFile(filepath.Join(filepath.Dir(path), "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), "Events") || !strings.Contains(string(html), "redis-replica-1") {
		t.Error("report.html does not show the kill event")
	}
	// Reads fall back to the master: the load goes on.
	if r.Summary.SuccessRatio < 0.95 {
		t.Errorf("success ratio %.3f after a replica kill; reads should fall back to the master\n%s", r.Summary.SuccessRatio, describeTimeline(r))
	}
	raw := rawResult(t, path)
	if _, ok := raw["replication"]; !ok || len(r.Replication) == 0 {
		t.Fatal("result.json has no replication figures: the probes did not record the run")
	}
	found := false
	for _, rs := range r.Replication {
		if rs.Replica != "redis-replica-1" {
			continue
		}
		found = true
		if rs.LinkDownSeconds <= 0 {
			t.Errorf("redis-replica-1 link_down_seconds = %v after a kill at 5s of 8s", rs.LinkDownSeconds)
		}
		// Dead from 5s to the end: the delay grows to about 3s.
		if rs.HeartbeatSamples == 0 || rs.DelayMaxSeconds < 1.5 {
			t.Errorf("redis-replica-1 delay max %.3fs over %d heartbeats after a kill at 5s of 8s; want ≥ 1.5s", rs.DelayMaxSeconds, rs.HeartbeatSamples)
		}
	}
	if !found {
		t.Errorf("result.json replication has no redis-replica-1: %+v", r.Replication)
	}
}

// TestFaultKillApp kills one app: HAProxy's health checks take it out,
// errors (if any) stop, the share moves to the survivor. HAProxy
// redispatches a refused connection to the other server (configgen renders
// `option redispatch 1`), so only requests in flight on the dead app at the
// kill can fail: at 200 req/s and ~1 ms latency that is usually none.
func TestFaultKillApp(t *testing.T) {
	need(t)
	t.Parallel()
	code, r, _, p := faultRun(t, specOpts{name: "e2e-kill-app", duration: "10s", success: "50%",
		faults: "  - at: 3s\n    action: kill\n    target: app2\n"})
	t.Logf("timeline (generator saturated: %v):\n%s", r.GeneratorSaturated, describeTimeline(r))
	if r.Status != "completed" {
		p.dump()
		t.Fatalf("status = %q (%s); want completed", r.Status, r.Error)
	}
	if want := verdictCode(r); code != want {
		t.Errorf("exit %d; want %d (the SLO verdict's)", code, want)
	}
	if _, ok := findEvent(r, "fault", "app2"); !ok {
		t.Errorf("no fault event for app2 in %+v", r.Events)
	}
	// Seconds are by request start; a request sent just before the kill
	// can still land on app2, and the fault clock (the session's T0) runs a
	// little ahead of the attack's: keep a 1s margin before the kill.
	before, during, after := timelineErrors(r, 0, 2), timelineErrors(r, 2, 7), timelineErrors(r, 7, 100)
	if before != 0 {
		t.Errorf("%d errors more than 1s before the kill", before)
	}
	t.Logf("%d errors in the seconds after the kill (requests in flight on app2)", during)
	if after != 0 {
		t.Errorf("%d errors from 7s on: HAProxy's health checks should have removed app2 by then", after)
	}
	if s1, s2 := r.AppShare["app1"], r.AppShare["app2"]; s1 < 0.6 || s2 > 0.4 {
		t.Errorf("app_share = %v; want the survivor app1 well above 0.5", r.AppShare)
	}
	if len(r.Backends) == 0 {
		t.Fatal("result.json has no backends figures: the probes did not record the run")
	}
	for _, b := range r.Backends {
		if b.Server == "app2" && b.DownSeconds <= 0 {
			t.Errorf("backend app2 down_seconds = %v after a kill", b.DownSeconds)
		}
		if b.Server == "app1" && b.ShareRatio < 0.6 {
			t.Errorf("backend app1 share = %v; want > 0.6", b.ShareRatio)
		}
	}
}

// TestFaultPauseMaster SIGSTOPs the master for 2s: the fault and its
// recovery are recorded, and the pause shows in the timeline.
func TestFaultPauseMaster(t *testing.T) {
	need(t)
	t.Parallel()
	code, r, _, p := faultRun(t, specOpts{name: "e2e-pause-master", duration: "8s",
		faults: "  - at: 3s\n    action: pause\n    target: redis-master\n    for: 2s\n"})
	t.Logf("timeline:\n%s", describeTimeline(r))
	if r.Status != "completed" {
		p.dump()
		t.Fatalf("status = %q (%s); want completed", r.Status, r.Error)
	}
	if want := verdictCode(r); code != want {
		t.Errorf("exit %d; want %d (the SLO verdict's)", code, want)
	}
	f, ok1 := findEvent(r, "fault", "redis-master")
	rc, ok2 := findEvent(r, "recovery", "redis-master")
	if !ok1 || !ok2 {
		t.Fatalf("want a fault and a recovery event for redis-master, got %+v", r.Events)
	}
	if f.Action != "stop" || rc.Action != "cont" {
		t.Errorf("actions = %q then %q; want stop then cont", f.Action, rc.Action)
	}
	if d := rc.AtSeconds - f.AtSeconds; d < 1.8 || d > 3 {
		t.Errorf("recovery %.2fs after the fault; want ~2s", d)
	}
	// The pause shows: a second of the window has a p99 (or max) far above
	// the calm seconds' worst, or errors.
	calm := 0.0
	for _, s := range r.Timeline {
		if s.T < 3 && s.P99 > calm {
			calm = s.P99
		}
	}
	var worst float64
	for _, s := range r.Timeline {
		if s.T >= 3 && s.T <= 6 && s.Max > worst {
			worst = s.Max
		}
	}
	if worst < 0.5 && timelineErrors(r, 3, 7) == 0 {
		t.Errorf("the 2s master pause is not visible: worst latency %.1fms in 3-6s (calm p99 %.1fms), no errors", worst*1e3, calm*1e3)
	}
	// Recovery: the last seconds are calm again.
	if n := len(r.Timeline); n > 0 {
		last := r.Timeline[n-1]
		if last.Errors > 0 || last.P99 > 0.25 {
			t.Errorf("last second not recovered: %+v", last)
		}
	}
}

// TestHAProxyDies kills HAProxy from outside mid-run (not a spec fault):
// the run reports the failure, writes result.json with status failed and
// exits 3.
func TestHAProxyDies(t *testing.T) {
	need(t)
	t.Parallel()
	e := newEnv(t, seedSpec(specOpts{name: "e2e-haproxy-dies", duration: "8s"}))
	p := start(t, nil, e.runArgs()...)
	p.waitFor("attacking", time.Minute)
	time.Sleep(2 * time.Second)
	killed := 0
	for pid, cl := range mentioning(e.runDir) {
		if strings.Contains(cl, "haproxy") && strings.Contains(cl, "-f") {
			if err := syscall.Kill(pid, syscall.SIGKILL); err == nil {
				killed++
			}
		}
	}
	if killed != 1 {
		t.Fatalf("found %d haproxy processes of the run to kill; want 1", killed)
	}
	code := p.wait(2 * time.Minute)
	assertNoOrphans(t, e.runDir, p)
	if code != 3 {
		p.dump()
		t.Errorf("exit %d; want 3 (the stack failed)", code)
	}
	if !strings.Contains(p.stderr.String(), "haproxy") {
		t.Errorf("stderr does not name haproxy:\n%s", p.stderr.String())
	}
	r, _ := loadResult(t, e.results)
	if r.Status != "failed" {
		t.Errorf("status = %q; want failed", r.Status)
	}
	if !strings.Contains(r.Error, "haproxy") {
		t.Errorf("result error = %q; want it to name haproxy", r.Error)
	}
	if r.Summary.Errors == 0 {
		t.Error("no request errors recorded after HAProxy died")
	}
}

// TestFaultKillRestartReplica kills a replica for 2s: the driver restarts
// it (a recovery event), the run completes with every service running, and
// the restarted process is torn down with the rest.
func TestFaultKillRestartReplica(t *testing.T) {
	need(t)
	t.Parallel()
	code, r, _, p := faultRun(t, specOpts{name: "e2e-restart-replica", duration: "8s",
		faults: "  - at: 2s\n    action: kill\n    target: redis-replica-2\n    for: 2s\n"})
	if r.Status != "completed" {
		p.dump()
		t.Fatalf("status = %q (%s); want completed (the replica was restarted)", r.Status, r.Error)
	}
	if want := verdictCode(r); code != want {
		t.Errorf("exit %d; want %d (the SLO verdict's)", code, want)
	}
	f, ok1 := findEvent(r, "fault", "redis-replica-2")
	rc, ok2 := findEvent(r, "recovery", "redis-replica-2")
	if !ok1 || !ok2 || f.Action != "kill" || rc.Action != "restart" {
		t.Fatalf("want kill then restart events for redis-replica-2, got %+v", r.Events)
	}
	for _, ev := range r.Events {
		if ev.Kind == "error" {
			t.Errorf("fault error event: %s", ev.Message)
		}
	}
	if !strings.Contains(p.stderr.String(), "started redis-replica-2") || strings.Count(p.stderr.String(), "started redis-replica-2") < 2 {
		t.Errorf("stderr does not show redis-replica-2 started again:\n%s", p.stderr.String())
	}
}

// TestFaultKillHAProxySpec kills HAProxy as a spec fault (meant, not
// recovered): load fails from then on; the run is written and exits
// non-zero through its SLO verdict.
func TestFaultKillHAProxySpec(t *testing.T) {
	need(t)
	t.Parallel()
	code, r, _, p := faultRun(t, specOpts{name: "e2e-kill-haproxy", duration: "6s",
		faults: "  - at: 3s\n    action: kill\n    target: haproxy\n"})
	t.Logf("status %q, exit %d, errors %d of %d", r.Status, code, r.Summary.Errors, r.Summary.Requests)
	if code == 0 {
		p.dump()
		t.Error("exit 0 after HAProxy was killed mid-run; want non-zero")
	}
	if _, ok := findEvent(r, "fault", "haproxy"); !ok {
		t.Errorf("no fault event for haproxy in %+v", r.Events)
	}
	if timelineErrors(r, 4, 100) == 0 {
		t.Errorf("no errors after HAProxy was killed\n%s", describeTimeline(r))
	}
}
