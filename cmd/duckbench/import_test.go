package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/specimport"
)

// firstLine is "path:N" of the first line of path whose first word is word
// (an independent reading of the file).
func firstLine(t *testing.T, path, word string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if fs := strings.Fields(sc.Text()); len(fs) > 0 && fs[0] == word {
			return fmt.Sprintf("%s:%d", path, n)
		}
	}
	t.Fatalf("%s has no %s line", path, word)
	return ""
}

// TestImportDebianCorpus: every haproxy.cfg Debian installs, imported with
// Debian's redis.conf, gives a spec that validate accepts (rendered, then
// haproxy -c and redis-server) — except the WURFL example, which this
// HAProxy build cannot read: its error names the user's own file and line.
func TestImportDebianCorpus(t *testing.T) {
	needBinaries(t)
	corpus, _ := filepath.Glob("/usr/share/doc/haproxy/examples/*.cfg")
	corpus = append(corpus, "/etc/haproxy/haproxy.cfg")
	const redisConf = "/etc/redis/redis.conf"
	if _, err := os.Stat(redisConf); err != nil || len(corpus) < 2 {
		testenv.Unavailable(t, "Debian's haproxy and redis-server configs are not on this machine")
	}
	for _, cfg := range corpus {
		if _, err := os.Stat(cfg); err != nil {
			continue
		}
		t.Run(filepath.Base(cfg), func(t *testing.T) {
			dir := t.TempDir()
			name := specimport.Name(cfg)
			res, err := specimport.Build(name, []string{cfg}, redisConf)
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			out := filepath.Join(dir, name+".yaml")
			os.WriteFile(out, res.Spec, 0o644)
			if res.LabFile {
				os.WriteFile(filepath.Join(dir, specimport.LabName(name)), []byte(specimport.LabFile), 0o644)
			}
			err = validateSpecFile(context.Background(), out, false)
			if filepath.Base(cfg) == "wurfl-example.cfg" {
				at := firstLine(t, cfg, "wurfl-data-file")
				if err == nil || !strings.Contains(err.Error(), "("+at+")] : unknown keyword 'wurfl-data-file' in 'global' section") {
					t.Fatalf("validate: %v\nwant haproxy's unknown keyword 'wurfl-data-file' located at %s", err, at)
				}
				return
			}
			if err != nil {
				t.Fatalf("validate: %v\nspec:\n%s", err, res.Spec)
			}
		})
	}
}
