//go:build integration

package e2e

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/results"
)

// sweepFixtures writes the files the bad-input sweep points at into dir.
func sweepFixtures(t *testing.T, dir string) {
	t.Helper()
	good := seedSpec(specOpts{name: "sweep"})
	garbage := make([]byte, 300)
	rand.Read(garbage)
	files := map[string]string{
		"good.yaml":     good,
		"empty.yaml":    "",
		"syntax.yaml":   "name: x\napps: [\n",
		"unknown.yaml":  strings.Replace(good, "runtime: local\n", "runtime: local\nbogus_key: 1\n", 1),
		"clash.yaml":    strings.Replace(good, "port: auto", "port: 7001", 2),
		"badtype.yaml":  strings.Replace(good, "rate: 200", "rate: lots", 1),
		"empty.json":    "",
		"trunc.json":    `{"schema_version": 1, "id": "x", "spec": {"name": "a"` + "\n",
		"garbage.json":  string(garbage),
		"array.json":    "[]\n",
		"noschema.json": `{"id": "x"}` + "\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "noresult"), 0o755); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for name, r := range map[string]*results.Result{
		"a.json":      {SchemaVersion: 1, ID: "a", Spec: results.SpecInfo{Name: "sweep-a", Hash: "aa"}, Status: "completed", StartedAt: now, EndedAt: now},
		"b.json":      {SchemaVersion: 1, ID: "b", Spec: results.SpecInfo{Name: "sweep-b", Hash: "bb"}, Status: "completed", StartedAt: now, EndedAt: now},
		"future.json": {SchemaVersion: results.SchemaVersion + 1, ID: "f", Spec: results.SpecInfo{Name: "sweep-a", Hash: "aa"}, Status: "completed", StartedAt: now, EndedAt: now},
	} {
		if err := results.WriteFile(filepath.Join(dir, name), r); err != nil {
			t.Fatal(err)
		}
	}
	// WriteFile may normalise the version: force the future one.
	b, _ := os.ReadFile(filepath.Join(dir, "future.json"))
	future := fmt.Sprintf(`"schema_version": %d`, results.SchemaVersion+1)
	if !strings.Contains(string(b), future) {
		b = []byte(strings.Replace(string(b), fmt.Sprintf(`"schema_version": %d`, results.SchemaVersion), future, 1))
		os.WriteFile(filepath.Join(dir, "future.json"), b, 0o644)
	}
}

// TestBadInvocationSweep runs the binary with invalid invocations of every
// command: each exits 2 with a message naming the file or flag at fault,
// and none starts or writes anything. (The spec-level sweep — 88 invalid
// specs — is spec's TestInvalidSpecs; cmd/duckbench's TestBadInputSweep
// has 10 more invocations in-process.)
func TestBadInvocationSweep(t *testing.T) {
	t.Parallel()
	dir := tmpDir(t)
	sweepFixtures(t, dir)
	rd := filepath.Join(dir, "rundir")
	tests := []struct {
		name string
		args []string
		want []string // substrings of stderr
	}{
		// run
		{"run missing spec", []string{"run", "missing.yaml"}, []string{"missing.yaml", "no such file"}},
		{"run empty spec", []string{"run", "empty.yaml"}, []string{"empty.yaml:1:1", "empty spec"}},
		{"run directory as spec", []string{"run", "noresult"}, []string{"noresult", "is a directory"}},
		{"run YAML syntax error", []string{"run", "syntax.yaml"}, []string{"syntax.yaml:2:", "invalid YAML"}},
		{"run unknown key", []string{"run", "unknown.yaml"}, []string{"unknown.yaml:4:1", `unknown key "bogus_key"`}},
		{"run port clash", []string{"run", "clash.yaml"}, []string{"clash.yaml:", "port 7001 is already used by redis.master.port"}},
		{"run wrong type", []string{"run", "badtype.yaml"}, []string{"badtype.yaml:", "load.rate", `"lots"`}},
		{"run --rate -5", []string{"run", "good.yaml", "--run-dir", rd, "--rate", "-5"}, []string{"--rate", `"-5"`}},
		{"run --rate 0", []string{"run", "good.yaml", "--run-dir", rd, "--rate", "0"}, []string{"--rate", `"0"`}},
		{"run --rate abc", []string{"run", "good.yaml", "--run-dir", rd, "--rate", "abc"}, []string{"--rate", `"abc"`}},
		{"run --duration -1s", []string{"run", "good.yaml", "--run-dir", rd, "--duration", "-1s"}, []string{"--duration", "-1s"}},
		{"run --duration without unit", []string{"run", "good.yaml", "--run-dir", rd, "--duration", "5"}, []string{"--duration", "missing unit"}},
		{"run --repeat 0", []string{"run", "good.yaml", "--run-dir", rd, "--repeat", "0"}, []string{"--repeat", "got 0"}},
		{"run --repeat -3", []string{"run", "good.yaml", "--run-dir", rd, "--repeat", "-3"}, []string{"--repeat", "got -3"}},
		{"run unknown flag", []string{"run", "good.yaml", "--bogus"}, []string{"unknown flag: --bogus"}},
		{"run flag without value", []string{"run", "good.yaml", "--exporter-listen"}, []string{"--exporter-listen", "needs an argument"}},
		{"run --runtime nope", []string{"run", "good.yaml", "--run-dir", rd, "--runtime", "nope"}, []string{"--runtime", `"nope"`}},
		{"run no args", []string{"run"}, []string{"accepts 1 arg(s), received 0"}},
		{"run two args", []string{"run", "good.yaml", "good.yaml"}, []string{"accepts 1 arg(s), received 2"}},
		// bench
		{"bench missing spec", []string{"bench", "missing.yaml"}, []string{`"missing.yaml"`, "neither an http:// URL nor a spec file"}},
		{"bench ftp URL", []string{"bench", "ftp://x"}, []string{`"ftp://x"`}},
		{"bench spec --rate -5", []string{"bench", "good.yaml", "--run-dir", rd, "--rate", "-5"}, []string{"--rate", `"-5"`}},
		{"bench URL --rate 0", []string{"bench", "http://127.0.0.1:1/", "--rate", "0"}, []string{"--rate", `"0"`}},
		{"bench URL --duration -1s", []string{"bench", "http://127.0.0.1:1/", "--duration", "-1s"}, []string{"--duration"}},
		{"bench URL --connections -1", []string{"bench", "http://127.0.0.1:1/", "--rate", "max", "--connections", "-1"}, []string{"--connections"}},
		{"bench no args", []string{"bench"}, []string{"accepts 1 arg(s), received 0"}},
		// report
		{"report missing file", []string{"report", "missing.json"}, []string{"missing.json", "no such file"}},
		{"report empty file", []string{"report", "empty.json"}, []string{`"empty.json"`, "invalid JSON"}},
		{"report truncated result", []string{"report", "trunc.json"}, []string{`"trunc.json"`, "line 2", "unexpected end"}},
		{"report garbage", []string{"report", "garbage.json"}, []string{`"garbage.json"`, "invalid JSON at line"}},
		{"report future schema", []string{"report", "future.json"}, []string{`"future.json"`, fmt.Sprintf("schema_version %d is newer", results.SchemaVersion+1)}},
		{"report folder without result", []string{"report", "noresult"}, []string{filepath.Join("noresult", "result.json"), "no such file"}},
		{"report JSON array", []string{"report", "array.json"}, []string{`"array.json"`, "invalid JSON"}},
		{"report no schema_version", []string{"report", "noschema.json"}, []string{`"noschema.json"`, "no schema_version"}},
		{"report --html into missing dir", []string{"report", "a.json", "--html", filepath.Join(dir, "nodir", "r.html")}, []string{filepath.Join("nodir", "r.html")}},
		{"report no args", []string{"report"}, []string{"accepts 1 arg(s), received 0"}},
		// compare
		{"compare different specs", []string{"compare", "a.json", "b.json"}, []string{"different specs", `"sweep-a" (a.json)`, `"sweep-b" (b.json)`, "--force"}},
		{"compare missing new", []string{"compare", "a.json", "missing.json"}, []string{"new:", "missing.json"}},
		{"compare future base", []string{"compare", "future.json", "a.json"}, []string{"base:", `"future.json"`, "newer"}},
		{"compare truncated new", []string{"compare", "a.json", "trunc.json"}, []string{"new:", `"trunc.json"`}},
		{"compare one arg", []string{"compare", "a.json"}, []string{"accepts 2 arg(s), received 1"}},
		{"compare --alpha 2", []string{"compare", "a.json", "a.json", "--alpha", "2"}, []string{"--alpha", "got 2"}},
		{"compare negative threshold", []string{"compare", "a.json", "a.json", "--max-p99-regression", "-5%"}, []string{"--max-p99-regression", `"-5%"`}},
		// baseline
		{"baseline missing file", []string{"baseline", "missing.json", "--dir", filepath.Join(dir, "bl")}, []string{"missing.json"}},
		{"baseline truncated result", []string{"baseline", "trunc.json", "--dir", filepath.Join(dir, "bl")}, []string{`"trunc.json"`}},
		{"baseline future schema", []string{"baseline", "future.json", "--dir", filepath.Join(dir, "bl")}, []string{`"future.json"`, "newer"}},
		{"baseline --name with a path", []string{"baseline", "a.json", "--dir", filepath.Join(dir, "bl"), "--name", "../x"}, []string{"--name", `"../x"`}},
		// diff
		{"diff missing old", []string{"diff", "missing.yaml", "good.yaml"}, []string{"missing.yaml"}},
		{"diff empty new", []string{"diff", "good.yaml", "empty.yaml"}, []string{"empty.yaml:1:1"}},
		{"diff one arg", []string{"diff", "good.yaml"}, []string{"accepts 2 arg(s), received 1"}},
		{"diff unknown flag", []string{"diff", "good.yaml", "good.yaml", "--bogus"}, []string{"--bogus"}},
		// exporter
		{"exporter missing spec", []string{"exporter", "missing.yaml"}, []string{"missing.yaml"}},
		{"exporter no args", []string{"exporter"}, []string{"give SPEC"}},
		{"exporter replica without master", []string{"exporter", "--redis-replica", "127.0.0.1:1"}, []string{"--redis-replica needs --redis-master"}},
		{"exporter spec and flags", []string{"exporter", "good.yaml", "--redis-master", "127.0.0.1:1"}, []string{"not both"}},
		{"exporter bad replica", []string{"exporter", "--redis-master", "127.0.0.1:1", "--redis-replica", "nocolon"}, []string{`--redis-replica "nocolon"`}},
		// up / down / status
		{"up missing spec", []string{"up", "missing.yaml"}, []string{"missing.yaml"}},
		{"up empty spec", []string{"up", "empty.yaml"}, []string{"empty.yaml:1:1"}},
		{"up no args", []string{"up"}, []string{"accepts 1 arg(s), received 0"}},
		{"up --runtime nope", []string{"up", "good.yaml", "--run-dir", rd, "--runtime", "nope"}, []string{"--runtime", `"nope"`}},
		{"down missing spec", []string{"down", "missing.yaml"}, []string{"missing.yaml"}},
		{"down extra arg", []string{"down", "good.yaml", "good.yaml"}, []string{"accepts 1 arg(s), received 2"}},
		{"status missing spec", []string{"status", "missing.yaml"}, []string{"missing.yaml"}},
		{"status no args", []string{"status"}, []string{"accepts 1 arg(s), received 0"}},
		{"status unknown flag", []string{"status", "good.yaml", "--bogus"}, []string{"--bogus"}},
		// root
		{"unknown command", []string{"nosuchcmd"}, []string{`unknown command "nosuchcmd"`}},
	}
	t.Logf("%d invalid invocations", len(tests))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := startIn(t, dir, nil, tc.args...)
			code := p.wait(30 * time.Second)
			stderr := p.stderr.String()
			if code != 2 {
				t.Errorf("duckbench %s = exit %d; want 2\nstderr: %s", strings.Join(tc.args, " "), code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("duckbench %s: stderr lacks %q:\n%s", strings.Join(tc.args, " "), w, stderr)
				}
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("duckbench %s: want a one-line message, got:\n%s", strings.Join(tc.args, " "), stderr)
			}
		})
	}
	// Nothing ran, nothing was written where a run would write.
	if left := mentioning(dir); len(left) > 0 {
		t.Errorf("processes left by the sweep: %v", left)
	}
	for _, d := range []string{"results", ".duckbench", "rundir", "bl", "nodir"} {
		if _, err := os.Stat(filepath.Join(dir, d)); err == nil {
			t.Errorf("the sweep created %s", d)
		}
	}
}
