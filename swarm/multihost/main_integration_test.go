//go:build integration

package multihost

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/duckbench/duckbench/appimage"
	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/internal/testhosts"
	"github.com/duckbench/duckbench/internal/testimages"
	"github.com/duckbench/duckbench/results"
)

// One swarm of three hosts for the whole suite (set-up ~5 s, images ~10 s).
var (
	clusterOnce sync.Once
	cluster     *testhosts.Cluster
	clusterErr  error
	binary      string
)

var hostOpts = testhosts.Options{Prefix: "dbt", Hosts: 3, Subnet: "10.213.7", Swarm: true, Log: os.Stderr}

func TestMain(m *testing.M) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		down()
		os.Exit(130)
	}()
	code := m.Run()
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
	if err := down(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// down removes the suite's hosts; it does nothing when none were started.
func down() error {
	if cluster == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return cluster.Down(ctx)
}

// requireCluster starts the suite's swarm once: the hosts, a static
// duckbench binary, the redis/haproxy stand-ins on every host under the
// names examples/seed.yaml uses. The app image is left to duckbench (built
// on the manager, copied to the others).
func requireCluster(t *testing.T) (*testhosts.Cluster, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Unavailable(t, "multi-host tests need root (network namespaces, dockerd)")
	}
	if _, err := exec.LookPath("dockerd"); err != nil {
		testenv.Unavailable(t, "multi-host tests need dockerd (apt-get install docker.io)")
	}
	if err := testimages.Available(context.Background()); err != nil {
		testenv.Unavailable(t, err.Error())
	}
	requireBinary(t)
	clusterOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		imgs, err := testimages.Build(ctx)
		if err != nil {
			clusterErr = err
			return
		}
		if cluster, clusterErr = testhosts.Up(ctx, hostOpts); clusterErr != nil {
			return
		}
		cs, err := appimage.Distribute(ctx, []string{imgs.Redis, imgs.HAProxy}, cluster.AllEngines(), nil)
		fmt.Fprint(os.Stderr, appimage.CopiesText(cs))
		if err != nil {
			clusterErr = err
			return
		}
		for _, h := range cluster.Hosts {
			for src, dst := range map[string]string{imgs.Redis: "redis:7.0", imgs.HAProxy: "haproxy:2.6"} {
				if _, err := cluster.Docker(ctx, h, "", "tag", src, dst); err != nil {
					clusterErr = err
					return
				}
			}
		}
	})
	if clusterErr != nil {
		t.Fatal(clusterErr)
	}
	return cluster, binary
}

var (
	binaryOnce sync.Once
	binaryErr  error
	binaryDir  string
)

// requireBinary builds a static duckbench binary once (the agents' and the
// app image's) and returns its path.
func requireBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if binaryDir, binaryErr = os.MkdirTemp("", "duckbench-multihost-bin-"); binaryErr != nil {
			return
		}
		binary, binaryErr = testimages.StaticBinary(ctx, binaryDir)
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binary
}

// repoRoot is the repository's top directory.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// duckbench runs the static binary against the manager with the other
// hosts' engines named, and returns its combined output and exit code.
func duckbench(t *testing.T, c *testhosts.Cluster, env []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+c.Hosts[0].DockerHost(), appimage.EnginesEnv+"="+c.EnginesFlag())
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run duckbench: %v", err)
	}
	return string(out), code
}

// startRun starts the static binary against the manager with the other
// hosts' engines named and env added, and returns it with a scanner of
// its combined output.
func startRun(ctx context.Context, t *testing.T, c *testhosts.Cluster, env []string, args ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+c.Hosts[0].DockerHost(), appimage.EnginesEnv+"="+c.EnginesFlag())
	cmd.Env = append(cmd.Env, env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewScanner(stdout)
}

// heal restores h's link and waits until every host is a Ready node again.
func heal(t *testing.T, c *testhosts.Cluster, h *testhosts.Host) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.Heal(ctx, h); err != nil {
		t.Error(err)
	}
	if err := c.WaitNodes(ctx, len(c.Hosts), time.Minute); err != nil {
		t.Error(err)
	}
}

// loadResult loads the one result.json under res and returns it with its
// folder.
func loadResult(t *testing.T, res string) (*results.Result, string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(res, "*", "result.json"))
	if len(files) != 1 {
		t.Fatalf("result.json files: %v", files)
	}
	r, err := results.Load(files[0])
	if err != nil {
		t.Fatal(err)
	}
	return r, filepath.Dir(files[0])
}
