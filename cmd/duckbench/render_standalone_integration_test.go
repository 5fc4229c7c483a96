//go:build integration

package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/duckbench/duckbench/compose"
	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/internal/testimages"
)

// standaloneSpec is the origin lab with every port "auto" (other stacks
// may run on this machine) and the locally built stand-ins of the redis
// and haproxy images.
const standaloneSpec = `name: %s
redis:
  image: %s
  master: {name: redis-master, port: auto}
  replicas:
    - {name: redis-replica-1, port: auto}
    - {name: redis-replica-2, port: auto}
apps:
  - {name: app1, port: auto}
  - {name: app2, port: auto}
haproxy:
  image: %s
  port: auto
  stats_socket: {port: auto}
  prometheus: {port: auto}
  backends:
    - name: apps
      balance: roundrobin
      servers: [{app: app1}, {app: app2}]
      health_check: {path: /healthz, interval: 1s}
`

// TestRenderStandalone renders a compose directory, copies it elsewhere,
// removes the original, and brings the copy up with docker-compose alone:
// no duckbench process, no host path. Through HAProxy the two apps must
// alternate, and the master must see both replicas.
func TestRenderStandalone(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	if err := compose.DockerAvailable(ctx); err != nil {
		testenv.Unavailable(t, fmt.Sprintf("standalone compose test skipped: %v", err))
	}
	composeBin := testenv.RequireBinary(t, "docker-compose", "docker-compose")
	imgs, err := testimages.Build(ctx)
	if err != nil {
		t.Fatalf("testimages.Build() = %v", err)
	}
	bin, err := testimages.StaticBinary(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	appTag, err := testimages.App(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}

	name := fmt.Sprintf("fresh-standalone-%d", os.Getpid())
	specPath := filepath.Join(t.TempDir(), "spec.yaml")
	if err := os.WriteFile(specPath, []byte(fmt.Sprintf(standaloneSpec, name, imgs.Redis, imgs.HAProxy)), 0o644); err != nil {
		t.Fatal(err)
	}
	rendered := t.TempDir()
	root := newRoot()
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetArgs([]string{"render", specPath, "-o", rendered, "--runtime", "compose", "--app-image", appTag})
	if err := root.Execute(); err != nil {
		t.Fatalf("duckbench render = %v\n%s", err, stderr.String())
	}
	ports := autoPorts(t, stderr.String())

	// The copy is all compose gets; the original is gone.
	dir := t.TempDir()
	copyDir(t, rendered, dir)
	if err := os.RemoveAll(rendered); err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(filepath.Join(dir, compose.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(y, []byte(rendered)) || bytes.Contains(y, []byte("source: /")) {
		t.Errorf("compose.yaml names a host path:\n%s", y)
	}

	project := "duckbench-" + name
	dc := func(ctx context.Context, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, composeBin, append([]string{"-p", project, "-f", compose.FileName}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() {
		// After the test's own context is cancelled.
		down, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if out, err := dc(down, "down", "-v", "--remove-orphans", "--timeout", "5"); err != nil {
			t.Errorf("docker-compose down: %v\n%s", err, out)
		}
	})
	if out, err := dc(ctx, "up", "-d"); err != nil {
		t.Fatalf("docker-compose up -d: %v\n%s", err, out)
	}
	waitAllHealthy(t, ctx, project, 6)

	front := fmt.Sprintf("http://127.0.0.1:%d/", ports["haproxy.port"])
	var served []string
	for i := 0; i < 6; i++ {
		resp, err := http.Get(front)
		if err != nil {
			t.Fatalf("GET %s: %v", front, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", front, resp.Status)
		}
		served = append(served, resp.Header.Get("X-Served-By"))
	}
	t.Logf("X-Served-By through HAProxy: %v", served)
	for i := range served {
		if served[i] != "app1" && served[i] != "app2" {
			t.Errorf("response %d: X-Served-By %q; want app1 or app2", i, served[i])
		}
		if i > 0 && served[i] == served[i-1] {
			t.Errorf("responses %d and %d both served by %q; want round-robin alternation", i-1, i, served[i])
		}
	}

	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", ports["redis.master.port"])})
	defer rdb.Close()
	info, err := rdb.Info(ctx, "replication").Result()
	if err != nil {
		t.Fatalf("INFO replication on the master: %v", err)
	}
	if !strings.Contains(info, "connected_slaves:2\r\n") {
		t.Errorf("INFO replication on the master = %q; want connected_slaves:2", info)
	}
}

// autoPorts reads render's "PATH: auto -> PORT" lines.
func autoPorts(t *testing.T, stderr string) map[string]int {
	t.Helper()
	ports := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^(\S+): auto -> (\d+)$`).FindAllStringSubmatch(stderr, -1) {
		ports[m[1]], _ = strconv.Atoi(m[2])
	}
	for _, k := range []string{"haproxy.port", "redis.master.port"} {
		if ports[k] == 0 {
			t.Fatalf("render did not report %s in:\n%s", k, stderr)
		}
	}
	return ports
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s to %s: %v", from, to, err)
	}
}

// waitAllHealthy waits until the project's n containers all report the
// health status of their own health checks as healthy.
func waitAllHealthy(t *testing.T, ctx context.Context, project string, n int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	last := ""
	for time.Now().Before(deadline) {
		out, err := exec.CommandContext(ctx, "docker", "ps", "-a", "--filter", "label=com.docker.compose.project="+project,
			"--format", "{{.Label \"com.docker.compose.service\"}}={{.Status}}").Output()
		if err == nil {
			last = strings.TrimSpace(string(out))
			lines := strings.Split(last, "\n")
			healthy := 0
			for _, l := range lines {
				if strings.Contains(l, "(healthy)") {
					healthy++
				}
				if strings.Contains(l, "Exited") {
					t.Fatalf("a container exited:\n%s", last)
				}
			}
			if healthy == n && len(lines) == n {
				return
			}
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("not all %d containers healthy after 3m:\n%s", n, last)
}
