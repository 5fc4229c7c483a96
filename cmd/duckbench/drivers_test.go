package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/compose"
	"github.com/duckbench/duckbench/stack"
)

// fakeBin puts executables named progs into a fresh directory and makes it
// the whole PATH.
func fakeBin(t *testing.T, progs ...string) {
	t.Helper()
	dir := t.TempDir()
	for _, p := range progs {
		if err := os.WriteFile(filepath.Join(dir, p), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir)
}

func TestAutoRuntime(t *testing.T) {
	t.Run("local programs on PATH", func(t *testing.T) {
		fakeBin(t, "haproxy", "redis-server")
		c, err := autoRuntime(t.Context(), t.TempDir())
		if err != nil || c.runtime != stack.RuntimeLocal || c.why != "haproxy and redis-server are on PATH" {
			t.Errorf("autoRuntime() = %+v, %v; want local because both are on PATH", c, err)
		}
	})
	t.Run("a stack is up", func(t *testing.T) {
		fakeBin(t)
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, compose.StateFile), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := autoRuntime(t.Context(), dir)
		if err != nil || c.runtime != stack.RuntimeCompose || !strings.Contains(c.why, "a stack of this spec is up with it") {
			t.Errorf("autoRuntime() = %+v, %v; want compose because its state file is there", c, err)
		}
	})
	t.Run("neither", func(t *testing.T) {
		fakeBin(t, "redis-server") // no haproxy, no docker
		c, err := autoRuntime(t.Context(), t.TempDir())
		if err == nil {
			t.Fatalf("autoRuntime() = %+v; want an error", c)
		}
		dockerErr := compose.DockerAvailable(t.Context())
		if dockerErr == nil {
			t.Fatal("compose.DockerAvailable() = nil with no docker on PATH")
		}
		want := "no runtime can run this stack:\n" +
			"  local runtime:   haproxy not on PATH; install them: " + localInstallHint + "\n" +
			"  compose runtime: " + dockerErr.Error() + "; install Docker and start its engine: https://docs.docker.com/engine/install/"
		if err.Error() != want {
			t.Errorf("autoRuntime() error =\n%s\nwant\n%s", err, want)
		}
	})
	t.Run("compose when only Docker answers", func(t *testing.T) {
		fakeBin(t, "docker") // a docker whose `info` succeeds
		c, err := autoRuntime(t.Context(), t.TempDir())
		want := "haproxy and redis-server not on PATH, and a Docker engine answers; for the local runtime instead: " + localInstallHint
		if err != nil || c.runtime != stack.RuntimeCompose || c.why != want {
			t.Errorf("autoRuntime() = %+v, %v; want compose because %s", c, err, want)
		}
	})
}
