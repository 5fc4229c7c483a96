// Package ci holds the tests of the example CI job's script, ab-base.
package ci

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v4"
)

// fakeGo is a stand-in `go`: `go build -o OUT ./cmd/duckbench` writes a
// duckbench whose every call appends "<marker of the tree it was built
// from> <args>" to $FAKE_LOG and exits with $FAKE_EXIT.
const fakeGo = `#!/bin/sh
[ "$1 $2 $4" = "build -o ./cmd/duckbench" ] || { echo "fake go: unexpected $*" >&2; exit 9; }
marker=$(cat cmd/duckbench/marker)
printf '#!/bin/sh\necho "%s $*" >> "$FAKE_LOG"\nexit "$FAKE_EXIT"\n' "$marker" > "$3"
chmod +x "$3"
`

// git runs git in dir, failing t on error.
func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// repo makes a git repository whose commit "base" has spec.yaml and a
// build marker "base", and whose work tree has both changed ("new").
func repo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(t, dir, "init", "-q")
	write("cmd/duckbench/marker", "base")
	write("specs/spec.yaml", "name: base-spec\n")
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-qm", "base")
	git(t, dir, "tag", "base")
	write("cmd/duckbench/marker", "new")
	write("specs/spec.yaml", "name: new-spec\n")
	git(t, dir, "commit", "-qam", "pr")
	return dir
}

// TestABBase: ab-base builds the base revision's tree and the checked-out
// one, takes the spec as it is at the base, and runs the new build's ab of
// base spec against the spec with --old-binary the base build, passing on
// the ab's flags and its exit code.
func TestABBase(t *testing.T) {
	script, err := filepath.Abs("ab-base")
	if err != nil {
		t.Fatal(err)
	}
	dir := repo(t)
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(fakeGo), 0o755); err != nil {
		t.Fatal(err)
	}
	work, log := t.TempDir(), filepath.Join(t.TempDir(), "calls")
	run := func(exit string, args ...string) (int, string) {
		cmd := exec.Command(script, args...)
		cmd.Dir = filepath.Join(dir, "specs")
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "DUCKBENCH_AB_WORK="+work,
			"FAKE_LOG="+log, "FAKE_EXIT="+exit)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), string(out)
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}

	code, out := run("1", "base", "spec.yaml", "--rounds", "2")
	if code != 1 {
		t.Fatalf("ab-base base spec.yaml = exit %d; want the ab's 1\n%s", code, out)
	}
	calls, _ := os.ReadFile(log)
	want := "new ab " + filepath.Join(work, "base.yaml") + " spec.yaml --old-binary " + filepath.Join(work, "bin", "duckbench-base") + " --rounds 2\n"
	if string(calls) != want {
		t.Errorf("ab-base called:\n%s\nwant:\n%s", calls, want)
	}
	if b, _ := os.ReadFile(filepath.Join(work, "base.yaml")); string(b) != "name: base-spec\n" {
		t.Errorf("base.yaml = %q; want the spec at the base revision", b)
	}
	// The base build is the base revision's.
	os.Remove(log)
	cmd := exec.Command(filepath.Join(work, "bin", "duckbench-base"), "version")
	cmd.Env = append(os.Environ(), "FAKE_LOG="+log, "FAKE_EXIT=0")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(log); string(b) != "base version\n" {
		t.Errorf("duckbench-base was built from %q; want the base revision's tree", b)
	}
	wt := exec.Command("git", "worktree", "list")
	wt.Dir = dir
	if b, err := wt.Output(); err != nil || strings.Count(string(b), "\n") != 1 {
		t.Errorf("git worktree list after ab-base = %v:\n%s; want only the main tree", err, b)
	}

	if code, out := run("0", "base", "nope.yaml"); code != 2 || !strings.Contains(out, "does not exist at base") {
		t.Errorf("ab-base base nope.yaml = exit %d:\n%s; want 2 naming the missing spec", code, out)
	}
}

// TestWorkflowRunsBothBuilds: the example job's pull-request step is
// ab-base (base build + base spec against the PR's), as its **.go trigger
// needs; a plain `duckbench ab` there would run one build on both sides.
func TestWorkflowRunsBothBuilds(t *testing.T) {
	b, err := os.ReadFile("duckbench-check.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		On struct {
			PullRequest struct {
				Paths []string `yaml:"paths"`
			} `yaml:"pull_request"`
		} `yaml:"on"`
		Jobs map[string]struct {
			Steps []struct {
				If  string `yaml:"if"`
				Run string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(b, &wf); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(wf.On.PullRequest.Paths, "**.go") {
		t.Fatalf("pull_request paths = %v; the test assumes the **.go trigger", wf.On.PullRequest.Paths)
	}
	var prRuns []string
	for _, job := range wf.Jobs {
		for _, st := range job.Steps {
			if strings.Contains(st.If, "pull_request") && st.Run != "" {
				prRuns = append(prRuns, st.Run)
			}
		}
	}
	if len(prRuns) != 1 || !strings.Contains(prRuns[0], `examples/ci/ab-base "origin/${{ github.base_ref }}" "$SPEC"`) {
		t.Errorf("pull-request steps run %q; want one running examples/ci/ab-base against the base branch", prRuns)
	}
}
