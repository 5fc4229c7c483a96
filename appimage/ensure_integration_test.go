//go:build integration

package appimage

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/testenv"
)

// staticBinary builds a tiny static Linux program that prints msg.
func staticBinary(t *testing.T, msg string) string {
	t.Helper()
	dir := t.TempDir()
	src := fmt.Sprintf("package main\n\nfunc main() { println(%q) }\n", msg)
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module tiny\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "tiny")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestEnsureRebuildsStaleDevImage: a development tag built from another
// binary is rebuilt from this one (a stale duckbench:dev lacked the agent
// command); the same binary is not rebuilt; a version tag is kept as it is.
func TestEnsureRebuildsStaleDevImage(t *testing.T) {
	testenv.RequireBinary(t, "docker", "docker.io")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	suffix := fmt.Sprint(time.Now().UnixNano())
	dev, rel := Repository+":dev-ensure-"+suffix, Repository+":0.0.0-ensure-"+suffix
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", dev, rel).Run() })
	a, b := staticBinary(t, "a"), staticBinary(t, "b")

	var log strings.Builder
	for _, tag := range []string{dev, rel} {
		if err := Ensure(ctx, tag, a, &log); err != nil {
			t.Fatalf("Ensure(%s, a) = %v", tag, err)
		}
	}
	idA := label(ctx, dev, BinaryLabel)
	if idA == "" || label(ctx, rel, BinaryLabel) != idA {
		t.Fatalf("images built from a carry labels %q and %q; want the same, non-empty", idA, label(ctx, rel, BinaryLabel))
	}
	log.Reset()
	if err := Ensure(ctx, dev, b, &log); err != nil {
		t.Fatalf("Ensure(dev, b) = %v", err)
	}
	idB := label(ctx, dev, BinaryLabel)
	if idB == idA || !strings.Contains(log.String(), "rebuilt it") {
		t.Errorf("dev image after Ensure from b: label %q (was %q), log %q; want it rebuilt from b", idB, idA, log.String())
	}
	log.Reset()
	if err := Ensure(ctx, dev, b, &log); err != nil || log.Len() != 0 || label(ctx, dev, BinaryLabel) != idB {
		t.Errorf("Ensure(dev, b) again = %v, log %q; want nothing done", err, log.String())
	}
	if err := Ensure(ctx, rel, b, &log); err != nil || label(ctx, rel, BinaryLabel) != idA {
		t.Errorf("Ensure(%s, b) = %v, label %q; want the version's image kept (%q)", rel, err, label(ctx, rel, BinaryLabel), idA)
	}
}
