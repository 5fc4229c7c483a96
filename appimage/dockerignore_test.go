package appimage

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDockerignoreKeepsSources checks that the repository's .dockerignore
// leaves in the build context every Go file and embedded file that the
// Dockerfile's build stage compiles into ./cmd/duckbench (the results
// package shares its folder with run records, for one).
func TestDockerignoreKeepsSources(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, strings.TrimPrefix(l, "/"))
		}
	}
	cmd := exec.Command("go", "list", "-deps", "-f", `{{if not .Standard}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}
{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}
{{end}}{{end}}`, "./cmd/duckbench")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, f := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(root, f)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue // a dependency outside the module
		}
		checked++
		// A pattern excludes a file when it matches the file or a parent.
		for p := rel; p != "."; p = filepath.Dir(p) {
			for _, pat := range patterns {
				if ok, _ := filepath.Match(pat, p); ok {
					t.Errorf(".dockerignore pattern %q excludes %s, which the build stage compiles", pat, rel)
				}
			}
		}
	}
	if checked < 20 {
		t.Errorf("checked only %d files of the module; want all of ./cmd/duckbench's", checked)
	}
}
