//go:build integration

package multihost

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/appimage"
	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/internal/testhosts"
)

// startRegistry runs Debian's docker-registry on the root namespace's
// address of the test subnet (only the test hosts reach it), with a
// config of its own (the packaged one wants htpasswd), until the test ends.
func startRegistry(t *testing.T, c *testhosts.Cluster) string {
	t.Helper()
	bin := testenv.RequireBinary(t, "docker-registry", "docker-registry")
	dir := t.TempDir()
	addr := c.Gateway + ":5000"
	cfg := fmt.Sprintf("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	logf, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "registry.log"))
			t.Fatalf("docker-registry not answering on %s: %v\n%s", addr, err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRegistryImages (#25 item 2, the registry way): with a registry named
// (--registry; the variable DUCKBENCH_SWARM_REGISTRY empty, so the flag
// alone names it) and no engines, up pushes the stack's images
// there from the manager, the stack file pins them to their digests, and
// the other hosts pull them from the registry (their engines then hold the
// registry's repository, which no copy gives). app1 runs 3 replicas with
// max_replicas_per_node 1: the manager's own task list puts one on each
// host.
func TestRegistryImages(t *testing.T) {
	c, _ := requireCluster(t)
	reg := startRegistry(t, c)
	run := filepath.Join(t.TempDir(), "run")
	env := []string{appimage.EnginesEnv + "=", appimage.RegistryEnv + "=", "REGPW=registry pw"}
	sp := filepath.Join(t.TempDir(), "reg.yaml")
	b, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "seed.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	y := strings.Replace(string(b), "\nredis:\n", "\nredis:\n  password_env: REGPW\n", 1)
	y = strings.Replace(y, "  - name: app1\n", "  - name: app1\n    replicas: 3\n    max_replicas_per_node: 1\n", 1)
	if err := os.WriteFile(sp, []byte(strings.Replace(y, "name: seed\n", "name: reg\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := duckbench(t, c, env, "up", sp, "--runtime", "swarm", "--registry", reg, "--run-dir", run)
	t.Cleanup(func() {
		if out, code := duckbench(t, c, env, "down", sp, "--runtime", "swarm", "--run-dir", run); code != 0 {
			t.Errorf("down: exit %d: %s", code, out)
		}
	})
	t.Logf("duckbench up:\n%s", out)
	if code != 0 {
		t.Fatalf("up: exit %d", code)
	}
	stackFile, err := os.ReadFile(filepath.Join(run, "stack.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range []string{"redis", "haproxy", "duckbench"} {
		if !strings.Contains(string(stackFile), "image: "+reg+"/"+img) || !strings.Contains(string(stackFile), "@sha256:") {
			t.Errorf("stack file does not pin %s to the registry's digest", img)
		}
	}
	if !strings.Contains(string(stackFile), "max_replicas_per_node: 1") {
		t.Error("stack file lacks app1's max_replicas_per_node: 1")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o, err := c.Docker(ctx, c.Hosts[0], "", "service", "ps", "--filter", "desired-state=running", "--format", "{{.Node}}", "duckbench-reg_app1")
	if err != nil {
		t.Fatal(err)
	}
	on := strings.Fields(o)
	slices.Sort(on)
	if len(on) != 3 || len(slices.Compact(slices.Clone(on))) != 3 {
		t.Errorf("app1's running tasks on %v; want one on each of the 3 hosts (max_replicas_per_node: 1)", on)
	}
	pulled := 0
	for _, h := range c.Hosts[1:] {
		o, err := c.Docker(ctx, h, "", "image", "ls", "--digests", "--format", "{{.Repository}}@{{.Digest}}")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s holds: %s", h.Name, strings.Join(strings.Fields(o), " "))
		pulled += strings.Count(o, reg+"/")
	}
	if pulled == 0 {
		t.Error("no host pulled from the registry")
	}
}
