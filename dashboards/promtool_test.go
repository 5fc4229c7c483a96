package dashboards

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/testenv"
)

func runTool(t *testing.T, dir, bin string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, out)
	}
}

// TestPromtool runs the real promtool over the rules, their unit tests and
// the generated Prometheus configs.
func TestPromtool(t *testing.T) {
	promtool := testenv.RequireBinary(t, "promtool", "prometheus")
	rules, err := filepath.Glob(filepath.Join("rules", RuleFileGlob))
	if err != nil || len(rules) == 0 {
		t.Fatalf("no rule files under rules/: %v", err)
	}
	tests, err := filepath.Glob(filepath.Join("rules", "*_test.yaml"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("no rule tests under rules/: %v", err)
	}
	t.Run("check-rules", func(t *testing.T) { runTool(t, ".", promtool, append([]string{"check", "rules"}, rules...)...) })
	t.Run("test-rules", func(t *testing.T) { runTool(t, ".", promtool, append([]string{"test", "rules"}, tests...)...) })
	t.Run("check-config", func(t *testing.T) {
		dir := t.TempDir()
		rulesDir := filepath.Join(dir, "rules")
		if _, err := WriteRules(rulesDir); err != nil {
			t.Fatal(err)
		}
		cfg := filepath.Join(dir, "prometheus.yml")
		data := PrometheusConfig([]string{"127.0.0.1:9477", "haproxy=http://127.0.0.1:8405/metrics"}, rulesDir)
		if err := os.WriteFile(cfg, data, 0o644); err != nil {
			t.Fatal(err)
		}
		runTool(t, dir, promtool, "check", "config", cfg)
	})
	t.Run("check-compose-config", func(t *testing.T) {
		runTool(t, ".", promtool, "check", "config", "--syntax-only", filepath.Join("provisioning", "prometheus", "prometheus.yml"))
	})
}
