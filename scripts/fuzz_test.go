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

// wantExit runs cmd (scripts/fuzz) and wants exit code code and want in its
// output.
func wantExit(t *testing.T, cmd *exec.Cmd, code int, want string) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if got != code || !strings.Contains(string(out), want) {
		t.Errorf("scripts/fuzz = exit %d:\n%s\nwant exit %d with %q", got, out, code, want)
	}
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
			wantExit(t, cmd, tc.wantCode, tc.want)
		})
	}
}

// TestFuzzCoordinatorRace: a fuzz run that ends with Go's bare "context
// deadline exceeded" (golang/go#75804) and wrote no input is gated by a
// replay of the target's corpus; a run that wrote a failing input, or whose
// corpus replay fails, fails the script. A fake go on PATH plays the
// coordinator's part; everything else is the real go.
func TestFuzzCoordinatorRace(t *testing.T) {
	real, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	const race = "--- FAIL: FuzzX (10.21s)\n    context deadline exceeded\nFAIL\n"
	const found = "--- FAIL: FuzzX (3.02s)\n    --- FAIL: FuzzX (0.00s)\n        x_test.go:7: boom\n\n    Failing input written to testdata/fuzz/FuzzX/abc\nFAIL\n"
	passing := "package x\n\nimport \"testing\"\n\nfunc FuzzX(f *testing.F) {\n\tf.Add(\"a\")\n\tf.Fuzz(func(t *testing.T, s string) {})\n}\n"
	failing := "package x\n\nimport \"testing\"\n\nfunc FuzzX(f *testing.F) {\n\tf.Add(\"boom\")\n\tf.Fuzz(func(t *testing.T, s string) {\n\t\tif s == \"boom\" {\n\t\t\tt.Fatal(\"boom\")\n\t\t}\n\t})\n}\n"
	for _, tc := range []struct {
		name, test, fuzzOut string
		wantCode            int
		want                string
	}{
		{"race, corpus passes", passing, race, 0, "golang/go#75804"},
		{"race, corpus fails", failing, race, 1, "boom"},
		{"a failing input", passing, found, 1, "FuzzX failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			script := module(t, map[string]string{"x/x.go": "package x\n", "x/x_test.go": tc.test})
			bin := t.TempDir()
			fake := "#!/bin/sh\ncase \"$*\" in *\"-fuzz ^FuzzX\"*) printf '%s' '" + tc.fuzzOut + "'; exit 1;; esac\nexec " + real + " \"$@\"\n"
			if err := os.WriteFile(filepath.Join(bin, "go"), []byte(fake), 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(script, "1s")
			cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			wantExit(t, cmd, tc.wantCode, tc.want)
		})
	}
}
