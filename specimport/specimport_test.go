package specimport

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/spec"
)

// TestBuildWebCfg: examples/byo/web.cfg gives one app per server (the
// template's two included), targets from default_backend and the path
// ACL, and a spec that loads.
func TestBuildWebCfg(t *testing.T) {
	res, err := Build("web", []string{"../examples/byo/web.cfg"}, "")
	if err != nil {
		t.Fatal(err)
	}
	y := string(res.Spec)
	for _, want := range []string{"{name: web1, port: auto}", "{name: api2, port: auto}", `{path: "/kv/{key}"}`, `{path: "/api/kv/{key}"}`} {
		if !strings.Contains(y, want) {
			t.Errorf("spec lacks %s:\n%s", want, y)
		}
	}
	if res.LabFile {
		t.Error("web.cfg has a frontend and servers: no lab file needed")
	}
	g := strings.Join(res.Guesses, "\n")
	if !strings.Contains(g, "web.cfg:14: server web1 keeps weight 2 maxconn 64") {
		t.Errorf("guesses do not name web1's weight and maxconn:\n%s", g)
	}
	p := filepath.Join(t.TempDir(), "web.yaml")
	os.WriteFile(p, res.Spec, 0o644)
	if _, err := spec.Load(p); err != nil {
		t.Fatalf("the imported spec does not load: %v\n%s", err, y)
	}
}

// TestBuildNoFrontend: a file with neither frontend nor server gets the lab file.
func TestBuildNoFrontend(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "g.cfg")
	os.WriteFile(cfg, []byte("global\n  daemon\ndefaults\n  mode http\n"), 0o644)
	res, err := Build("g", []string{cfg}, "")
	if err != nil || !res.LabFile || !strings.Contains(string(res.Spec), `"g-lab.cfg"`) {
		t.Fatalf("Build = %v, %+v", err, res)
	}
	os.WriteFile(filepath.Join(dir, LabName("g")), []byte(LabFile), 0o644)
	p := filepath.Join(dir, "g.yaml")
	os.WriteFile(p, res.Spec, 0o644)
	if _, err := spec.Load(p); err != nil {
		t.Fatalf("the imported spec does not load: %v", err)
	}
}

// TestBuildTLSCfg: examples/byo/tls.cfg's entry frontend has a TLS bind:
// import says the load speaks https to it with a lab certificate; web.cfg's
// plain frontend gets no such guess.
func TestBuildTLSCfg(t *testing.T) {
	res, err := Build("tls", []string{"../examples/byo/tls.cfg"}, "")
	if err != nil {
		t.Fatal(err)
	}
	g := strings.Join(res.Guesses, "\n")
	if !strings.Contains(g, "tls.cfg:21: the load speaks https to this TLS bind, served with a lab certificate made per run") {
		t.Errorf("guesses do not name the TLS entry bind:\n%s", g)
	}
	res, err = Build("web", []string{"../examples/byo/web.cfg"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if g := strings.Join(res.Guesses, "\n"); strings.Contains(g, "https") {
		t.Errorf("web.cfg (no TLS bind) guesses https:\n%s", g)
	}
}
