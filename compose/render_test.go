package compose

import (
	"bytes"
	"context"
	"flag"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/configgen"
	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

const testAppImage = "duckbench:test"

func loadSpec(t *testing.T, name string) *spec.Spec {
	t.Helper()
	s, err := spec.Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("spec.Load(%q) = %v", name, err)
	}
	return s
}

// validate writes the project with its config files into a temp dir and
// asks docker-compose (v1) and, when present, the v2 plugin to parse it.
func validate(t *testing.T, s *spec.Spec, y []byte, obs bool) {
	t.Helper()
	dir := t.TempDir()
	files, err := configgen.Render(s, configgen.Target{Runtime: "compose"})
	if err != nil {
		t.Fatalf("configgen.Render() = %v", err)
	}
	if err := files.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), y, 0o644); err != nil {
		t.Fatal(err)
	}
	if obs {
		if err := WriteObservability(dir); err != nil {
			t.Fatalf("WriteObservability() = %v", err)
		}
	}
	ran := false
	if _, err := exec.LookPath("docker-compose"); err == nil {
		ran = true
		cmd := exec.Command("docker-compose", "-p", ProjectName(s), "-f", FileName, "config", "-q")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("docker-compose config -q: %v\n%s", err, out)
		}
	}
	if exec.Command("docker", "compose", "version").Run() == nil {
		ran = true
		cmd := exec.Command("docker", "compose", "-p", ProjectName(s), "-f", FileName, "config", "-q")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("docker compose config -q: %v\n%s", err, out)
		}
	}
	if !ran {
		if testenv.RequireAll() {
			t.Fatal("neither docker-compose nor the docker compose plugin is installed")
		}
		t.Log("no docker-compose: compose.yaml not validated")
	}
}

func TestRender(t *testing.T) {
	for _, name := range []string{"seed", "images", "observability"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			file, obs := name+".yaml", false
			if name == "observability" {
				file, obs = "seed.yaml", true
			}
			s := loadSpec(t, file)
			got, err := Render(s, RenderOptions{AppImage: testAppImage, Observability: obs})
			if err != nil {
				t.Fatalf("Render(%q) = %v", name, err)
			}
			testenv.Golden(t, testenv.GoldenPath(t, ".golden.yaml"), got, *update)
			again, _ := Render(s, RenderOptions{AppImage: testAppImage, Observability: obs})
			if !bytes.Equal(got, again) {
				t.Errorf("Render(%q) is not deterministic", name)
			}
			validate(t, s, got, obs)
		})
	}
}

// TestRenderSafeDefaults checks the properties the golden files could hide
// in a refresh: loopback-only ports, read-only mounts, no secret values.
func TestRenderSafeDefaults(t *testing.T) {
	s := loadSpec(t, "images.yaml")
	p, err := Project(s, RenderOptions{AppImage: testAppImage})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(p.Networks); got != 1 {
		t.Errorf("networks = %d; want 1 user-defined network", got)
	}
	for name, svc := range p.Services {
		for _, port := range svc.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("%s: port %d published on %q; want 127.0.0.1", name, port.Target, port.HostIP)
			}
		}
		for _, v := range svc.Volumes {
			if !v.ReadOnly {
				t.Errorf("%s: mount %s is writable", name, v.Target)
			}
		}
		for _, v := range svc.Volumes {
			if !strings.HasPrefix(v.Source, "./") {
				t.Errorf("%s: mount source %q is not a path relative to compose.yaml", name, v.Source)
			}
		}
		if svc.Image == "" || svc.Build != nil {
			t.Errorf("%s: image %q, build %v; want an image only", name, svc.Image, svc.Build)
		}
		if name == "web" { // kind image: the image's own health check
			if svc.HealthCheck != nil {
				t.Errorf("%s: healthcheck %v; want none rendered for a user image", name, svc.HealthCheck.Test)
			}
			continue
		}
		if svc.HealthCheck == nil || len(svc.HealthCheck.Test) < 2 {
			t.Errorf("%s: no healthcheck", name)
			continue
		}
		// Each health check uses its own image's tools.
		tool := map[string]string{"app1": BinaryPath, HAProxyService: "bash"}[name]
		if tool == "" {
			tool = "redis-cli"
		}
		if test := strings.Join(svc.HealthCheck.Test, " "); !strings.Contains(test, tool) || strings.Contains(test, "curl") {
			t.Errorf("%s: healthcheck %q; want one run with %s", name, test, tool)
		}
		if v, ok := svc.Environment[s.Redis.PasswordEnv]; name != HAProxyService && (!ok || v != nil) {
			t.Errorf("%s: environment %s = %v, %v; want a passthrough with no value", name, s.Redis.PasswordEnv, v, ok)
		}
	}
	if deps := p.Services["haproxy"].DependsOn; len(deps) != 2 || deps["app1"].Condition != "service_healthy" || deps["web"].Condition != "service_started" {
		t.Errorf("haproxy depends_on = %v; want app1 healthy and web (no health check of ours) started", deps)
	}
	if got := p.Services["app1"].Image; got != testAppImage {
		t.Errorf("app1 image = %q; want the default app image %q", got, testAppImage)
	}
	s.Apps[0].Image = "registry.example/duckbench:1.0"
	if p, err = Project(s, RenderOptions{AppImage: testAppImage}); err != nil || p.Services["app1"].Image != s.Apps[0].Image {
		t.Errorf("app1 image with apps[0].image set = %q, %v; want the spec's %q", p.Services["app1"].Image, err, s.Apps[0].Image)
	}
}

func TestRenderErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(*spec.Spec)
		opts   RenderOptions
		want   string
	}{
		{"auto port", func(s *spec.Spec) { s.Apps[0].Port = spec.PortAuto }, RenderOptions{AppImage: testAppImage},
			`app "app1": port "auto" not resolved`},
		{"image app without image", func(s *spec.Spec) { s.Apps[0].Kind, s.Apps[0].Image = spec.AppImage, "" }, RenderOptions{},
			`app "app1": kind image needs an image`},
		{"command app", func(s *spec.Spec) { s.Apps[0].Kind = spec.AppCommand }, RenderOptions{AppImage: testAppImage},
			`kind "command" cannot run in a container`},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := loadSpec(t, "seed.yaml")
			c.change(s)
			_, err := Render(s, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Render() = %v; want error containing %q", err, c.want)
			}
		})
	}
}

func TestProbe(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer ok.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer bad.Close()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := closed.Addr().String()
	closed.Close()
	for _, c := range []struct {
		target string
		ok     bool
	}{
		{ok.URL + "/healthz", true},
		{bad.URL + "/healthz", false},
		{"tcp:" + strings.TrimPrefix(ok.URL, "http://"), true},
		{"tcp:" + closedAddr, false},
		{"ftp://x", false},
	} {
		err := Probe(context.Background(), c.target)
		if (err == nil) != c.ok {
			t.Errorf("Probe(%q) = %v; want ok=%v", c.target, err, c.ok)
		}
	}
}
