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

const testBinary = "/usr/local/bin/duckbench"

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
			got, err := Render(s, RenderOptions{Binary: testBinary, Observability: obs})
			if err != nil {
				t.Fatalf("Render(%q) = %v", name, err)
			}
			testenv.Golden(t, testenv.GoldenPath(t, ".golden.yaml"), got, *update)
			again, _ := Render(s, RenderOptions{Binary: testBinary, Observability: obs})
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
	p, err := Project(s, RenderOptions{Binary: testBinary})
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
		if svc.HealthCheck == nil || len(svc.HealthCheck.Test) == 0 {
			t.Errorf("%s: no healthcheck", name)
		}
		if v, ok := svc.Environment[s.Redis.PasswordEnv]; name != HAProxyService && (!ok || v != nil) {
			t.Errorf("%s: environment %s = %v, %v; want a passthrough with no value", name, s.Redis.PasswordEnv, v, ok)
		}
	}
	if deps := p.Services["haproxy"].DependsOn; len(deps) != 2 || deps["app1"].Condition != "service_healthy" {
		t.Errorf("haproxy depends_on = %v; want both apps healthy", deps)
	}
}

func TestRenderErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(*spec.Spec)
		opts   RenderOptions
		want   string
	}{
		{"auto port", func(s *spec.Spec) { s.Apps[0].Port = spec.PortAuto }, RenderOptions{Binary: testBinary},
			`app "app1": port "auto" not resolved`},
		{"no binary", func(s *spec.Spec) {}, RenderOptions{}, `app "app1": builtin app needs the duckbench binary path`},
		{"relative binary", func(s *spec.Spec) {}, RenderOptions{Binary: "duckbench"}, `binary path "duckbench" is not absolute`},
		{"command app", func(s *spec.Spec) { s.Apps[0].Kind = spec.AppCommand }, RenderOptions{Binary: testBinary},
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
