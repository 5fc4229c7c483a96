package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/appimage"
)

// TestRegistryFlag: every command that brings a swarm stack up takes
// --registry; on another runtime, or as anything but HOST:PORT, it is a
// usage error (exit 2) naming the flag, before anything starts.
func TestRegistryFlag(t *testing.T) {
	seed := "../../examples/seed.yaml"
	runDir := filepath.Join(t.TempDir(), "run")
	res := t.TempDir()
	baseline := scaledResult(t, t.TempDir(), "base.json", 1)
	cmds := map[string][]string{
		"up":       {"up", seed},
		"run":      {"run", seed},
		"capacity": {"capacity", seed},
		"check":    {"check", seed, "--baseline", baseline},
		"ab":       {"ab", seed, "--aa"},
		"sweep":    {"sweep", seed, "--vary", "haproxy.maxconn=1,2"},
	}
	for name, args := range cmds {
		t.Run(name, func(t *testing.T) {
			base := append(append([]string{}, args...), "--run-dir", runDir)
			if name != "up" {
				base = append(base, "--results", res)
			}
			for _, tc := range []struct {
				extra []string
				want  string
			}{
				{[]string{"--runtime", "local", "--registry", "10.0.0.1:5000"}, `--registry: the swarm runtime's nodes pull the stack's images from it; needs --runtime swarm (got "local")`},
				{[]string{"--runtime", "compose", "--registry", "10.0.0.1:5000"}, `needs --runtime swarm (got "compose")`},
				{[]string{"--runtime", "swarm", "--registry", "http://10.0.0.1:5000"}, `--registry: registry "http://10.0.0.1:5000": want HOST:PORT`},
				{[]string{"--runtime", "swarm", "--registry", "10.0.0.1"}, `want HOST:PORT`},
			} {
				a := append(append([]string{}, base...), tc.extra...)
				code, _, stderr := captureRun(t, a...)
				if code != exitUsage || !strings.Contains(stderr, tc.want) {
					t.Errorf("duckbench %s = exit %d, stderr %q; want exit %d and %q", strings.Join(a, " "), code, stderr, exitUsage, tc.want)
				}
			}
		})
	}
	// The commands that never bring a stack up have no such flag.
	if code, _, stderr := captureRun(t, "down", seed, "--registry", "10.0.0.1:5000"); code != exitUsage || !strings.Contains(stderr, "unknown flag: --registry") {
		t.Errorf("down --registry = exit %d, %q; want exit %d, unknown flag", code, stderr, exitUsage)
	}
}

// TestRegistryToOtherBinary: ab's runs with another build get the
// registry as the variable (a build of another revision may lack the
// flag), so its swarm stacks pull from the same registry.
func TestRegistryToOtherBinary(t *testing.T) {
	dir := t.TempDir()
	p := writeSpec(t, dir, "other.yaml", otherSpec)
	base := scaledResult(t, dir, "base.json", 1)
	envLog := filepath.Join(dir, "env.log")
	bin := filepath.Join(dir, "duckbench-base")
	fake := fakeBinary(t, dir, "fake", base, filepath.Join(dir, "args.log"))
	script := fmt.Sprintf("#!/bin/sh\necho \"$%s\" >> '%s'\nexec '%s' \"$@\"\n", appimage.RegistryEnv, envLog, fake)
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(appimage.RegistryEnv, "")
	t.Setenv(OneTimePasswordEnv, "")
	args := []string{"ab", p, p, "--old-binary", bin, "--new-binary", bin, "--rounds", "1", "--cooldown", "1ms",
		"--duration", "1s", "--results", filepath.Join(dir, "results"), "--run-dir", t.TempDir(), "-q",
		"--runtime", "swarm", "--registry", "10.9.8.7:5000"}
	code, stdout, stderr := captureRun(t, args...)
	b, err := os.ReadFile(envLog)
	if err != nil {
		t.Fatalf("duckbench %v: exit %d, no run of the binary (%v)\n%s\n%s", args, code, err, stdout, stderr)
	}
	got := strings.Fields(string(b))
	if len(got) != 2 || got[0] != "10.9.8.7:5000" || got[1] != "10.9.8.7:5000" {
		t.Errorf("the binary's runs saw %s=%q; want 10.9.8.7:5000 in both runs", appimage.RegistryEnv, got)
	}
}
