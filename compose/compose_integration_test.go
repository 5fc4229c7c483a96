//go:build integration

package compose

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/internal/testimages"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
	"github.com/duckbench/duckbench/stack/stacktest"
)

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

// TestComposeConformance runs the stack.Driver conformance suite against
// the compose driver: containers of the locally built test images, with a
// Redis password passed by variable name only.
func TestComposeConformance(t *testing.T) {
	requireDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	imgs, err := testimages.Build(ctx)
	if err != nil {
		t.Fatalf("testimages.Build() = %v", err)
	}
	app := appImage(t, ctx)
	const pwEnv, pw = "DUCKBENCH_ITEST_REDIS_PW", "quack pw$1"
	t.Setenv(pwEnv, pw)
	stacktest.Run(t, stacktest.Harness{
		Spec: func(t *testing.T, name string) *spec.Spec {
			s := testSpec(t, imgs)
			s.Name += "-" + name
			s.Redis.PasswordEnv = pwEnv
			return s
		},
		RunDir: func(t *testing.T) string { return t.TempDir() },
		New: func(t *testing.T, s *spec.Spec, dir string) stack.Driver {
			d, err := New(s, Options{RunDir: dir, AppImage: app, WaitTimeout: 2 * time.Minute})
			if err != nil {
				t.Fatalf("New() = %v", err)
			}
			return d
		},
		Leftovers: func(t *testing.T, s *spec.Spec, _ string) []string { return leftovers(t, ProjectName(s)) },
		UpTimeout: 3 * time.Minute,
		Password:  pw,
	})
}

// leftovers lists the project's containers, networks and volumes in Docker.
func leftovers(t *testing.T, project string) []string {
	t.Helper()
	var out []string
	for _, kind := range [][]string{{"ps", "-a"}, {"network", "ls"}, {"volume", "ls"}} {
		args := append(kind, "-q", "--filter", "label=com.docker.compose.project="+project)
		b, err := exec.Command("docker", args...).Output()
		if err != nil {
			t.Errorf("docker %v: %v", args, err)
			continue
		}
		for _, id := range strings.Fields(string(b)) {
			out = append(out, kind[0]+" "+id)
		}
	}
	return out
}
