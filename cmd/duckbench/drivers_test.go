package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/compose"
	"github.com/duckbench/duckbench/spec"
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

// TestOneTimeRedisPassword: on swarm a spec without redis.password_env is
// refused for a stack that outlives the process (up) and gets a random
// password, never printed, for one that does not (run, ab, sweep …).
func TestOneTimeRedisPassword(t *testing.T) {
	t.Setenv(OneTimePasswordEnv, "") // restored afterwards
	var out bytes.Buffer
	old := progress
	progress = &out
	t.Cleanup(func() { progress = old })
	load := func() *spec.Spec {
		s, err := spec.Load("../../examples/seed.yaml")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	s := load()
	if _, err := newDriver(s, stackFlags{runtime: stack.RuntimeSwarm, runDir: t.TempDir()}); !isUsage(err) || !strings.Contains(err.Error(), "password_env") {
		t.Errorf("newDriver(swarm, up) = %v; want a usage error (exit 2) naming password_env", err)
	}
	if s.Redis.PasswordEnv != "" || os.Getenv(OneTimePasswordEnv) != "" {
		t.Errorf("a refused swarm driver set a password (%q)", s.Redis.PasswordEnv)
	}

	if _, err := newDriver(s, stackFlags{runtime: stack.RuntimeSwarm, runDir: t.TempDir(), oneTimePassword: true}); err != nil {
		t.Fatalf("newDriver(swarm, one-time) = %v", err)
	}
	pw := os.Getenv(OneTimePasswordEnv)
	if s.Redis.PasswordEnv != OneTimePasswordEnv || !regexp.MustCompile(`^[0-9a-f]{48}$`).MatchString(pw) {
		t.Errorf("password_env %q, password of %d chars; want %s holding 48 hex digits", s.Redis.PasswordEnv, len(pw), OneTimePasswordEnv)
	}
	if strings.Contains(out.String(), pw) || !strings.Contains(out.String(), "one-time random password") {
		t.Errorf("progress %q: want the one-time password announced, never shown", out.String())
	}
	// A second stack of the same process (ab, sweep) shares it.
	s2 := load()
	if _, err := newDriver(s2, stackFlags{runtime: stack.RuntimeSwarm, runDir: t.TempDir(), oneTimePassword: true}); err != nil || os.Getenv(OneTimePasswordEnv) != pw || s2.Redis.PasswordEnv != OneTimePasswordEnv {
		t.Errorf("second one-time driver: %v, password changed %v", err, os.Getenv(OneTimePasswordEnv) != pw)
	}
	// A spec that names its own keeps it.
	s3 := load()
	s3.Redis.PasswordEnv = "MY_PW"
	if _, err := newDriver(s3, stackFlags{runtime: stack.RuntimeSwarm, runDir: t.TempDir(), oneTimePassword: true}); err != nil || s3.Redis.PasswordEnv != "MY_PW" {
		t.Errorf("spec with its own password_env: %v, now %q; want it kept", err, s3.Redis.PasswordEnv)
	}
}

func isUsage(err error) bool {
	var ee *exitError
	return errors.As(err, &ee) && ee.code == exitUsage
}
