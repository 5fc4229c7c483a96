//go:build integration

package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// checkSpec is a small stack whose requests all miss: a million keys, and
// values that expire at once (the trials repeat the seeded key sequence), so
// each request costs the app's origin_cost. Its check
// section allows a noisy shared machine a wide p99 margin; raising the
// origin cost from 10ms to 200ms goes far past it.
const checkSpec = `version: duckbench/v1
name: check-it
redis:
  defaults:
    save: ""
  master:
    port: auto
apps:
  - name: app1
    port: auto
    origin_cost: %s
    cache_ttl: 1ms
haproxy:
  port: auto
  prometheus:
    port: auto
load:
  duration: 4s
  rate: 40
  keys:
    count: 1000000
  targets:
    - path: /kv/{key}
check:
  max_p99_regression: 150%%
`

func TestCheckFlagsSlowedConfigPassesUnchanged(t *testing.T) {
	bin := itBinary(t)
	dir := itDir(t)
	base := writeSpec(t, dir, "base.yaml", fmt.Sprintf(checkSpec, "10ms"))
	slow := writeSpec(t, dir, "slow.yaml", fmt.Sprintf(checkSpec, "200ms"))
	common := []string{"--repeat", "4", "--exporter-listen", "127.0.0.1:0", "-q"}

	// The baseline: a run of the unchanged spec, promoted.
	res := filepath.Join(dir, "base-results")
	code, stdout, stderr := itRun(t, bin, append([]string{"run", base, "--results", res, "--run-dir", filepath.Join(dir, "run-base")}, common...)...)
	if code != 0 {
		t.Fatalf("duckbench run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	_, resultPath := onlyResult(t, res)
	baselines := filepath.Join(dir, "baselines")
	if code, stdout, stderr = itRun(t, bin, "baseline", filepath.Dir(resultPath), "--dir", baselines); code != 0 {
		t.Fatalf("duckbench baseline: exit %d\n%s\n%s", code, stdout, stderr)
	}
	baseline := filepath.Join(baselines, "check-it.json")

	t.Run("slowed", func(t *testing.T) {
		code, stdout, stderr := itRun(t, bin, append([]string{"check", slow, "--baseline", baseline, "--markdown",
			"--results", filepath.Join(dir, "slow-results"), "--run-dir", filepath.Join(dir, "run-slow")}, common...)...)
		t.Logf("stdout:\n%s\nstderr (tail):\n%s", stdout, tail(stderr, 15))
		if code != 1 {
			t.Fatalf("check of the slowed config: exit %d; want 1", code)
		}
		if !strings.Contains(stdout, "REGRESSION") || !strings.Contains(stderr, "regression") {
			t.Errorf("the regression is not named in the Markdown and the error")
		}
	})
	t.Run("unchanged", func(t *testing.T) {
		code, stdout, stderr := itRun(t, bin, append([]string{"check", base, "--baseline", baseline,
			"--results", filepath.Join(dir, "same-results"), "--run-dir", filepath.Join(dir, "run-same")}, common...)...)
		t.Logf("stdout:\n%s\nstderr (tail):\n%s", stdout, tail(stderr, 15))
		if code != 0 {
			t.Fatalf("check of the unchanged config: exit %d; want 0", code)
		}
		if !strings.Contains(stdout, "Comparison against") {
			t.Errorf("stdout lacks the comparison")
		}
	})
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
