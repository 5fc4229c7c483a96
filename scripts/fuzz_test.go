// Package scripts holds the tests of the shell scripts in this directory.
package scripts

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// module writes a Go module with the given files (path → body) and a
// copy of scripts/fuzz in its scripts/, and returns the copy's path.
func module(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	fuzz, err := os.ReadFile("fuzz")
	if err != nil {
		t.Fatal(err)
	}
	files["go.mod"] = "module example.com/fz\n\ngo 1.22\n"
	files["scripts/fuzz"] = string(fuzz)
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "scripts", "fuzz")
}

// TestFuzzFailsOnErrors: scripts/fuzz fails, naming the package, when a
// package's tests do not build (go test -list failed and the script went on
// with exit 0); a module without fuzz targets passes.
func TestFuzzFailsOnErrors(t *testing.T) {
	good := map[string]string{"good/good.go": "package good\n\nfunc One() int { return 1 }\n"}
	for _, tc := range []struct {
		name     string
		files    map[string]string
		wantCode int
		want     string
	}{
		{"no fuzz targets", good, 0, ""},
		{"a test that does not build", map[string]string{
			"good/good.go":     good["good/good.go"],
			"bad/bad.go":       "package bad\n",
			"bad/bad_test.go":  "package bad\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) { var n int = \"s\"; _ = n }\n",
			"bad/fuzz_test.go": "package bad\n\nimport \"testing\"\n\nfunc FuzzX(f *testing.F) { f.Fuzz(func(*testing.T, []byte) {}) }\n",
		}, 1, "go test -list example.com/fz/bad failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(module(t, tc.files), "1s")
			out, err := cmd.CombinedOutput()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.wantCode || !strings.Contains(string(out), tc.want) {
				t.Errorf("scripts/fuzz = exit %d:\n%s\nwant exit %d with %q", code, out, tc.wantCode, tc.want)
			}
		})
	}
}
