package main

import (
	"strings"
	"testing"
)

func TestABBadUsage(t *testing.T) {
	p := writeSpec(t, t.TempDir(), "other.yaml", otherSpec)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"one spec without --aa", []string{p}, "ab needs OLD.yaml and NEW.yaml"},
		{"two specs with --aa", []string{p, p, "--aa"}, "--aa takes one SPEC"},
		{"no rounds", []string{p, p, "--rounds", "0"}, "--rounds: must be >= 1"},
		{"json and markdown", []string{p, p, "--json", "--markdown"}, "exclude each other"},
		{"bad rate", []string{p, p, "--rate", "fast"}, "--rate: must be a positive number"},
		{"bad alpha", []string{p, p, "--alpha", "1.5"}, "--alpha: must be between 0 and 1"},
		{"missing spec", []string{p, "nope.yaml"}, "nope.yaml"},
		// Accepted and ignored until it was refused: every run has a fresh stack.
		{"observability", []string{p, p, "--observability"}, "--observability: not with ab"},
		{"observability on compose", []string{p, p, "--runtime", "compose", "--observability"}, "--observability: not with ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"ab", "--run-dir", t.TempDir(), "--results", t.TempDir()}, tt.args...)
			code, _, stderr := captureRun(t, args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("duckbench %v: exit %d, stderr %q; want exit %d with %q", args, code, stderr, exitUsage, tt.want)
			}
		})
	}
}
