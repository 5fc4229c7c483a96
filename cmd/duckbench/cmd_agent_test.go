package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAgentsUsage: --agents outside swarm, negative, or with --repeat is a
// usage error (exit 2) before anything starts; so is an agent without its
// plan.
func TestAgentsUsage(t *testing.T) {
	b, err := os.ReadFile("../../examples/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	withPw := filepath.Join(t.TempDir(), "seed-pw.yaml")
	y := strings.Replace(string(b), "redis:\n", "redis:\n  password_env: DUCKBENCH_AGENTS_TEST_PW\n", 1)
	if err := os.WriteFile(withPw, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(t.TempDir(), "run")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"local runtime", []string{"run", "../../examples/seed.yaml", "--runtime", "local", "--agents", "3"}},
		{"negative", []string{"run", withPw, "--runtime", "swarm", "--agents", "-1", "--run-dir", runDir}},
		{"with repeat", []string{"run", withPw, "--runtime", "swarm", "--agents", "2", "--repeat", "2", "--run-dir", runDir}},
		{"capacity compose", []string{"capacity", withPw, "--runtime", "compose", "--agents", "2", "--run-dir", runDir}},
		{"lead", []string{"run", withPw, "--runtime", "swarm", "--agents", "2", "--agent-start-lead", "0s", "--run-dir", runDir}},
		{"check", []string{"check", withPw, "--runtime", "swarm", "--agents", "2", "--baseline", "x.json", "--run-dir", runDir}},
		{"agent without plan", []string{"agent"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(tc.args); got != exitUsage {
				t.Errorf("duckbench %s = exit %d; want %d", strings.Join(tc.args, " "), got, exitUsage)
			}
		})
	}
}
