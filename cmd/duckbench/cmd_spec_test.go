package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/swarm"
)

// captureRun calls run(args) with stdout and stderr captured. It swaps
// os.Stdout/os.Stderr, so callers must not use t.Parallel.
func captureRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	dir := t.TempDir()
	outF, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	errF, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	oldOut, oldErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = outF, errF
	code = run(args)
	os.Stdout, os.Stderr = oldOut, oldErr
	outF.Close()
	errF.Close()
	o, _ := os.ReadFile(outF.Name())
	e, _ := os.ReadFile(errF.Name())
	return code, string(o), string(e)
}

// needBinaries skips (or fails under DUCKBENCH_REQUIRE_ALL=1) without the real programs.
func needBinaries(t *testing.T) {
	t.Helper()
	for _, b := range []string{"haproxy", "redis-server"} {
		testenv.RequireBinary(t, b, "")
	}
}

func TestValidateExamples(t *testing.T) {
	needBinaries(t)
	examples, _ := filepath.Glob("../../examples/*.yaml")
	if len(examples) < 2 {
		t.Fatalf("found %d examples; want at least seed and cache-weighted", len(examples))
	}
	code, out, errOut := captureRun(t, append([]string{"validate"}, examples...)...)
	if code != 0 {
		t.Fatalf("validate examples = exit %d; want 0\n%s", code, errOut)
	}
	for _, e := range examples {
		if !strings.Contains(out, e+": ok") {
			t.Errorf("validate output lacks %q:\n%s", e+": ok", out)
		}
	}
}

func TestValidateMissingBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	code, _, errOut := captureRun(t, "validate", "../../examples/seed.yaml")
	if code != exitDependency || !strings.Contains(errOut, "apt-get install haproxy") {
		t.Errorf("validate without haproxy = exit %d, %q; want exit 3 with an install hint", code, errOut)
	}
	code, _, errOut = captureRun(t, "validate", "--no-binaries", "../../examples/seed.yaml")
	if code != 0 {
		t.Errorf("validate --no-binaries = exit %d, %q; want 0", code, errOut)
	}
}

// TestBadInputSweep: every invalid spec and bad invocation exits 2 with a
// located message (issue 8's sweep, the spec part).
func TestBadInputSweep(t *testing.T) {
	specs, _ := filepath.Glob("../../spec/testdata/invalid-*.yaml")
	if len(specs) < 40 {
		t.Fatalf("found %d invalid specs; want at least 40", len(specs))
	}
	located := regexp.MustCompile(`\((invalid-[a-z0-9-]+\.yaml):\d+:\d+\)$`)
	for _, cmd := range []string{"validate", "render"} {
		for _, path := range specs {
			t.Run(cmd+"/"+filepath.Base(path), func(t *testing.T) {
				args := []string{cmd, path}
				out := t.TempDir()
				if cmd == "render" {
					args = append(args, "-o", filepath.Join(out, "r"))
				}
				code, _, errOut := captureRun(t, args...)
				if code != exitUsage {
					t.Fatalf("%v = exit %d; want 2\n%s", args, code, errOut)
				}
				if !strings.HasPrefix(errOut, "duckbench: ") {
					t.Errorf("%v stderr = %q; want a duckbench: prefix", args, errOut)
				}
				for _, line := range strings.Split(strings.TrimSpace(errOut), "\n") {
					m := located.FindStringSubmatch(line)
					if m == nil || m[1] != filepath.Base(path) {
						t.Errorf("%v: line %q does not end with (%s:LINE:COL)", args, line, filepath.Base(path))
					}
				}
				if _, err := os.Stat(filepath.Join(out, "r")); !os.IsNotExist(err) {
					t.Errorf("%v left output behind (stat: %v)", args, err)
				}
			})
		}
	}

	dir := t.TempDir()
	exists := filepath.Join(dir, "exists")
	if err := os.MkdirAll(exists, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(exists, "duckbench.yaml"), []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	invocations := []struct {
		name string
		args []string
		want string // exact stderr
	}{
		{"validate no args", []string{"validate"}, "duckbench: requires at least 1 arg(s), only received 0\n"},
		{"validate missing file", []string{"validate", filepath.Join(dir, "nope.yaml")},
			"duckbench: read spec: open " + filepath.Join(dir, "nope.yaml") + ": no such file or directory\n"},
		{"validate directory", []string{"validate", dir}, "duckbench: read spec: read " + dir + ": is a directory\n"},
		{"validate unknown flag", []string{"validate", "--frobnicate", "x.yaml"}, "duckbench: unknown flag: --frobnicate\n"},
		{"render without -o", []string{"render", "../../examples/seed.yaml"}, "duckbench: required flag(s) \"output\" not set\n"},
		{"render two specs", []string{"render", "a.yaml", "b.yaml", "-o", dir}, "duckbench: accepts 1 arg(s), received 2\n"},
		{"render bad runtime", []string{"render", "../../examples/seed.yaml", "-o", filepath.Join(dir, "rt"), "--runtime", "podman"}, "duckbench: --runtime: must be local or compose (got \"podman\")\n"},
		{"up swarm without password", []string{"up", "../../examples/seed.yaml", "--runtime", "swarm", "--run-dir", filepath.Join(dir, "run")},
			"duckbench: --runtime swarm: " + swarm.ErrNoPassword.Error() + " (run, capacity, check, ab and sweep make a one-time password instead)\n"},
		{"init existing", []string{"init", exists}, "duckbench: " + filepath.Join(exists, "duckbench.yaml") + " already exists (use --force to overwrite it)\n"},
		{"init two dirs", []string{"init", "a", "b"}, "duckbench: accepts at most 1 arg(s), received 2\n"},
		{"schema with args", []string{"schema", "x"}, "duckbench: unknown command \"x\" for \"duckbench schema\"\n"},
	}
	for _, tc := range invocations {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := captureRun(t, tc.args...)
			if code != exitUsage {
				t.Errorf("%v = exit %d; want 2\n%s", tc.args, code, errOut)
			}
			if tc.want != "" && errOut != tc.want {
				t.Errorf("%v stderr:\n got: %q\nwant: %q", tc.args, errOut, tc.want)
			}
		})
	}
	if b, _ := os.ReadFile(filepath.Join(exists, "duckbench.yaml")); string(b) != "keep me\n" {
		t.Errorf("init without --force overwrote the file: %q", b)
	}
}

func TestInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	code, out, errOut := captureRun(t, "init", dir)
	if code != 0 {
		t.Fatalf("init = exit %d\n%s", code, errOut)
	}
	path := filepath.Join(dir, "duckbench.yaml")
	if !strings.Contains(out, "wrote "+path) {
		t.Errorf("init stdout = %q", out)
	}
	if code, _, errOut := captureRun(t, "validate", "--no-binaries", path); code != 0 {
		t.Errorf("the init spec does not validate: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := captureRun(t, "init", "--force", dir); code != 0 {
		t.Errorf("init --force = exit %d\n%s", code, errOut)
	}
}

func TestInitSpecPassesRealBinaries(t *testing.T) {
	needBinaries(t)
	dir := t.TempDir()
	if code, _, errOut := captureRun(t, "init", dir); code != 0 {
		t.Fatalf("init = exit %d\n%s", code, errOut)
	}
	if code, _, errOut := captureRun(t, "validate", filepath.Join(dir, "duckbench.yaml")); code != 0 {
		t.Errorf("validate init spec = exit %d\n%s", code, errOut)
	}
}

func TestRender(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	code, out, errOut := captureRun(t, "render", "../../examples/seed.yaml", "-o", dir)
	if code != 0 {
		t.Fatalf("render = exit %d\n%s", code, errOut)
	}
	for _, name := range []string{"haproxy.cfg", "redis-master.conf", "redis-replica-1.conf", "redis-replica-2.conf"} {
		if !strings.Contains(out, filepath.Join(dir, name)) {
			t.Errorf("render stdout lacks %s:\n%s", name, out)
		}
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("render did not write %s: %v", name, err)
		}
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, "haproxy.cfg"))
	for _, want := range []string{"balance roundrobin", "bind 127.0.0.1:6301", "server app1 ", "server app2 "} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("haproxy.cfg lacks %q", want)
		}
	}
	replicas := 0
	for _, n := range []string{"redis-master", "redis-replica-1", "redis-replica-2"} {
		b, _ := os.ReadFile(filepath.Join(dir, n+".conf"))
		if strings.Contains(string(b), "\nreplicaof") {
			replicas++
		}
	}
	if replicas != 2 {
		t.Errorf("%d redis confs have replicaof; want 2", replicas)
	}
}

func TestRenderAutoPorts(t *testing.T) {
	specDir := t.TempDir()
	path := filepath.Join(specDir, "auto.yaml")
	if err := os.WriteFile(path, []byte("name: auto\napps: [{name: a, port: auto}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := captureRun(t, "render", path, "-o", filepath.Join(specDir, "out"))
	if code != 0 || !strings.Contains(errOut, "apps[0].port: auto -> ") {
		t.Errorf("render auto = exit %d, stderr %q; want 0 and the picked port", code, errOut)
	}
}

func TestSchema(t *testing.T) {
	code, out, errOut := captureRun(t, "schema")
	if code != 0 {
		t.Fatalf("schema = exit %d\n%s", code, errOut)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("schema output is not JSON: %v", err)
	}
	if v["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v", v["$schema"])
	}
	file := filepath.Join(t.TempDir(), "s.json")
	if code, _, errOut := captureRun(t, "schema", "-o", file); code != 0 {
		t.Fatalf("schema -o = exit %d\n%s", code, errOut)
	}
	if b, _ := os.ReadFile(file); string(b) != out {
		t.Error("schema -o wrote something else than stdout")
	}
}

func TestHelpHasExamples(t *testing.T) {
	root := newRoot()
	for _, name := range []string{"init", "validate", "render", "schema"} {
		c, _, err := root.Find([]string{name})
		if err != nil || c.Name() != name {
			t.Errorf("command %q not registered", name)
			continue
		}
		if !c.HasExample() {
			t.Errorf("%s --help has no Example", name)
		}
	}
}
