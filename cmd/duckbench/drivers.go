package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/appimage"
	"github.com/duckbench/duckbench/compose"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
	"github.com/duckbench/duckbench/swarm"
)

// progress is where drivers write their progress lines (stderr, so that
// stdout stays machine-readable).
var progress io.Writer = os.Stderr

// defaultRunDir is a spec's run directory: .duckbench/<spec name> under the
// working directory.
func defaultRunDir(s *spec.Spec) string { return filepath.Join(".duckbench", s.Name) }

// newDriver returns the stack driver for s as the flags say. f.runtime is
// local, compose, swarm or auto/"" (the spec's runtime, then autoRuntime's
// choice, which is printed with its reason on the progress stream).
// f.observability turns the compose observability profile (Prometheus and
// Grafana provisioned with duckbench's dashboards) on. f.oneTimePassword
// lets a swarm stack that lives only as long as this process (run,
// capacity, check, ab, sweep) get a random Redis password when the spec
// names none (see oneTimeRedisPassword). f.registry is swarm's only.
func newDriver(s *spec.Spec, f stackFlags) (stack.Driver, error) {
	runDir := f.runDir
	if runDir == "" {
		runDir = defaultRunDir(s)
	}
	runtime, err := resolveRuntime(s, f.runtime, runDir)
	if err != nil {
		return nil, err
	}
	if err := f.checkRegistry(runtime); err != nil {
		return nil, err
	}
	switch runtime {
	case stack.RuntimeLocal:
		return stack.NewLocal(s, stack.LocalOptions{RunDir: runDir, Log: progress})
	case stack.RuntimeCompose:
		return compose.New(s, compose.Options{RunDir: runDir, Observability: f.observability, AppImage: appimage.Tag(version)})
	case stack.RuntimeSwarm:
		if s.Redis.PasswordEnv == "" {
			if !f.oneTimePassword {
				return nil, usageErr(fmt.Errorf("--runtime swarm: %w (run, capacity, check, ab and sweep make a one-time password instead)", swarm.ErrNoPassword))
			}
			if err := oneTimeRedisPassword(s); err != nil {
				return nil, err
			}
		}
		return swarm.New(s, swarm.Options{RunDir: runDir, Progress: progress, AppImage: appimage.Tag(version), Registry: f.registry})
	}
	return nil, usageErr(fmt.Errorf("--runtime: unknown runtime %q (want auto, local, compose or swarm)", runtime))
}

// OneTimePasswordEnv is the environment variable (of this process only)
// that holds a one-time Redis password.
const OneTimePasswordEnv = "DUCKBENCH_ONE_TIME_REDIS_PASSWORD"

// oneTimeRedisPassword gives s, whose spec names no redis.password_env, a
// random Redis password for a swarm stack that lives only as long as this
// process: swarm publishes ports on all interfaces, so Redis must require
// one. It lives in this process's environment (the probes read it there; the
// swarm driver makes it the stack's secret) and is never printed or written
// down. One password per process: ab's and sweep's stacks share it.
func oneTimeRedisPassword(s *spec.Spec) error {
	if os.Getenv(OneTimePasswordEnv) == "" {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("one-time redis password: %w", err)
		}
		if err := os.Setenv(OneTimePasswordEnv, hex.EncodeToString(b)); err != nil {
			return fmt.Errorf("one-time redis password: %w", err)
		}
		fmt.Fprintf(progress, "redis: the spec names no password_env and swarm publishes ports on all interfaces, so Redis requires a one-time random password for this run (held by this process only; set redis.password_env to choose your own)\n")
	}
	s.Redis.PasswordEnv = OneTimePasswordEnv
	return nil
}

// resolveRuntime is the runtime a stack of s runs on: runtime, else the
// spec's, else autoRuntime's choice (printed with its reason).
func resolveRuntime(s *spec.Spec, runtime, runDir string) (string, error) {
	if runtime == "" || runtime == "auto" {
		runtime = s.Runtime
	}
	if runtime == "" || runtime == "auto" {
		c, err := autoRuntime(context.Background(), runDir)
		if err != nil {
			return "", depErr(err)
		}
		fmt.Fprintf(progress, "runtime: %s (auto: %s)\n", c.runtime, c.why)
		runtime = c.runtime
	}
	return runtime, nil
}

// runtimeChoice is the runtime auto picked, and why.
type runtimeChoice struct{ runtime, why string }

// localPrograms are what the local runtime runs.
var localPrograms = []string{"haproxy", "redis-server"}

// localInstallHint is how to get localPrograms, per platform.
const localInstallHint = "sudo apt-get install haproxy redis-server (Fedora: sudo dnf install haproxy redis; macOS: brew install haproxy redis), or scripts/deps demo in a duckbench checkout"

// autoRuntime picks the runtime: the one of a stack of this spec that is
// up, else local when its programs are on PATH, else compose when a Docker
// engine answers. With neither it fails naming both ways out.
func autoRuntime(ctx context.Context, runDir string) (runtimeChoice, error) {
	// A stack already up decides: status and down must find it.
	if _, err := os.Stat(filepath.Join(runDir, stack.StateFile)); err == nil {
		return runtimeChoice{stack.RuntimeLocal, "a stack of this spec is up with it, state in " + runDir}, nil
	}
	if _, err := os.Stat(filepath.Join(runDir, compose.StateFile)); err == nil {
		return runtimeChoice{stack.RuntimeCompose, "a stack of this spec is up with it, state in " + runDir}, nil
	}
	if _, err := os.Stat(filepath.Join(runDir, swarm.StateFile)); err == nil {
		return runtimeChoice{stack.RuntimeSwarm, "a stack of this spec is up with it, state in " + runDir}, nil
	}
	var missing []string
	for _, p := range localPrograms {
		if _, err := exec.LookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return runtimeChoice{stack.RuntimeLocal, "haproxy and redis-server are on PATH"}, nil
	}
	notOnPath := strings.Join(missing, " and ") + " not on PATH"
	dockerErr := compose.DockerAvailable(ctx)
	if dockerErr == nil {
		return runtimeChoice{stack.RuntimeCompose, notOnPath + ", and a Docker engine answers; for the local runtime instead: " + localInstallHint}, nil
	}
	return runtimeChoice{}, fmt.Errorf("no runtime can run this stack:\n"+
		"  local runtime:   %s; install them: %s\n"+
		"  compose runtime: %v; install Docker and start its engine: https://docs.docker.com/engine/install/",
		notOnPath, localInstallHint, dockerErr)
}

// stackFlags are the flags every stack command shares.
type stackFlags struct {
	runtime       string
	runDir        string
	observability bool
	// oneTimePassword: the command's stack lives only as long as the
	// process, so swarm may make a one-time Redis password (newDriver).
	oneTimePassword bool
	// registry (--registry HOST:PORT) is where the swarm runtime pushes
	// the stack's and the agents' images for the nodes to pull ("":
	// appimage.RegistryEnv, else copies to the engines it names).
	registry string
}

func (f *stackFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&f.runtime, "runtime", "auto", "stack runtime: auto, local, compose or swarm (swarm: an active swarm on this engine, see the README)")
	c.Flags().StringVar(&f.runDir, "run-dir", "", "run directory (default .duckbench/<spec name>)")
	c.Flags().BoolVar(&f.observability, "observability", false, "compose runtime: also start Prometheus and Grafana provisioned with duckbench's dashboards and rules")
}

// addRegistry adds --registry, for the commands that bring a stack up.
func (f *stackFlags) addRegistry(c *cobra.Command) {
	c.Flags().StringVar(&f.registry, "registry", "", "swarm runtime: push the stack's images (and the agents') to this registry HOST:PORT and pin them to their digests, which every node pulls (default $"+appimage.RegistryEnv+"; none: copied to the engines $"+appimage.EnginesEnv+" names)")
}

// checkRegistry refuses a --registry that is no HOST:PORT, or that is
// given for a stack of another runtime than swarm (usage errors).
func (f *stackFlags) checkRegistry(runtime string) error {
	if f.registry == "" {
		return nil
	}
	if runtime != stack.RuntimeSwarm {
		return usageErr(fmt.Errorf("--registry: the swarm runtime's nodes pull the stack's images from it; needs --runtime swarm (got %q)", runtime))
	}
	if err := appimage.CheckRegistry(f.registry); err != nil {
		return usageErr(fmt.Errorf("--registry: %w", err))
	}
	return nil
}

// loadDriver loads the spec at path and returns its driver.
func (f *stackFlags) loadDriver(path string) (*spec.Spec, stack.Driver, error) {
	s, err := spec.Load(path)
	if err != nil {
		return nil, nil, usageErr(err)
	}
	if f.observability && f.runtime != stack.RuntimeCompose && s.Runtime != stack.RuntimeCompose {
		return nil, nil, usageErr(errors.New("--observability: needs --runtime compose (with the local runtime use duckbench run --prometheus)"))
	}
	d, err := newDriver(s, *f)
	if err != nil {
		return nil, nil, depErr(err) // a bad --runtime keeps its usage code
	}
	return s, d, nil
}
