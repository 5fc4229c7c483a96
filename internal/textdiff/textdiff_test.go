package textdiff_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/internal/textdiff"
)

func TestUnified(t *testing.T) {
	tests := []struct {
		name, a, b, want string
	}{
		{"equal", "x\ny\n", "x\ny\n", ""},
		{"one line changed", "a\nb\nc\n", "a\nB\nc\n", "--- old\n+++ new\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
		{"added at end", "a\n", "a\nb\n", "--- old\n+++ new\n@@ -1 +1,2 @@\n a\n+b\n"},
		{"from empty", "", "a\n", "--- old\n+++ new\n@@ -0,0 +1 @@\n+a\n"},
		{"no newline", "a", "b", "--- old\n+++ new\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n\\ No newline at end of file\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := textdiff.Unified("old", "new", tt.a, tt.b); got != tt.want {
				t.Errorf("Unified() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestUnifiedAppliesWithPatch checks the hunks against the real patch(1):
// applying our diff to a must give b.
func TestUnifiedAppliesWithPatch(t *testing.T) {
	patch := testenv.RequireBinary(t, "patch", "")
	var a, b []string
	for i := 0; i < 60; i++ {
		a = append(a, "line "+string(rune('a'+i%26)))
	}
	b = append(b, a[:5]...)
	b = append(b, "inserted")
	b = append(b, a[7:30]...)
	b = append(b, "changed 30")
	b = append(b, a[31:]...)
	b = append(b, "tail")
	as, bs := strings.Join(a, "\n")+"\n", strings.Join(b, "\n")+"\n"
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	if err := os.WriteFile(f, []byte(as), 0o644); err != nil {
		t.Fatal(err)
	}
	d := textdiff.Unified("f", "f", as, bs)
	cmd := exec.Command(patch, "-s", f)
	cmd.Stdin = strings.NewReader(d)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("patch: %v\n%s\ndiff:\n%s", err, out, d)
	}
	got, _ := os.ReadFile(f)
	if string(got) != bs {
		t.Errorf("patched file differs from b; diff:\n%s", d)
	}
}
