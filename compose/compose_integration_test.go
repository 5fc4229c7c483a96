//go:build integration

package compose

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/internal/testimages"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

var cycles = flag.Int("cycles", 1, "up/down cycles of TestComposeUp (the figure is their median time to healthy)")

// requireDocker skips (or, under DUCKBENCH_REQUIRE_ALL=1, fails) when no
// Docker engine answers.
func requireDocker(t *testing.T) {
	t.Helper()
	if err := DockerAvailable(context.Background()); err != nil {
		testenv.Unavailable(t, fmt.Sprintf("compose integration test skipped: %v", err))
	}
}

// appImage builds the app image (the Dockerfile's final stage fed a
// static binary) and returns its tag.
func appImage(t *testing.T, ctx context.Context) string {
	t.Helper()
	bin, err := testimages.StaticBinary(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tag, err := testimages.App(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

// testSpec is the seed spec on the test images with every port "auto".
func testSpec(t *testing.T, imgs testimages.Images) *spec.Spec {
	t.Helper()
	s, err := spec.Load("../examples/seed.yaml")
	if err != nil {
		t.Fatalf("spec.Load(seed) = %v", err)
	}
	s.Name = fmt.Sprintf("itest-%d", os.Getpid())
	s.Redis.Image = imgs.Redis
	s.HAProxy.Image = imgs.HAProxy
	for _, l := range s.Listeners() {
		*l.Port = spec.PortAuto
	}
	return s
}

func TestComposeUp(t *testing.T) {
	requireDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	imgs, err := testimages.Build(ctx)
	if err != nil {
		t.Fatalf("testimages.Build() = %v", err)
	}
	app := appImage(t, ctx)

	// The stack runs with a password, passed by variable name only.
	const pwEnv, pw = "DUCKBENCH_ITEST_REDIS_PW", "quack pw$1"
	t.Setenv(pwEnv, pw)

	var took []time.Duration
	for i := 0; i < *cycles; i++ {
		s := testSpec(t, imgs)
		s.Redis.PasswordEnv = pwEnv
		runDir := t.TempDir()
		d, err := New(s, Options{RunDir: runDir, AppImage: app, WaitTimeout: 2 * time.Minute})
		if err != nil {
			t.Fatalf("New() = %v", err)
		}
		start := time.Now()
		ep, err := d.Up(ctx)
		if err != nil {
			t.Fatalf("Up() = %v", err)
		}
		took = append(took, time.Since(start))
		t.Logf("cycle %d: up to healthy in %v", i+1, took[len(took)-1])
		t.Cleanup(func() { _ = d.Down(context.Background()) })
		if i == 0 {
			checkStack(t, ctx, d, ep, pw)
			checkNoSecret(t, runDir, pw)
		}
		if err := d.Down(ctx); err != nil {
			t.Fatalf("Down() = %v", err)
		}
		checkGone(t, ctx, ProjectName(s))
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	t.Logf("time from Up to healthy: median %v of %d (min %v, max %v)", took[len(took)/2], len(took), took[0], took[len(took)-1])
}

// checkNoSecret asserts that no file of the run directory holds pw.
func checkNoSecret(t *testing.T, dir, pw string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil && bytes.Contains(b, []byte(pw)) {
			t.Errorf("%s holds the Redis password", e.Name())
		}
	}
}

func checkStack(t *testing.T, ctx context.Context, d stack.Driver, ep stack.Endpoints, pw string) {
	for _, a := range append([]string{ep.HAProxy.URL, ep.HAProxy.Stats}, ep.Apps[0].URL, ep.Redis[0].Addr) {
		if !strings.Contains(a, "127.0.0.1:") {
			t.Errorf("endpoint %q is not on 127.0.0.1", a)
		}
	}
	master, _ := ep.Master()
	m := redis.NewClient(&redis.Options{Addr: master.Addr, Password: pw})
	defer m.Close()
	if err := m.Set(ctx, "duckbench:itest", "quack", 0).Err(); err != nil {
		t.Fatalf("SET on master %s: %v", master.Addr, err)
	}
	for _, r := range ep.Replicas() {
		c := redis.NewClient(&redis.Options{Addr: r.Addr, Password: pw})
		var got string
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if got, _ = c.Get(ctx, "duckbench:itest").Result(); got == "quack" {
				break
			}
		}
		c.Close()
		if got != "quack" {
			t.Errorf("GET on replica %s (%s) = %q; want %q", r.Name, r.Addr, got, "quack")
		}
	}
	info, err := m.Info(ctx, "replication").Result()
	if err != nil || !strings.Contains(info, "connected_slaves:2") {
		t.Errorf("INFO replication on master = %q, %v; want connected_slaves:2", info, err)
	}

	var served []string
	client := &http.Client{Timeout: 5 * time.Second}
	for range 10 {
		resp, err := client.Get(ep.HAProxy.URL + "/")
		if err != nil {
			t.Fatalf("GET %s/: %v", ep.HAProxy.URL, err)
		}
		resp.Body.Close()
		served = append(served, resp.Header.Get("X-Served-By"))
	}
	for i := 1; i < len(served); i++ {
		if served[i] == served[i-1] || served[i] == "" {
			t.Errorf("X-Served-By sequence %v does not alternate between the apps", served)
			break
		}
	}
	t.Logf("X-Served-By through HAProxy: %v", served)

	conn, err := net.DialTimeout("tcp", ep.HAProxy.Stats, 5*time.Second)
	if err != nil {
		t.Fatalf("dial HAProxy Runtime API %s: %v", ep.HAProxy.Stats, err)
	}
	fmt.Fprint(conn, "show stat\n")
	csv, _ := io.ReadAll(conn)
	conn.Close()
	if !bytes.HasPrefix(csv, []byte("# pxname,")) || !bytes.Contains(csv, []byte("app2")) {
		t.Errorf("show stat on %s = %q; want the stats CSV", ep.HAProxy.Stats, tail(string(csv), 3))
	}

	st, err := d.Status(ctx)
	if err != nil {
		t.Fatalf("Status() = %v", err)
	}
	for _, svc := range st.Services {
		if !svc.Running || !svc.Healthy {
			t.Errorf("Status(): %s running=%v healthy=%v; want both", svc.Name, svc.Running, svc.Healthy)
		}
	}
	if got := len(st.Services); got != 6 {
		t.Errorf("Status(): %d services; want 6", got)
	}

	var logs bytes.Buffer
	if err := d.Logs(ctx, "redis-master", &logs); err != nil || !strings.Contains(logs.String(), "Ready to accept connections") {
		t.Errorf("Logs(redis-master) = %v; got %q", err, tail(logs.String(), 5))
	}

	// Faults: pause and resume a replica, kill and restart an app.
	for _, f := range []struct {
		svc    string
		action spec.FaultAction
	}{{"redis-replica-1", "stop"}, {"redis-replica-1", "cont"}, {"app2", "kill"}, {"app2", "restart"}} {
		if err := d.Fault(ctx, f.svc, f.action); err != nil {
			t.Errorf("Fault(%s, %s) = %v", f.svc, f.action, err)
		}
	}
	if err := d.Fault(ctx, "nope", "kill"); err == nil {
		t.Errorf("Fault(nope, kill) = nil; want an error")
	}
}

// checkGone asserts that nothing of the project is left in Docker.
func checkGone(t *testing.T, ctx context.Context, project string) {
	t.Helper()
	for _, kind := range [][]string{{"ps", "-a"}, {"network", "ls"}, {"volume", "ls"}} {
		args := append(kind, "-q", "--filter", "label=com.docker.compose.project="+project)
		out, err := exec.CommandContext(ctx, "docker", args...).Output()
		if err != nil || strings.TrimSpace(string(out)) != "" {
			t.Errorf("docker %v after Down = %q, %v; want nothing", args, out, err)
		}
	}
}

// TestComposeUpCancelled checks that cancelling Up rolls everything back.
func TestComposeUpCancelled(t *testing.T) {
	requireDocker(t)
	ctx := context.Background()
	imgs, err := testimages.Build(ctx)
	if err != nil {
		t.Fatalf("testimages.Build() = %v", err)
	}
	app := appImage(t, ctx)
	s := testSpec(t, imgs)
	s.Name += "-cancel"
	d, err := New(s, Options{RunDir: t.TempDir(), AppImage: app})
	if err != nil {
		t.Fatal(err)
	}
	upCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := d.Up(upCtx); err == nil {
		t.Fatalf("Up() with a 3s deadline = nil; want an error")
	} else {
		t.Logf("Up() = %v", err)
	}
	checkGone(t, ctx, ProjectName(s))
	if _, err := d.Status(ctx); err == nil {
		t.Errorf("Status() after rollback = nil; want ErrNotUp")
	}
}
