//go:build integration

package main

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/specimport"
)

// globalMaxconn is the global section's maxconn of a haproxy.cfg, read
// independently of hacfg (first words, '#' lines skipped); 0 when unset.
func globalMaxconn(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	section, maxconn := "", 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 || strings.HasPrefix(fs[0], "#") {
			continue
		}
		switch fs[0] {
		case "global", "defaults", "frontend", "backend", "listen", "peers", "resolvers", "userlist", "cache", "program", "http-errors", "ring", "mailers":
			section = fs[0]
			continue
		}
		if section == "global" && fs[0] == "maxconn" && len(fs) > 1 {
			maxconn, _ = strconv.Atoi(fs[1])
		}
	}
	return maxconn
}

// TestBYOCorpusServes: every haproxy.cfg Debian installs, imported with
// Debian's redis.conf, brings the lab up and serves load through the file's
// own frontend (100 % success: the builtin apps answer every path), or fails
// for the one reason the machine gives: a global maxconn whose file
// descriptors (HAProxy needs two per connection and some for its
// listeners, checks and logs: 64 here) exceed this
// process's hard RLIMIT_NOFILE, which only root with CAP_SYS_RESOURCE could
// raise — then HAProxy's own FD-limit alert, exit 3. wurfl-example.cfg
// (a module this HAProxy lacks) is TestImportDebianCorpus's located error.
func TestBYOCorpusServes(t *testing.T) {
	needDebianConfigs(t)
	corpus, _ := filepath.Glob("/usr/share/doc/haproxy/examples/*.cfg")
	corpus = append(corpus, debianHAProxy)
	if len(corpus) < 2 {
		testenv.Unavailable(t, "Debian's haproxy examples are not on this machine (apt-get install haproxy)")
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	bin := itBinary(t)
	for _, cfg := range corpus {
		if filepath.Base(cfg) == "wurfl-example.cfg" {
			continue
		}
		t.Run(filepath.Base(cfg), func(t *testing.T) {
			dir := itDir(t)
			name := specimport.Name(cfg)
			res, err := specimport.Build(name, []string{cfg}, debianRedis)
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			spec := filepath.Join(dir, name+".yaml")
			if err := os.WriteFile(spec, res.Spec, 0o644); err != nil {
				t.Fatal(err)
			}
			if res.LabFile {
				if err := os.WriteFile(filepath.Join(dir, specimport.LabName(name)), []byte(specimport.LabFile), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := validateSpecFile(context.Background(), spec, false); err != nil {
				t.Fatalf("validate: %v", err)
			}
			results := filepath.Join(dir, "results")
			code, stdout, stderr := itRun(t, bin, "run", spec, "-q", "--duration", "2s", "--rate", "20",
				"--results", results, "--run-dir", filepath.Join(dir, "run"), "--exporter-listen", "127.0.0.1:0")
			if need := uint64(2*globalMaxconn(t, cfg) + 64); need > lim.Max {
				if code != exitDependency || !strings.Contains(stderr, "FD limit") {
					t.Fatalf("run: exit %d; want %d with HAProxy's FD-limit alert (global maxconn needs ~%d descriptors, the hard limit here is %d)\n%s",
						code, exitDependency, need, lim.Max, tail(stderr, 10))
				}
				t.Logf("global maxconn needs ~%d file descriptors, this machine allows %d: HAProxy refuses, as it would in production here", need, lim.Max)
				return
			}
			if code != 0 {
				t.Fatalf("run: exit %d\n%s\n%s", code, stdout, tail(stderr, 20))
			}
			r, _ := onlyResult(t, results)
			if r.Summary.Requests != 40 || r.Summary.Success != r.Summary.Requests {
				t.Fatalf("run: %d requests, %d successes (codes %v, errors %v); want 40 of 40 (20 req/s × 2 s)",
					r.Summary.Requests, r.Summary.Success, r.Summary.StatusCodes, r.Summary.ErrorKinds)
			}
			var attributed uint64
			for _, s := range r.Servers {
				if s.Server != "(unattributed)" {
					attributed += s.Summary.Requests
				}
			}
			if attributed != r.Summary.Requests {
				t.Errorf("per-server requests add up to %d of %d; want every response attributed to a server of the file", attributed, r.Summary.Requests)
			}
		})
	}
}
