package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var updateGolden = flag.Bool("update-cmd", false, "rewrite cmd golden files")

// TestDiffGolden pins the output of `duckbench diff` for a weight change
// and a Redis setting change: the field paths and the rendered-file hunks.
func TestDiffGolden(t *testing.T) {
	for _, name := range []string{"weight", "redis"} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := captureRun(t, "diff", "testdata/diff/base.yaml", "testdata/diff/"+name+".yaml")
			if code != 0 {
				t.Fatalf("diff = exit %d; want 0\n%s", code, errOut)
			}
			golden := filepath.Join("testdata", "diff", t.Name()[len("TestDiffGolden/"):]+".golden")
			if *updateGolden {
				os.WriteFile(golden, []byte(out), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run with -update-cmd): %v", err)
			}
			if out != string(want) {
				t.Errorf("diff output differs from %s:\n%s", golden, out)
			}
		})
	}
}

func TestDiffExitCode(t *testing.T) {
	if code, _, _ := captureRun(t, "diff", "--exit-code", "testdata/diff/base.yaml", "testdata/diff/base.yaml"); code != 0 {
		t.Errorf("diff --exit-code of equal specs = exit %d; want 0", code)
	}
	if code, _, _ := captureRun(t, "diff", "--exit-code", "testdata/diff/base.yaml", "testdata/diff/weight.yaml"); code != 1 {
		t.Errorf("diff --exit-code of different specs = exit %d; want 1", code)
	}
	if code, _, _ := captureRun(t, "diff", "testdata/diff/base.yaml", "testdata/diff/missing.yaml"); code != 2 {
		t.Errorf("diff with a missing spec = exit %d; want 2", code)
	}
}
