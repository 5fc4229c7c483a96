package spec

import (
	"os"
	"path/filepath"
	"testing"
)

// copyBYO copies configgen's own-config specimen (spec, edge.cfg,
// redis.conf and its include) into a new directory and returns the spec's
// path there.
func copyBYO(t *testing.T) string {
	t.Helper()
	src := filepath.Join("..", "configgen", "testdata", "byo")
	dir := filepath.Join(t.TempDir(), "somewhere", "else")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"byo.yaml", "edge.cfg", "redis.conf", "extra.conf"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "byo.yaml")
}

func mustHash(t *testing.T, path string) string {
	t.Helper()
	s, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%q): %v", path, err)
	}
	return s.Hash()
}

// TestHashOfConfigFiles: a spec with config files hashes the same wherever
// its files lie (a CI clone, another machine: the goldens carry the hash),
// and differently when a file says something else, redis.conf included.
func TestHashOfConfigFiles(t *testing.T) {
	a, b := copyBYO(t), copyBYO(t)
	if ha, hb := mustHash(t, a), mustHash(t, b); ha != hb {
		t.Errorf("Hash of one spec in two directories: %s and %s; want equal", ha, hb)
	}
	base := mustHash(t, b)
	for _, f := range []string{"edge.cfg", "redis.conf", "extra.conf"} {
		t.Run(f, func(t *testing.T) {
			c := copyBYO(t)
			p := filepath.Join(filepath.Dir(c), f)
			old, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, append(old, []byte("# one more line\n")...), 0o644); err != nil {
				t.Fatal(err)
			}
			if got := mustHash(t, c); got == base {
				t.Errorf("Hash after a line added to %s = %s, the same as before; want it changed", f, got)
			}
		})
	}
}
