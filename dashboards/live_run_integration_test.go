//go:build integration

package dashboards

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/testenv"
)

// TestLiveRun is the live check end to end: the real duckbench
// binary runs a seed-like stack (cache on, so the cache panels have data)
// for 35 s while a real Prometheus scrapes duckbench's exporter and
// HAProxy's own; then every panel query of every dashboard must return at
// least one series. A panel that queries a metric nobody exports fails here.
func TestLiveRun(t *testing.T) {
	testenv.RequireBinary(t, "haproxy", "")
	testenv.RequireBinary(t, "redis-server", "")
	promBin := testenv.RequireBinary(t, "prometheus", "prometheus")
	dir := t.TempDir()

	bin := filepath.Join(dir, "duckbench")
	build := exec.Command("go", "build", "-o", bin, "../cmd/duckbench")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	exporter := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	haproxyProm := testenv.FreePort(t)
	specPath := filepath.Join(dir, "live.yaml")
	specYAML := fmt.Sprintf(`name: live
redis:
  master: {port: auto}
  replicas: [{port: auto}, {port: auto}]
apps:
  - {name: app1, port: auto}
  - {name: app2, port: auto}
haproxy:
  port: auto
  prometheus: {port: %d}
  backends:
    - name: apps
      cache: true
      servers: [{app: app1}, {app: app2}]
load:
  duration: 35s
  rate: 100
  keys: {count: 200}
  targets:
    - {path: "/kv/{key}", weight: 3}
    - {path: "/", weight: 1}
`, haproxyProm)
	if err := os.WriteFile(specPath, []byte(specYAML), 0o644); err != nil {
		t.Fatal(err)
	}

	// Prometheus first, so that it scrapes the whole run.
	promDir := filepath.Join(dir, "prometheus")
	rulesDir := filepath.Join(promDir, "rules")
	if _, err := WriteRules(rulesDir); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(promDir, "prometheus.yml")
	targets := []string{DefaultJob + "=" + exporter, fmt.Sprintf("%s=127.0.0.1:%d", HAProxyJob, haproxyProm)}
	if err := os.WriteFile(cfg, PrometheusConfig(targets, rulesDir), 0o644); err != nil {
		t.Fatal(err)
	}
	promAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	prom := exec.CommandContext(ctx, promBin, PrometheusArgs(cfg, filepath.Join(promDir, "data"), promAddr)...)
	promLog, _ := os.Create(filepath.Join(dir, "prometheus.log"))
	prom.Stdout, prom.Stderr = promLog, promLog
	if err := prom.Start(); err != nil {
		cancel()
		t.Fatalf("start prometheus: %v", err)
	}
	t.Cleanup(func() { cancel(); prom.Wait(); promLog.Close() })
	testenv.WaitHTTP(t, "http://"+promAddr+"/-/ready", 30*time.Second)

	start := time.Now()
	run := exec.Command(bin, "run", specPath, "--quiet",
		"--exporter-listen", exporter,
		"--results", filepath.Join(dir, "results"),
		"--run-dir", filepath.Join(dir, "run"))
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("duckbench run: %v\n%s", err, out)
	}
	end := time.Now()
	// One more scrape interval so the last samples are in.
	time.Sleep(6 * time.Second)

	qctx, qcancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer qcancel()
	qs := Queries()
	failures := evalQueries(qctx, "http://"+promAddr, qs, map[string]string{VarRateWindow: "30s"}, start, end)
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("%d of %d panel queries returned data from a real run (%s..%s)", len(qs)-len(failures), len(qs),
		start.Format(time.TimeOnly), end.Format(time.TimeOnly))
	if len(qs) < 20 {
		t.Errorf("only %d panel queries; the dashboards lost panels?", len(qs))
	}
}
