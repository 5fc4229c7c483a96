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
		{imgs.HAProxy, []string{"bash", "-c", "echo $BASH_VERSION"}, "5."},
	} {
		out, err := exec.CommandContext(ctx, "docker", append([]string{"run", "--rm", "--network", "none", c.image}, c.args...)...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), c.want) {
			t.Errorf("docker run %s %v = %q, %v; want %q", c.image, c.args, out, err, c.want)
		}
	}
}

// TestApp builds the app image the way `duckbench image build` does and
// checks what the Dockerfile promises: the binary as entrypoint, a non-root
// user, a health check of its own.
func TestApp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := Available(ctx); err != nil {
		testenv.Unavailable(t, err.Error())
	}
	bin, err := StaticBinary(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tag, err := App(ctx, bin)
	if err != nil {
		t.Fatalf("App() = %v", err)
	}
	out, err := exec.CommandContext(ctx, "docker", "run", "--rm", "--network", "none", tag, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "duckbench version") {
		t.Errorf("docker run %s --version = %q, %v; want the version", tag, out, err)
	}
	out, err = exec.CommandContext(ctx, "docker", "image", "inspect", "--format",
		"{{.Config.User}}|{{json .Config.Entrypoint}}|{{json .Config.Healthcheck.Test}}", tag).CombinedOutput()
	got := strings.TrimSpace(string(out))
	want := `65532:65532|["/duckbench"]|["CMD","/duckbench","healthcheck","http://127.0.0.1:8001/healthz"]`
	if err != nil || got != want {
		t.Errorf("docker image inspect %s = %q, %v; want %q", tag, got, err, want)
	}
}
