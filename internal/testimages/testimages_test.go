//go:build integration

package testimages

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/testenv"
)

func TestBuild(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := Available(ctx); err != nil {
		testenv.Unavailable(t, err.Error())
	}
	imgs, err := Build(ctx)
	if err != nil {
		t.Fatalf("Build() = %v", err)
	}
	// Idempotent: a second build reuses the images.
	start := time.Now()
	if _, err := Build(ctx); err != nil {
		t.Fatalf("second Build() = %v", err)
	}
	t.Logf("second build took %v", time.Since(start))
	for _, c := range []struct {
		image string
		args  []string
		want  string
	}{
		{imgs.Redis, []string{"redis-server", "--version"}, "Redis server v=7"},
		{imgs.Redis, []string{"redis-cli", "--version"}, "redis-cli 7"},
		{imgs.HAProxy, []string{"haproxy", "-v"}, "HAProxy version 2.6"},
		{imgs.Redis, []string{"sh", "-c", "printf ok"}, "ok"},
	} {
		out, err := exec.CommandContext(ctx, "docker", append([]string{"run", "--rm", "--network", "none", c.image}, c.args...)...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), c.want) {
			t.Errorf("docker run %s %v = %q, %v; want %q", c.image, c.args, out, err, c.want)
		}
	}
}
