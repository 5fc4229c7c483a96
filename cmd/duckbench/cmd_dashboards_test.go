package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDashboardsCmd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if got := run([]string{"dashboards", "-o", dir, "--rules"}); got != exitOK {
		t.Fatalf("run(dashboards -o %s --rules) = %d; want %d", dir, got, exitOK)
	}
	for _, f := range []string{"duckbench-overview.json", "duckbench-redis-replication.json", "duckbench-haproxy-backends.json", "rules/duckbench.rules.yml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("dashboards -o: %v", err)
		}
	}
	if got := run([]string{"dashboards"}); got != exitUsage {
		t.Errorf("run(dashboards) = %d; want %d (usage)", got, exitUsage)
	}
	if got := run([]string{"dashboards", "--list"}); got != exitOK {
		t.Errorf("run(dashboards --list) = %d; want %d", got, exitOK)
	}
}
