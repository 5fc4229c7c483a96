//go:build integration

package multihost

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/duckbench/duckbench/appimage"
	"github.com/duckbench/duckbench/internal/testimages"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/swarm"
)

// noCatSpec is examples/seed.yaml with its Redis nodes in the image that
// has no cat (a plain dash, no coreutils) and a password variable.
func noCatSpec(t *testing.T, pwEnv string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "seed.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	y := strings.Replace(string(b), "\nredis:\n", "\nredis:\n  password_env: "+pwEnv+"\n", 1)
	y = strings.Replace(y, "image: redis:7.0", "image: "+testimages.NoCatRedisImage, 1)
	y = strings.Replace(y, "name: seed\n", "name: nocat\n", 1)
	p := filepath.Join(t.TempDir(), "nocat.yaml")
	if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func requireNoCat(t *testing.T) string {
	t.Helper()
	c, _ := requireCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	img, err := testimages.BuildNoCat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := appimage.Distribute(ctx, []string{img}, c.AllEngines(), nil); err != nil {
		t.Fatal(err)
	}
	return img
}

// TestSwarmSecretWithoutCat (#21 item 6): Redis nodes in an image without
// cat still get their password from the swarm secret (the shell's read),
// so the master refuses a client without it and answers one with it. Today
// `$(cat …)` gave an empty password there and the master ran without one.
func TestSwarmSecretWithoutCat(t *testing.T) {
	c, _ := requireCluster(t)
	requireNoCat(t)
	const pwEnv, pw = "DUCKBENCH_NOCAT_PW", "no cat$1"
	sp := noCatSpec(t, pwEnv)
	run := filepath.Join(t.TempDir(), "run")
	env := []string{pwEnv + "=" + pw}
	out, code := duckbench(t, c, env, "up", sp, "--runtime", "swarm", "--run-dir", run)
	t.Cleanup(func() {
		if out, code := duckbench(t, c, env, "down", sp, "--runtime", "swarm", "--run-dir", run); code != 0 {
			t.Errorf("down: exit %d: %s", code, out)
		}
	})
	if code != 0 {
		t.Fatalf("up: exit %d:\n%s", code, out)
	}
	m := regexp.MustCompile(`master\s+(\S+)\s+redis-master`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no master address in:\n%s", out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	anon := redis.NewClient(&redis.Options{Addr: m[1]})
	defer anon.Close()
	if err := anon.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("PING without the password = %v; want NOAUTH (the master runs without a password)", err)
	}
	auth := redis.NewClient(&redis.Options{Addr: m[1], Password: pw})
	defer auth.Close()
	if got, err := auth.Ping(ctx).Result(); err != nil || got != "PONG" {
		t.Errorf("PING with the password = %q, %v; want PONG", got, err)
	}
}

// TestSwarmEmptySecret (#21 item 6): the Redis entrypoint the swarm stack
// runs, in the image without cat, with a secret file that is empty, holds
// only a newline or is missing: the node does not start, exits 78 and
// names itself.
func TestSwarmEmptySecret(t *testing.T) {
	c, _ := requireCluster(t)
	img := requireNoCat(t)
	s, err := spec.Load(noCatSpec(t, "DUCKBENCH_UNUSED_PW"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := swarm.Project(s, swarm.RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ep := p.Services["redis-replica-1"].Entrypoint
	script := strings.ReplaceAll(ep[len(ep)-1], "$$", "$") // the stack file's escape
	dir := t.TempDir()
	for name, content := range map[string]string{"empty": "", "newline": "\n", "missing": "-"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			args := []string{"run", "--rm", "--entrypoint", "sh"}
			if content != "-" {
				f := filepath.Join(dir, name)
				if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, "-v", f+":"+swarm.SecretPath+":ro")
			}
			start := time.Now()
			out, err := c.Docker(ctx, c.Hosts[1], "", append(args, img, "-c", script)...)
			if err == nil || !strings.Contains(err.Error(), "exit status 78") {
				t.Errorf("exit: %v; want status 78", err)
			}
			if want := "redis node redis-replica-1 could not read its password"; !strings.Contains(out, want) {
				t.Errorf("output %q does not say %q", out, want)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v: not at once", d)
			}
		})
	}
}
