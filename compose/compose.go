// Package compose renders a spec into a Docker Compose project
// (compose.yaml, built with the compose-go types) and drives it: up, wait,
// status, faults, down. It knows nothing about load.
//
// It runs `docker compose` (the v2 plugin) when present, else the Python
// `docker-compose` v1.29, with duckbench's own health polling. Every port is
// published on 127.0.0.1 only; no container address is ever dialled.
package compose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/duckbench/duckbench/internal/lines"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/duckbench/duckbench/appimage"
	"github.com/duckbench/duckbench/configgen"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

// DefaultWaitTimeout bounds the wait for every service to be healthy.
const DefaultWaitTimeout = 3 * time.Minute

// StateFile is the driver's state in the run directory, read by status,
// logs, faults and down from another duckbench process.
const StateFile = "compose-state.json"

// Options configure the compose driver.
type Options struct {
	// RunDir holds compose.yaml and the rendered configs mounted into the
	// containers; also the state the driver keeps between commands.
	RunDir string
	// AppImage is the image of builtin apps whose spec names none (default
	// duckbench:dev; the command passes duckbench:<version>).
	AppImage string
	// Binary is the static duckbench binary the app image is built from
	// when it is missing (default: the running executable; see
	// appimage.Ensure).
	Binary string
	// WaitTimeout bounds Up's wait for health (default DefaultWaitTimeout).
	WaitTimeout time.Duration
	// Observability also starts the `observability` profile: Prometheus on
	// 127.0.0.1:9090 and Grafana on 127.0.0.1:3000, provisioned with the
	// dashboards and rules. Its images must be present locally.
	Observability bool
	// Progress receives the compose command's output while it runs (nil: kept
	// only for error messages).
	Progress stack.LogWriter
}

// Driver is the compose runtime; it implements stack.Driver.
type Driver struct {
	spec    *spec.Spec
	opts    Options
	project string
}

var _ stack.Driver = (*Driver)(nil)

// New returns the compose driver for s. It copies s: resolving "auto"
// ports at Up does not change the caller's spec.
func New(s *spec.Spec, opts Options) (stack.Driver, error) {
	c, dir, err := stack.DriverInput(stack.RuntimeCompose, s, opts.RunDir)
	if err != nil {
		return nil, err
	}
	opts.RunDir = dir
	if opts.WaitTimeout <= 0 {
		opts.WaitTimeout = DefaultWaitTimeout
	}
	return &Driver{spec: c, opts: opts, project: ProjectName(s)}, nil
}

// state is what the driver keeps in RunDir/StateFile.
type state struct {
	Project     string            `json:"project"`
	ComposeFile string            `json:"compose_file"`
	Plugin      bool              `json:"plugin"`
	StartedAt   time.Time         `json:"started_at"`
	Endpoints   stack.Endpoints   `json:"endpoints"`
	Kinds       map[string]string `json:"kinds"`
	Profiles    []string          `json:"profiles,omitempty"`
}

func (d *Driver) statePath() string   { return filepath.Join(d.opts.RunDir, StateFile) }
func (d *Driver) composePath() string { return filepath.Join(d.opts.RunDir, FileName) }

func (d *Driver) readState() (*state, error) {
	var st state
	if err := stack.ReadStateFile(d.statePath(), &st); err != nil {
		if errors.Is(err, stack.ErrNotUp) {
			return nil, fmt.Errorf("no compose stack of this spec: %w", err)
		}
		return nil, fmt.Errorf("compose: %w", err)
	}
	return &st, nil
}

func (d *Driver) writeState(st *state) error { return stack.WriteStateFile(d.statePath(), st) }

// Up renders the project into RunDir, starts it and waits until every
// service is healthy. On failure or cancellation it takes the project down.
func (d *Driver) Up(ctx context.Context) (ep stack.Endpoints, err error) {
	if err := checkSecrets(d.spec); err != nil {
		return ep, err
	}
	if err := DockerAvailable(ctx); err != nil {
		return ep, err
	}
	if err := os.MkdirAll(d.opts.RunDir, 0o755); err != nil {
		return ep, fmt.Errorf("create run dir: %w", err)
	}
	if cs, err := containers(ctx, d.project); err != nil {
		return ep, err
	} else if len(cs) > 0 {
		return ep, fmt.Errorf("up %q: %w: compose project %q has %d containers; run duckbench down first", d.spec.Name, stack.ErrAlreadyUp, d.project, len(cs))
	}
	if err := stack.ResolvePorts(d.spec, stack.PortOptions{}); err != nil {
		return ep, fmt.Errorf("up %q: %w", d.spec.Name, err)
	}
	files, err := configgen.Render(d.spec, configgen.Target{Runtime: stack.RuntimeCompose})
	if err != nil {
		return ep, err
	}
	if err := files.WriteDir(d.opts.RunDir); err != nil {
		return ep, fmt.Errorf("write configs: %w", err)
	}
	if d.opts.Observability {
		if err := WriteObservability(d.opts.RunDir); err != nil {
			return ep, err
		}
	}
	if err := EnsureAppImages(ctx, d.spec, d.opts.AppImage, d.opts.Binary, d.opts.Progress); err != nil {
		return ep, err
	}
	y, err := Render(d.spec, RenderOptions{AppImage: d.opts.AppImage, Observability: d.opts.Observability})
	if err != nil {
		return ep, err
	}
	if err := os.WriteFile(d.composePath(), y, 0o644); err != nil {
		return ep, fmt.Errorf("write %s: %w", FileName, err)
	}
	st := &state{
		Project:     d.project,
		ComposeFile: d.composePath(),
		Plugin:      hasPlugin(ctx),
		StartedAt:   time.Now().UTC(),
		Endpoints:   Endpoints(d.spec, d.project, d.opts.RunDir),
		Kinds:       kinds(d.spec),
	}
	if d.opts.Observability {
		st.Profiles = []string{ObservabilityProfile}
		st.Kinds["prometheus"], st.Kinds["grafana"] = "prometheus", "grafana"
	}
	// State first: `duckbench down` must work even if this process dies now.
	if err := d.writeState(st); err != nil {
		return ep, err
	}
	defer func() {
		if err != nil {
			downCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			defer cancel()
			if derr := d.Down(downCtx); derr != nil {
				err = fmt.Errorf("%w (and rolling back: %v)", err, derr)
			}
		}
	}()
	args := []string{"up", "-d"}
	if st.Plugin {
		args = append(args, "--wait")
	}
	if _, err := d.run(ctx, st, d.opts.Progress, args...); err != nil {
		if ctx.Err() != nil {
			return ep, fmt.Errorf("compose up: %w", ctx.Err())
		}
		return ep, fmt.Errorf("compose up: %w", err)
	}
	if err := d.waitHealthy(ctx, st); err != nil {
		return ep, err
	}
	return st.Endpoints, nil
}

// EnsureAppImages makes sure the image of every builtin app of s exists on
// this engine (the app's image, else defaultImage, else appimage.Tag("")),
// building a missing duckbench:<version> from binary ("": the running
// executable; see appimage.Ensure). Both Docker runtimes call it.
func EnsureAppImages(ctx context.Context, s *spec.Spec, defaultImage, binary string, log stack.LogWriter) error {
	seen := map[string]bool{}
	for _, a := range s.Apps {
		if or(a.Kind, spec.AppBuiltin) != spec.AppBuiltin {
			continue
		}
		img := or(a.Image, or(defaultImage, appimage.Tag("")))
		if seen[img] {
			continue
		}
		seen[img] = true
		if err := appimage.Ensure(ctx, img, binary, log); err != nil {
			return err
		}
	}
	return nil
}

// checkSecrets fails when a password variable the compose file passes
// through is unset, or holds what the redis entrypoint cannot quote.
func checkSecrets(s *spec.Spec) error {
	if name := s.Redis.PasswordEnv; name != "" {
		pw, ok := os.LookupEnv(name)
		if !ok || pw == "" {
			return fmt.Errorf("redis.password_env: environment variable %q is not set", name)
		}
		if strings.ContainsAny(pw, "\"\\\n\r") {
			return fmt.Errorf("redis.password_env: the password in %q holds a quote, backslash or newline, which the compose runtime cannot pass to redis-server safely", name)
		}
	}
	if sp := s.HAProxy.StatsPage; sp.Enabled && sp.PasswordEnv != "" {
		if pw, ok := os.LookupEnv(sp.PasswordEnv); !ok || pw == "" {
			return fmt.Errorf("haproxy.stats_page.password_env: environment variable %q is not set", sp.PasswordEnv)
		}
	}
	return nil
}

// Endpoints are the host-side addresses of s's stack: every one a port
// published on 127.0.0.1.
func Endpoints(s *spec.Spec, project, runDir string) stack.Endpoints {
	loop := func(p int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)) }
	ep := stack.Endpoints{
		Runtime: stack.RuntimeCompose,
		Project: project,
		RunDir:  runDir,
		HAProxy: stack.HAProxyEndpoint{
			URL:   "http://" + loop(int(s.HAProxy.Port)),
			Stats: loop(portOr(s.HAProxy.StatsSocket.Port, spec.DefaultStatsPort)),
		},
	}
	if !s.HAProxy.Prometheus.Disabled {
		ep.HAProxy.Prometheus = "http://" + loop(portOr(s.HAProxy.Prometheus.Port, spec.DefaultPromPort)) + "/metrics"
	}
	for _, n := range s.Redis.Nodes() {
		ep.Redis = append(ep.Redis, stack.RedisEndpoint{Name: n.Name, Role: n.Role, Addr: loop(int(n.Port))})
	}
	for _, a := range s.Apps {
		ep.Apps = append(ep.Apps, stack.AppEndpoint{Name: a.Name, URL: "http://" + loop(int(a.Port))})
	}
	return ep
}

func kinds(s *spec.Spec) map[string]string {
	k := map[string]string{HAProxyService: "haproxy"}
	for _, n := range s.Redis.Nodes() {
		k[n.Name] = "redis"
	}
	for _, a := range s.Apps {
		k[a.Name] = "app"
	}
	return k
}

// DockerAvailable fails with a hint when no Docker engine answers.
func DockerAvailable(ctx context.Context) error {
	if _, err := exec.LookPath("docker"); err != nil {
		return fmt.Errorf("find docker: %w (is the docker CLI installed? apt-get install docker.io)", stack.ErrMissingProgram)
	}
	// A stopped daemon fails at once; the wait is for one that is busy
	// (a loaded CI box took over 15s to answer docker info).
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker engine unreachable: %s (is the Docker daemon running?)", lastLine(out, err))
	}
	return nil
}

func hasPlugin(ctx context.Context) bool {
	if os.Getenv("DUCKBENCH_COMPOSE_V1") == "1" {
		return false
	}
	return exec.CommandContext(ctx, "docker", "compose", "version").Run() == nil
}

func lastLine(out []byte, err error) string {
	s := strings.TrimSpace(string(out))
	if s == "" {
		return err.Error()
	}
	lines := strings.Split(s, "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// run runs a compose command on the project. Its output goes to w (if any)
// and is returned; a failure carries the output's tail.
func (d *Driver) run(ctx context.Context, st *state, w stack.LogWriter, args ...string) ([]byte, error) {
	var name string
	var full []string
	if st.Plugin {
		name, full = "docker", []string{"compose"}
	} else {
		if _, err := exec.LookPath("docker-compose"); err != nil {
			return nil, fmt.Errorf("find docker compose: %w (neither the docker compose plugin nor docker-compose is installed; apt-get install docker-compose)", stack.ErrMissingProgram)
		}
		name = "docker-compose"
	}
	full = append(full, "-p", st.Project, "-f", st.ComposeFile)
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, name, full...)
	cmd.Dir = filepath.Dir(st.ComposeFile)
	if len(st.Profiles) > 0 {
		// Both Compose versions read it (v1 since 1.28).
		cmd.Env = append(os.Environ(), "COMPOSE_PROFILES="+strings.Join(st.Profiles, ","))
	}
	var buf bytes.Buffer
	if w != nil {
		cmd.Stdout = io2(&buf, w)
		cmd.Stderr = cmd.Stdout
	} else {
		cmd.Stdout, cmd.Stderr = &buf, &buf
	}
	err := cmd.Run()
	if err != nil {
		return buf.Bytes(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(full, " "), err, lines.Tail(buf.String(), 10))
	}
	return buf.Bytes(), nil
}

type multiWriter []stack.LogWriter

func (m multiWriter) Write(p []byte) (int, error) {
	for _, w := range m {
		if _, err := w.Write(p); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func io2(a, b stack.LogWriter) multiWriter { return multiWriter{a, b} }

// container is the part of `docker inspect` the driver reads.
type container struct {
	ID     string `json:"Id"`
	Name   string
	Config struct {
		Labels map[string]string
	}
	State struct {
		Status   string
		Running  bool
		Paused   bool
		Pid      int
		ExitCode int
		Health   *struct {
			Status string
		}
	}
}

func (c container) service() string { return c.Config.Labels["com.docker.compose.service"] }

func (c container) healthy() bool {
	return c.State.Running && !c.State.Paused && (c.State.Health == nil || c.State.Health.Status == "healthy")
}

// containers lists the project's containers (running or not), found by
// the compose project label both Compose versions set.
func containers(ctx context.Context, project string) ([]container, error) {
	out, err := exec.CommandContext(ctx, "docker", "ps", "-a", "-q", "--no-trunc",
		"--filter", "label=com.docker.compose.project="+project).Output()
	if err != nil {
		return nil, fmt.Errorf("list containers of %q: %w (is the Docker daemon running?)", project, err)
	}
	ids := strings.Fields(string(out))
	if len(ids) == 0 {
		return nil, nil
	}
	out, err = exec.CommandContext(ctx, "docker", append([]string{"inspect"}, ids...)...).Output()
	if err != nil {
		// A container removed between ps and inspect: try again once.
		out, err = exec.CommandContext(ctx, "docker", append([]string{"inspect"}, ids...)...).Output()
		if err != nil {
			return nil, fmt.Errorf("inspect containers of %q: %w", project, err)
		}
	}
	var cs []container
	if err := json.Unmarshal(out, &cs); err != nil {
		return nil, fmt.Errorf("inspect containers of %q: %w", project, err)
	}
	return cs, nil
}

// waitHealthy polls the containers' health (set by the compose file's
// healthchecks), then checks that every published port answers on
// 127.0.0.1. A container that exits fails the wait at once, with its logs.
func (d *Driver) waitHealthy(ctx context.Context, st *state) error {
	ctx, cancel := context.WithTimeout(ctx, d.opts.WaitTimeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var pending []string
	for {
		cs, err := containers(ctx, st.Project)
		if err != nil && ctx.Err() == nil {
			return err
		}
		byName := map[string]container{}
		for _, c := range cs {
			byName[c.service()] = c
		}
		pending = pending[:0]
		for svc := range st.Kinds {
			c, ok := byName[svc]
			switch {
			case !ok:
				pending = append(pending, svc+" (not created)")
			case !c.State.Running && c.State.Status != "restarting" && c.State.Status != "created":
				logs, _ := d.run(context.WithoutCancel(ctx), st, nil, "logs", "--no-color", "--tail", "20", svc)
				return fmt.Errorf("service %q exited (code %d): %s", svc, c.State.ExitCode, lines.Tail(string(logs), 20))
			case !c.healthy():
				pending = append(pending, svc)
			}
		}
		if len(pending) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("wait for healthy services: %s not healthy after %v", strings.Join(sorted(pending), ", "), d.opts.WaitTimeout)
			}
			return fmt.Errorf("wait for healthy services: %w", ctx.Err())
		case <-tick.C:
		}
	}
	return stack.ProbePublishedPorts(ctx, st.Endpoints)
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Status reports the project's containers, read from Docker, with the
// endpoints kept in the state file.
func (d *Driver) Status(ctx context.Context) (stack.Status, error) {
	st, err := d.readState()
	if err != nil {
		return stack.Status{}, err
	}
	cs, err := containers(ctx, st.Project)
	if err != nil {
		return stack.Status{}, err
	}
	byName := map[string]container{}
	for _, c := range cs {
		byName[c.service()] = c
	}
	out := stack.Status{Endpoints: st.Endpoints, StartedAt: st.StartedAt}
	for _, svc := range serviceOrder(st) {
		c := byName[svc]
		out.Services = append(out.Services, stack.ServiceStatus{
			Name:    svc,
			Kind:    st.Kinds[svc],
			PID:     c.State.Pid,
			Running: c.State.Running && !c.State.Paused,
			Healthy: c.healthy(),
		})
	}
	return out, nil
}

// serviceOrder is start order: redis nodes, apps, haproxy.
func serviceOrder(st *state) []string {
	var out []string
	for _, r := range st.Endpoints.Redis {
		out = append(out, r.Name)
	}
	for _, a := range st.Endpoints.Apps {
		out = append(out, a.Name)
	}
	out = append(out, HAProxyService)
	for _, svc := range []string{"prometheus", "grafana"} {
		if _, ok := st.Kinds[svc]; ok {
			out = append(out, svc)
		}
	}
	return out
}

// Down removes the project's containers, networks and volumes, and only
// those. It works from the state file alone and tolerates a stack that is
// already gone.
func (d *Driver) Down(ctx context.Context) error {
	st, err := d.readState()
	if errors.Is(err, stack.ErrNotUp) {
		st = &state{Project: d.project, ComposeFile: d.composePath(), Plugin: hasPlugin(ctx)}
	} else if err != nil {
		return err
	}
	if err := DockerAvailable(ctx); err != nil {
		return err
	}
	var downErr error
	if _, serr := os.Stat(st.ComposeFile); serr == nil {
		_, downErr = d.run(ctx, st, nil, "down", "-v", "--remove-orphans", "-t", "5")
	}
	// Whatever compose did, remove what is left by label, so a crashed run
	// or a lost compose file leaves nothing behind.
	if err := removeByLabel(ctx, st.Project); err != nil {
		return errors.Join(downErr, err)
	}
	if err := os.Remove(d.statePath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove compose state: %w", err)
	}
	return nil
}

func removeByLabel(ctx context.Context, project string) error {
	filter := "label=com.docker.compose.project=" + project
	out, err := exec.CommandContext(ctx, "docker", "ps", "-a", "-q", "--filter", filter).Output()
	if err != nil {
		return fmt.Errorf("list containers of %q: %w", project, err)
	}
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		if out, err := exec.CommandContext(ctx, "docker", append([]string{"rm", "-f", "-v"}, ids...)...).CombinedOutput(); err != nil {
			return fmt.Errorf("remove containers of %q: %w: %s", project, err, lines.Tail(string(out), 3))
		}
	}
	for _, kind := range []string{"network", "volume"} {
		out, err := exec.CommandContext(ctx, "docker", kind, "ls", "-q", "--filter", filter).Output()
		if err != nil {
			return fmt.Errorf("list %ss of %q: %w", kind, project, err)
		}
		if ids := strings.Fields(string(out)); len(ids) > 0 {
			if out, err := exec.CommandContext(ctx, "docker", append([]string{kind, "rm"}, ids...)...).CombinedOutput(); err != nil {
				return fmt.Errorf("remove %ss of %q: %w: %s", kind, project, err, lines.Tail(string(out), 3))
			}
		}
	}
	return nil
}

// Fault applies action to service's container: kill (docker kill), stop
// and pause (docker pause: the cgroup freezer, like SIGSTOP), cont and
// unpause (docker unpause), restart (docker restart, or start after kill).
func (d *Driver) Fault(ctx context.Context, service string, action spec.FaultAction) error {
	st, err := d.readState()
	if err != nil {
		return err
	}
	if _, ok := st.Kinds[service]; !ok {
		return fmt.Errorf("fault %s: no service %q in project %q", action, service, st.Project)
	}
	cs, err := containers(ctx, st.Project)
	if err != nil {
		return err
	}
	var c *container
	for i := range cs {
		if cs[i].service() == service {
			c = &cs[i]
		}
	}
	if c == nil {
		return fmt.Errorf("fault %s: no container for service %q", action, service)
	}
	var args []string
	switch action {
	case spec.FaultKill:
		args = []string{"kill", c.ID}
	case spec.FaultStop, spec.FaultPause:
		args = []string{"pause", c.ID}
	case spec.FaultCont, "unpause":
		args = []string{"unpause", c.ID}
	case spec.FaultRestart:
		if c.State.Paused {
			if out, err := exec.CommandContext(ctx, "docker", "unpause", c.ID).CombinedOutput(); err != nil {
				return fmt.Errorf("fault restart %q: unpause: %w: %s", service, err, lines.Tail(string(out), 3))
			}
		}
		args = []string{"restart", "-t", "2", c.ID}
	default:
		return fmt.Errorf("fault %q on %q: unknown action (want kill, stop, cont or restart)", action, service)
	}
	if out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("fault %s %q: docker %s: %w: %s", action, service, args[0], err, lines.Tail(string(out), 3))
	}
	return nil
}

// Logs writes the project's logs (one service's, or all when service is
// empty) to w.
func (d *Driver) Logs(ctx context.Context, service string, w stack.LogWriter) error {
	st, err := d.readState()
	if err != nil {
		return err
	}
	args := []string{"logs", "--no-color"}
	if service != "" {
		if _, ok := st.Kinds[service]; !ok {
			return fmt.Errorf("logs: no service %q in project %q", service, st.Project)
		}
		args = append(args, service)
	}
	cmdArgs := append([]string{}, args...)
	_, err = d.run(ctx, st, w, cmdArgs...)
	return err
}
