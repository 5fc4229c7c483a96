//go:build integration

package swarm

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/duckbench/duckbench/compose"
	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/internal/testimages"
	"github.com/duckbench/duckbench/probes/haproxyprobe"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

// The Redis password of every test stack, passed by variable name only.
const testPwEnv, testPw = "DUCKBENCH_SWARM_ITEST_PW", "swarm quack$1"

// createdSwarm is set when this test binary initialised the swarm; TestMain
// then leaves it again, and only then. createdGWBridge: the swarm's bridge
// to the host did not exist before either, so it goes too.
var (
	swarmOnce       sync.Once
	swarmErr        error
	createdSwarm    bool
	createdGWBridge bool
)

func TestMain(m *testing.M) {
	// Set once for every test (t.Setenv would forbid t.Parallel).
	os.Setenv(testPwEnv, testPw)
	code := m.Run()
	if createdSwarm {
		if out, err := exec.Command("docker", "swarm", "leave", "--force").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "docker swarm leave --force: %v: %s\n", err, out)
			code = 1
		}
		if createdGWBridge {
			_ = exec.Command("docker", "network", "rm", "docker_gwbridge").Run()
		}
	}
	os.Exit(code)
}

// requireSwarm skips (or, under DUCKBENCH_REQUIRE_ALL=1, fails) without a
// Docker engine, and makes the engine a one-node swarm if it is in none.
func requireSwarm(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if err := compose.DockerAvailable(ctx); err != nil {
		testenv.Unavailable(t, fmt.Sprintf("swarm integration test skipped: %v", err))
	}
	swarmOnce.Do(func() {
		out, err := exec.Command("docker", "info", "--format", "{{.Swarm.LocalNodeState}}").Output()
		if err != nil {
			swarmErr = err
			return
		}
		if strings.TrimSpace(string(out)) == "active" {
			return
		}
		createdGWBridge = exec.Command("docker", "network", "inspect", "docker_gwbridge").Run() != nil
		if out, err := exec.Command("docker", "swarm", "init", "--advertise-addr", "127.0.0.1").CombinedOutput(); err != nil {
			swarmErr = fmt.Errorf("docker swarm init: %v: %s", err, out)
			return
		}
		createdSwarm = true
	})
	if swarmErr != nil {
		t.Fatalf("swarm: %v", swarmErr)
	}
	if err := SwarmActive(ctx); err != nil {
		t.Fatalf("SwarmActive() = %v", err)
	}
}

var (
	fixtureOnce sync.Once
	fixtureImgs testimages.Images
	fixtureApp  string
	fixtureBin  string
	fixtureErr  error
)

// fixtures builds the test images, a static duckbench binary and the app
// image from it, once.
func fixtures(t *testing.T) (testimages.Images, string, string) {
	t.Helper()
	fixtureOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if fixtureImgs, fixtureErr = testimages.Build(ctx); fixtureErr != nil {
			return
		}
		dir, err := os.MkdirTemp("", "duckbench-swarm-bin-")
		if err != nil {
			fixtureErr = err
			return
		}
		if fixtureBin, fixtureErr = testimages.StaticBinary(ctx, dir); fixtureErr != nil {
			return
		}
		fixtureApp, fixtureErr = testimages.App(ctx, fixtureBin)
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixtureImgs, fixtureApp, fixtureBin
}

// testSpec is the seed layout on the test images, every port "auto", a
// password, and a name unique to this test process.
func testSpec(t *testing.T, imgs testimages.Images, name string) *spec.Spec {
	t.Helper()
	s, err := spec.Load("../examples/seed.yaml")
	if err != nil {
		t.Fatalf("spec.Load(seed) = %v", err)
	}
	s.Name = fmt.Sprintf("swarm-%s-%d", name, os.Getpid())
	s.Redis.Image = imgs.Redis
	s.HAProxy.Image = imgs.HAProxy
	s.Redis.PasswordEnv = testPwEnv
	for _, l := range s.Listeners() {
		*l.Port = spec.PortAuto
	}
	return s
}

func newDriver(t *testing.T, s *spec.Spec, dir, app string) stack.Driver {
	t.Helper()
	d, err := New(s, Options{RunDir: dir, AppImage: app, WaitTimeout: 2 * time.Minute})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	return d
}

// checkGone wants nothing labelled with the stack's namespace left.
func checkGone(t *testing.T, name string) {
	t.Helper()
	left, err := Leftovers(context.Background(), name)
	if err != nil {
		t.Fatalf("Leftovers(%q) = %v", name, err)
	}
	if len(left) > 0 {
		t.Errorf("after Down: %v of stack %q still exist; want nothing", left, name)
	}
}

// TestSwarmStack deploys the seed layout plus a scaled app on a one-node
// swarm: round-robin through HAProxy reaches every task (the scaled app's
// through Docker's DNS), both replicas link to the master with AUTH, the
// password is in no file and no service spec (faults: TestSwarmConformance), and
// Down leaves nothing of the stack.
func TestSwarmStack(t *testing.T) {
	requireSwarm(t)
	t.Parallel()
	t0 := time.Now()
	imgs, app, _ := fixtures(t)
	t.Logf("images and binary in %v", time.Since(t0).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	s := testSpec(t, imgs, "stack")
	s.Apps = append(s.Apps, spec.App{Name: "app3", Port: spec.PortAuto, Replicas: 2})
	s.HAProxy.Backends[0].Servers = append(s.HAProxy.Backends[0].Servers, spec.Server{App: "app3"})
	dir := t.TempDir()
	d := newDriver(t, s, dir, app)
	t.Cleanup(func() { _ = d.Down(context.Background()) })
	start := time.Now()
	ep, err := d.Up(ctx)
	if err != nil {
		t.Fatalf("Up() = %v", err)
	}
	t.Logf("up to healthy in %v", time.Since(start).Round(time.Millisecond))

	t.Run("round robin over every task", func(t *testing.T) {
		// 1 + 1 + 2 servers: app1, app2, app3-1, app3-2 in turn.
		rows, err := haproxyprobe.NewClient(ep.HAProxy.Stats).ShowStat(ctx)
		if err != nil {
			t.Fatalf("show stat: %v", err)
		}
		ready := map[string]bool{}
		for _, r := range rows {
			if r.Type == haproxyprobe.TypeServer && r.Ready() {
				ready[r.Service] = true
			}
		}
		for _, sv := range []string{"app1", "app2", "app3-1", "app3-2"} {
			if !ready[sv] {
				t.Errorf("show stat: server %s not ready (ready: %v)", sv, ready)
			}
		}
		var seq []string
		for range 8 {
			seq = append(seq, servedBy(t, ep.HAProxy.URL))
		}
		got := strings.Join(seq, ",")
		counts := map[string]int{}
		for _, s := range seq {
			counts[s]++
		}
		// HAProxy's X-Served-By names the server slot: each of app3's
		// two tasks is a server of its own (app3-1, app3-2).
		if counts["app1"] != 2 || counts["app2"] != 2 || counts["app3-1"] != 2 || counts["app3-2"] != 2 {
			t.Errorf("X-Served-By over 8 requests = %s; want app1, app2, app3-1 and app3-2 twice each", got)
		}
		for i := 1; i < len(seq); i++ {
			if seq[i] == seq[i-1] {
				t.Errorf("X-Served-By = %s; want round-robin alternation", got)
				break
			}
		}
	})

	t.Run("replication with auth", func(t *testing.T) {
		master, _ := ep.Master()
		noAuth := redis.NewClient(&redis.Options{Addr: master.Addr, Protocol: 2})
		defer noAuth.Close()
		if err := noAuth.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
			t.Errorf("PING without password = %v; want NOAUTH", err)
		}
		c := redis.NewClient(&redis.Options{Addr: master.Addr, Password: testPw, Protocol: 2})
		defer c.Close()
		info, err := c.Info(ctx, "replication").Result()
		if err != nil || !strings.Contains(info, "connected_slaves:2") {
			t.Errorf("INFO replication on %s = %v; want connected_slaves:2 in %q", master.Addr, err, info)
		}
	})

	t.Run("no secret in files or services", func(t *testing.T) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && bytes.Contains(b, []byte(testPw)) {
				t.Errorf("%s holds the Redis password", e.Name())
			}
		}
		out, err := exec.Command("docker", "service", "inspect", StackName(s)+"_redis-master", StackName(s)+"_app1").CombinedOutput()
		if err != nil || bytes.Contains(out, []byte(testPw)) {
			t.Errorf("docker service inspect: %v; holds the password: %v", err, bytes.Contains(out, []byte(testPw)))
		}
	})

	// Faults: TestSwarmConformance runs the driver suite's fault test.

	start = time.Now()
	if err := newDriver(t, s, dir, app).Down(ctx); err != nil {
		t.Fatalf("Down() = %v", err)
	}
	t.Logf("down in %v", time.Since(start).Round(time.Millisecond))
	checkGone(t, StackName(s))
}

func servedBy(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url + "/")
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.Header.Get("X-Served-By")
}

// TestSwarmDownAfterKill9 starts `duckbench up --runtime swarm`, kills it
// with SIGKILL once the stack is being deployed, and wants `duckbench down`
// to leave no service, network, config or secret of the run.
func TestSwarmDownAfterKill9(t *testing.T) {
	requireSwarm(t)
	t.Parallel()
	imgs, app, bin := fixtures(t)
	s := testSpec(t, imgs, "kill9")
	dir := t.TempDir()
	specPath := filepath.Join(dir, "spec.yaml")
	y := fmt.Sprintf(`name: %s
runtime: swarm
redis:
  image: %s
  password_env: %s
  master: {port: auto}
  replicas: [{port: auto}]
apps:
  - {name: app1, port: auto, image: %s}
haproxy:
  image: %s
  port: auto
  stats_socket: {port: auto}
  prometheus: {port: auto}
`, s.Name, imgs.Redis, testPwEnv, app, imgs.HAProxy)
	if err := os.WriteFile(specPath, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(dir, "run")
	name := "duckbench-" + s.Name
	t.Cleanup(func() { _ = removeStack(context.Background(), name) })

	up := exec.Command(bin, "up", specPath, "--run-dir", runDir)
	up.Stdout, up.Stderr = io.Discard, io.Discard
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once the swarm holds services of the stack: mid-deploy or
	// while it waits for health.
	deadline := time.Now().Add(time.Minute)
	for {
		ids, _ := listByLabel(context.Background(), "service", name)
		if len(ids) > 0 {
			break
		}
		if time.Now().After(deadline) {
			_ = up.Process.Kill()
			t.Fatalf("no service of %q after 60s", name)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := up.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = up.Wait()
	if left, _ := Leftovers(context.Background(), name); len(left["secret"]) == 0 || len(left["network"]) == 0 {
		t.Fatalf("before down: %v; want the stack's secret and network to exist (else the test proves nothing)", left)
	}
	out, err := exec.Command(bin, "down", specPath, "--run-dir", runDir).CombinedOutput()
	if err != nil {
		t.Fatalf("duckbench down: %v\n%s", err, out)
	}
	checkGone(t, name)
	if _, err := os.Stat(filepath.Join(runDir, StateFile)); !os.IsNotExist(err) {
		t.Errorf("state file after down: %v; want it removed", err)
	}
}
