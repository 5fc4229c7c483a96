//go:build integration

package swarm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/duckbench/duckbench/internal/syncbuf"
	"github.com/duckbench/duckbench/internal/testimages"
	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
)

// agentSpec writes the seed layout on the test images, every port auto,
// with a password, and returns its path and stack name.
func agentSpec(t *testing.T, imgs testimages.Images, app, name string) (string, string) {
	t.Helper()
	s := testSpec(t, imgs, name)
	dir := t.TempDir()
	y := fmt.Sprintf(`name: %s
redis:
  image: %s
  password_env: %s
  master: {name: redis-master, port: auto}
  replicas: [{name: redis-replica-1, port: auto}, {name: redis-replica-2, port: auto}]
apps:
  - {name: app1, port: auto, image: %s}
  - {name: app2, port: auto, image: %s}
haproxy:
  image: %s
  port: auto
  stats_socket: {port: auto}
  prometheus: {port: auto}
  backends:
    - name: apps
      balance: roundrobin
      servers: [{app: app1}, {app: app2}]
load:
  keys: {distribution: uniform, count: 1000}
  targets:
    - {path: "/kv/{key}", weight: 9}
    - {path: /, weight: 1}
`, s.Name, imgs.Redis, testPwEnv, app, app, imgs.HAProxy)
	p := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, StackName(s)
}

// agentRun is `duckbench run --runtime swarm --agents 3` on the spec, not
// yet started; results go to <dir>/results.
func agentRun(bin, specPath, dir, app string, extra ...string) (*exec.Cmd, *syncbuf.Buffer) {
	args := append([]string{"run", specPath, "--runtime", "swarm", "--agents", "3", "--agent-image", app,
		"--run-dir", filepath.Join(dir, "run"), "--results", filepath.Join(dir, "results"),
		"--exporter-listen", "off", "--quiet", "--agent-start-lead", "12s"}, extra...)
	cmd := exec.Command(bin, args...)
	var out syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return cmd, &out
}

func loadResult(t *testing.T, dir string) (*results.Result, string) {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "results", "*", "result.json"))
	if len(paths) != 1 {
		t.Fatalf("result.json files: %v; want one", paths)
	}
	r, err := results.Load(paths[0])
	if err != nil {
		t.Fatalf("results.Load: %v", err)
	}
	return r, filepath.Dir(paths[0])
}

// TestSwarmAgentsMerge: 3 agents at a total of 3×100 req/s for 8 s. The
// merged count is the sum of the agents' and the planned 2400; the merged
// rate is 300 req/s within 1 %; the merged histogram's p99 is the p99 of
// all agents' raw results together, as `vegeta report` computes it over
// their files (an outside check of the merge).
func TestSwarmAgentsMerge(t *testing.T) {
	requireSwarm(t)
	imgs, app, bin := fixtures(t)
	specPath, name := agentSpec(t, imgs, app, "agents")
	t.Cleanup(func() { _ = removeStack(context.Background(), name) })
	dir := t.TempDir()
	const r, d = 100, 8
	cmd, out := agentRun(bin, specPath, dir, app, "--rate", fmt.Sprint(3*r), "--duration", fmt.Sprintf("%ds", d), "--raw")
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("duckbench run --agents 3: %v\n%s", err, out.String())
	}
	t.Logf("run took %v\n%s", time.Since(start).Round(time.Second), out.String())
	res, resDir := loadResult(t, dir)
	checkGone(t, name)

	if res.Status != results.StatusCompleted || len(res.Agents) != 3 {
		t.Fatalf("result: status %q, %d agents; want completed with 3", res.Status, len(res.Agents))
	}
	var sum, planned uint64
	for _, a := range res.Agents {
		if a.Status != results.AgentOK {
			t.Errorf("agent %d: %s %s; want ok", a.Index, a.Status, a.Error)
		}
		sum += a.Requests
		planned += a.PlannedRequests
		t.Logf("agent %d: %d requests (planned %d), achieved %.2f req/s, target %.2f, max lag %.4fs, saturated %v, clock offset %+.4fs, p99 %.4fs",
			a.Index, a.Requests, a.PlannedRequests, a.AchievedRate, a.TargetRate, a.MaxScheduleLagSeconds, a.GeneratorSaturated, a.ClockOffsetSeconds, a.LatencyP99)
	}
	if got := res.Summary.Requests; got != sum || got != planned || got != 3*r*d {
		t.Errorf("merged requests = %d; want the agents' sum %d = planned %d = %d", got, sum, planned, 3*r*d)
	}
	var bySrv uint64
	for _, sv := range res.Servers {
		bySrv += sv.Summary.Requests
	}
	if bySrv != res.Summary.Requests || len(res.Servers) < 2 {
		t.Errorf("merged per-server requests sum to %d over %d servers; want %d over app1 and app2", bySrv, len(res.Servers), res.Summary.Requests)
	}
	if res.Summary.Errors != 0 {
		t.Errorf("merged errors = %d (%v); want 0", res.Summary.Errors, res.Summary.ErrorKinds)
	}
	if got := res.Summary.Rate; math.Abs(got-3*r)/(3*r) > 0.01 {
		t.Errorf("merged rate = %.2f req/s; want %d within 1%%", got, 3*r)
	}

	// The outside check: every agent's raw results through vegeta's own
	// metrics code, as `vegeta report agent-*.bin` does.
	var m vegeta.Metrics
	var lat []time.Duration
	for i := 1; i <= 3; i++ {
		b, err := os.ReadFile(filepath.Join(resDir, fmt.Sprintf("agent-%d.bin", i)))
		if err != nil {
			t.Fatal(err)
		}
		dec := vegeta.NewDecoder(bytes.NewReader(b))
		for {
			var vr vegeta.Result
			if err := dec.Decode(&vr); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatalf("agent-%d.bin: %v", i, err)
				}
				break
			}
			m.Add(&vr)
			lat = append(lat, vr.Latency)
		}
	}
	m.Close()
	if m.Requests != res.Summary.Requests {
		t.Errorf("vegeta over the raw files: %d requests; want %d", m.Requests, res.Summary.Requests)
	}
	h, err := load.DecodeHistogramString(res.Histogram)
	if err != nil {
		t.Fatal(err)
	}
	hdrP99 := time.Duration(h.ValueAtQuantile(99)) * time.Microsecond
	vegP99 := m.Latencies.P99
	// The exact p99 of all samples (the sample at rank ceil(0.99 n)).
	slices.Sort(lat)
	exact := lat[int(math.Ceil(0.99*float64(len(lat))))-1]
	// HDR precision: 3 significant digits, microsecond units.
	prec := time.Duration(float64(exact)*0.001) + time.Microsecond
	t.Logf("p99: merged HDR %v, vegeta report (t-digest) %v, exact %v; rate: merged %.2f, vegeta %.2f req/s (span of intended send times)",
		hdrP99, vegP99, exact, res.Summary.Rate, m.Rate)
	if diff := hdrP99 - exact; diff < -prec || diff > prec {
		t.Errorf("merged HDR p99 %v; want the exact p99 of all raw results %v within HDR precision %v", hdrP99, exact, prec)
	}
	// vegeta estimates with a t-digest, which interpolates between the
	// samples next to the rank: its p99 must lie among the samples within
	// 0.2 % of rank of it, widened by HDR precision.
	k := len(lat) / 500
	lo, hi := lat[max(0, slices.Index(lat, exact)-k)], lat[min(len(lat)-1, slices.Index(lat, exact)+k)]
	if vegP99 < lo-prec || vegP99 > hi+prec || hdrP99 < lo-prec || hdrP99 > hi+prec {
		t.Errorf("vegeta p99 %v, merged HDR p99 %v; want both within [%v, %v] (±%d samples of rank 0.99, ± HDR precision)", vegP99, hdrP99, lo, hi, k)
	}
}

// TestSwarmAgentKilled: an agent killed mid-run makes the run incomplete,
// names the missing shard, exits 3 and tears the stack down.
func TestSwarmAgentKilled(t *testing.T) {
	requireSwarm(t)
	imgs, app, bin := fixtures(t)
	specPath, name := agentSpec(t, imgs, app, "agentkill")
	t.Cleanup(func() { _ = removeStack(context.Background(), name) })
	dir := t.TempDir()
	cmd, out := agentRun(bin, specPath, dir, app, "--rate", "150", "--duration", "15s")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	id := waitAgentsRunning(t, out, name, 2)
	if b, err := exec.Command("docker", "kill", id).CombinedOutput(); err != nil {
		t.Fatalf("docker kill agent 2: %v: %s", err, b)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("duckbench run with a killed agent: %v; want exit 3\n%s", err, out.String())
	}
	t.Logf("%s", out.String())
	res, _ := loadResult(t, dir)
	if res.Status != results.StatusIncomplete || !strings.Contains(res.Error, "agent 2") {
		t.Errorf("result: status %q, error %q; want %q naming agent 2", res.Status, res.Error, results.StatusIncomplete)
	}
	if len(res.Agents) != 3 || res.Agents[1].Status != results.AgentMissing ||
		res.Agents[0].Status != results.AgentOK || res.Agents[2].Status != results.AgentOK {
		t.Errorf("agents: %+v; want 1 and 3 ok, 2 missing", res.Agents)
	}
	if want := res.Agents[0].Requests + res.Agents[2].Requests; res.Summary.Requests != want {
		t.Errorf("merged requests = %d; want agents 1 and 3's %d", res.Summary.Requests, want)
	}
	if !strings.Contains(out.String(), "agent 2") {
		t.Errorf("output does not name agent 2:\n%s", out.String())
	}
	checkGone(t, name)
}

// TestSwarmAgentsDownAfterKill9: kill -9 of the coordinator while its
// agents run; `duckbench down` then leaves no service (agents included),
// network, config or secret of the run.
func TestSwarmAgentsDownAfterKill9(t *testing.T) {
	requireSwarm(t)
	imgs, app, bin := fixtures(t)
	specPath, name := agentSpec(t, imgs, app, "agentkill9")
	t.Cleanup(func() { _ = removeStack(context.Background(), name) })
	dir := t.TempDir()
	cmd, out := agentRun(bin, specPath, dir, app, "--rate", "60", "--duration", "30s")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitAgentsRunning(t, out, name, 1)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	left, _ := Leftovers(context.Background(), name)
	if !slices.ContainsFunc(serviceNames(t, left["service"]), func(s string) bool { return strings.HasSuffix(s, "_"+AgentService) }) {
		t.Fatalf("before down: services %v; want the agents' among them (else the test proves nothing)", left["service"])
	}
	b, err := exec.Command(bin, "down", specPath, "--runtime", "swarm", "--run-dir", filepath.Join(dir, "run")).CombinedOutput()
	if err != nil {
		t.Fatalf("duckbench down: %v\n%s", err, b)
	}
	checkGone(t, name)
}

func serviceNames(t *testing.T, ids []string) []string {
	t.Helper()
	if len(ids) == 0 {
		return nil
	}
	b, err := exec.Command("docker", append([]string{"service", "inspect", "--format", "{{.Spec.Name}}"}, ids...)...).Output()
	if err != nil {
		t.Fatalf("docker service inspect: %v", err)
	}
	return strings.Fields(string(b))
}

// waitAgentsRunning waits until the coordinator deployed the agents, all 3
// run and the common start is 3 s past, and returns the container of slot.
func waitAgentsRunning(t *testing.T, out *syncbuf.Buffer, stackName string, slot int) string {
	t.Helper()
	deadline := time.Now().Add(4 * time.Minute)
	var deployed time.Time
	for {
		if deployed.IsZero() && strings.Contains(out.String(), "deploying 3 load agents") {
			deployed = time.Now()
		}
		if !deployed.IsZero() {
			b, _ := exec.Command("docker", "ps", "--filter", "label=com.docker.swarm.service.name="+stackName+"_"+AgentService,
				"--format", `{{.ID}} {{.Label "com.docker.swarm.task.name"}}`).Output()
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if len(lines) == 3 && time.Since(deployed) > 15*time.Second { // lead 12s + 3s into the attack
				for _, l := range lines {
					f := strings.Fields(l)
					if len(f) == 2 && strings.Contains(f[1], fmt.Sprintf("_%s.%d.", AgentService, slot)) {
						return f[0]
					}
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("agents not running after 4 minutes:\n%s", out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
