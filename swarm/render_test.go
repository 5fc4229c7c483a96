package swarm

import (
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/compose"
	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

func loadSpec(t *testing.T, name string) *spec.Spec {
	t.Helper()
	s, err := spec.Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("spec.Load(%q) = %v", name, err)
	}
	return s
}

var testRender = RenderOptions{Compose: compose.RenderOptions{AppImage: "duckbench:test"}}

// TestRender locks the stack file: dnsrr and host-mode ports everywhere,
// configs instead of bind mounts, the secret instead of any password
// variable, placement and replicas from the spec.
func TestRender(t *testing.T) {
	s := loadSpec(t, "seed.yaml")
	got, err := Render(s, testRender)
	if err != nil {
		t.Fatalf("Render(seed) = %v", err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".golden.yaml"), got, *update)
	for _, bad := range []string{"SWARM_TEST_REDIS_PASSWORD", "depends_on", "host_ip", "./haproxy.cfg:"} {
		if strings.Contains(string(got), bad) {
			t.Errorf("Render(seed) holds %q; want it absent", bad)
		}
	}
}

func TestRenderNeedsPassword(t *testing.T) {
	s := loadSpec(t, "seed.yaml")
	s.Redis.PasswordEnv = ""
	if _, err := Render(s, testRender); !errors.Is(err, ErrNoPassword) {
		t.Errorf("Render(no password_env) = %v; want ErrNoPassword", err)
	}
}

func TestPasswordFromFile(t *testing.T) {
	got := passwordFromFile([]string{"/duckbench", "app", "--redis-password-env", "PW", "--name", "a"})
	want := "/duckbench app --redis-password-file " + SecretPath + " --name a"
	if strings.Join(got, " ") != want {
		t.Errorf("passwordFromFile() = %q; want %q", got, want)
	}
	if passwordFromFile(nil) != nil {
		t.Error("passwordFromFile(nil) != nil")
	}
}

// TestRenderImageApp: a user image gets the secret and the path of its
// file, never the password variable.
func TestRenderImageApp(t *testing.T) {
	s := loadSpec(t, "seed.yaml")
	s.Apps[1].Kind, s.Apps[1].Image = spec.AppImage, "example/app:1"
	p, err := Project(s, testRender)
	if err != nil {
		t.Fatalf("Project() = %v", err)
	}
	svc := p.Services["app2"]
	if v := svc.Environment["REDIS_PASSWORD_FILE"]; v == nil || *v != SecretPath {
		t.Errorf("app2 environment = %v; want REDIS_PASSWORD_FILE=%s", svc.Environment, SecretPath)
	}
	if _, ok := svc.Environment[s.Redis.PasswordEnv]; ok {
		t.Errorf("app2 environment passes %s; want no password variable", s.Redis.PasswordEnv)
	}
	if len(svc.Secrets) != 1 || svc.Secrets[0].Source != SecretKey {
		t.Errorf("app2 secrets = %v; want %s", svc.Secrets, SecretKey)
	}
}

// TestSpreadFits: replicas that max_replicas_per_node cannot place on the
// ready nodes are refused before anything is deployed.
func TestSpreadFits(t *testing.T) {
	s := loadSpec(t, "seed.yaml") // app1: 3 replicas, at most 1 per node
	for _, tc := range []struct {
		nodes int
		want  string
	}{
		{3, ""},
		{4, ""},
		{2, "apps[0] app1: 3 replicas at most 1 per node need 3 nodes; the swarm has 2 ready"},
		{1, "need 3 nodes; the swarm has 1 ready"},
		{0, ""}, // unknown: swarm decides
	} {
		err := spreadFits(s, tc.nodes)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("spreadFits(%d nodes) = %v; want %q", tc.nodes, err, tc.want)
		}
	}
	s.Apps[0].MaxReplicasPerNode = 2
	if err := spreadFits(s, 2); err != nil {
		t.Errorf("3 replicas, 2 per node, 2 nodes: %v; want them placed", err)
	}
	s.Apps[0].MaxReplicasPerNode = 0
	if err := spreadFits(s, 1); err != nil {
		t.Errorf("no cap: %v", err)
	}
}
