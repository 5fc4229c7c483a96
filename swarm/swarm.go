// Package swarm runs a spec's stack on Docker Swarm mode: the stack file is
// rendered from the same compose project as the compose runtime (package
// compose, compose-go types) and deployed with `docker stack deploy`, so
// HAProxy, the apps and the Redis nodes can be placed on different hosts
// of a cluster. It knows nothing about load.
//
// From the host, every service is reached through ports published in host
// mode on the task's node, which duckbench dials on 127.0.0.1; swarm binds
// them on all interfaces, so the runtime requires a Redis password, which
// reaches the tasks as a swarm secret.
package swarm

import (
	"context"
	"errors"
	"fmt"
	"github.com/duckbench/duckbench/internal/lines"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/duckbench/duckbench/appimage"
	"github.com/duckbench/duckbench/compose"
	"github.com/duckbench/duckbench/probes/haproxyprobe"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

// DefaultWaitTimeout bounds the wait for every task to be healthy.
const DefaultWaitTimeout = 3 * time.Minute

// serviceLogsTimeout bounds one `docker service logs` call, which hangs
// while any task of the service sits on an unreachable node.
const serviceLogsTimeout = 20 * time.Second

// StateFile is the driver's state in the run directory, read by status,
// logs, faults and down from another duckbench process.
const StateFile = "swarm-state.json"

// Options configure the swarm driver.
type Options struct {
	// RunDir holds stack.yaml and the rendered configs; also the state the
	// driver keeps between commands.
	RunDir string
	// AppImage is the image of builtin apps whose spec names none (default
	// duckbench:dev; the command passes duckbench:<version>). It must be on
	// every node that runs an app task: no registry is asked.
	AppImage string
	// Binary is the static duckbench binary the app image is built from
	// when it is missing on this node (default: the running executable;
	// see appimage.Ensure).
	Binary string
	// WaitTimeout bounds Up's wait for health (default DefaultWaitTimeout).
	WaitTimeout time.Duration
	// Progress receives the docker commands' output while they run.
	Progress stack.LogWriter
	// Engines are the other nodes' Docker engines, which Up copies the
	// stack's images to when they lack them (nil: appimage.EnginesEnv).
	Engines []appimage.Engine
	// Registry (HOST:PORT; "": appimage.RegistryEnv) replaces the copies:
	// the stack's images are pushed there and the stack file pins them to
	// their digests, which every node pulls.
	Registry string
}

// Driver is the swarm runtime; it implements stack.Driver.
type Driver struct {
	spec  *spec.Spec
	opts  Options
	stack string
}

var _ stack.Driver = (*Driver)(nil)

// New returns the swarm driver for s. It copies s: resolving "auto" ports
// at Up does not change the caller's spec.
func New(s *spec.Spec, opts Options) (stack.Driver, error) {
	c, dir, err := stack.DriverInput(stack.RuntimeSwarm, s, opts.RunDir)
	if err != nil {
		return nil, err
	}
	opts.RunDir = dir
	if opts.WaitTimeout <= 0 {
		opts.WaitTimeout = DefaultWaitTimeout
	}
	return &Driver{spec: c, opts: opts, stack: StackName(s)}, nil
}

// state is what the driver keeps in RunDir/StateFile. It is written before
// anything is created, so Down finds the stack after a crash.
type state struct {
	Stack     string            `json:"stack"`
	StackFile string            `json:"stack_file"`
	StartedAt time.Time         `json:"started_at"`
	Endpoints stack.Endpoints   `json:"endpoints"`
	Kinds     map[string]string `json:"kinds"`
	Replicas  map[string]int    `json:"replicas"`
	// Nodes are the host names of each service's running tasks.
	Nodes map[string][]string `json:"nodes,omitempty"`
}

func (d *Driver) statePath() string { return filepath.Join(d.opts.RunDir, StateFile) }

func (d *Driver) readState() (*state, error) {
	var st state
	if err := stack.ReadStateFile(d.statePath(), &st); err != nil {
		if errors.Is(err, stack.ErrNotUp) {
			return nil, fmt.Errorf("no swarm stack of this spec: %w", err)
		}
		return nil, fmt.Errorf("swarm: %w", err)
	}
	return &st, nil
}

func (d *Driver) writeState(st *state) error { return stack.WriteStateFile(d.statePath(), st) }

// password returns the Redis password from the variable the spec names.
func (d *Driver) password() (string, error) {
	name := d.spec.Redis.PasswordEnv
	if name == "" {
		return "", ErrNoPassword
	}
	pw, ok := os.LookupEnv(name)
	if !ok || pw == "" {
		return "", fmt.Errorf("redis.password_env: environment variable %q is not set", name)
	}
	if strings.ContainsAny(pw, "\"\\\n\r") {
		return "", fmt.Errorf("redis.password_env: the password in %q holds a quote, backslash or newline, which redis.conf cannot hold safely", name)
	}
	return pw, nil
}

// Up renders the stack into RunDir, creates the password secret, deploys
// and waits until every task is healthy and every published port answers
// on 127.0.0.1. On failure or cancellation it removes the stack again.
func (d *Driver) Up(ctx context.Context) (ep stack.Endpoints, err error) {
	pw, err := d.password()
	if err != nil {
		return ep, err
	}
	if err := SwarmActive(ctx); err != nil {
		return ep, err
	}
	if svcs, err := listByLabel(ctx, "service", d.stack); err != nil {
		return ep, err
	} else if len(svcs) > 0 {
		return ep, fmt.Errorf("up %q: %w: swarm stack %q has %d services; run duckbench down first", d.spec.Name, stack.ErrAlreadyUp, d.stack, len(svcs))
	}
	if err := os.MkdirAll(d.opts.RunDir, 0o755); err != nil {
		return ep, fmt.Errorf("create run dir: %w", err)
	}
	// Ports are chosen free on this host: on a one-node swarm that is where
	// every task publishes. On a cluster the tasks publish on their nodes,
	// so a fixed port taken here says nothing.
	nodes := len(readyNodes(ctx))
	if err := stack.ResolvePorts(d.spec, stack.PortOptions{NoCheck: nodes > 1}); err != nil {
		return ep, fmt.Errorf("up %q: %w", d.spec.Name, err)
	}
	if err := spreadFits(d.spec, nodes); err != nil {
		return ep, fmt.Errorf("up %q: %w", d.spec.Name, err)
	}
	y, err := d.render(ctx)
	if err != nil {
		return ep, err
	}
	st := &state{
		Stack:     d.stack,
		StackFile: filepath.Join(d.opts.RunDir, FileName),
		StartedAt: time.Now().UTC(),
		Endpoints: Endpoints(d.spec, d.stack, d.opts.RunDir),
		Kinds:     map[string]string{compose.HAProxyService: "haproxy"},
		Replicas:  map[string]int{compose.HAProxyService: 1},
	}
	for _, n := range d.spec.Redis.Nodes() {
		st.Kinds[n.Name], st.Replicas[n.Name] = "redis", 1
	}
	for _, a := range d.spec.Apps {
		st.Kinds[a.Name], st.Replicas[a.Name] = "app", max(a.Replicas, 1)
	}
	if err := os.WriteFile(st.StackFile, y, 0o644); err != nil {
		return ep, fmt.Errorf("write %s: %w", FileName, err)
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
	if _, err := docker(ctx, pw, "secret", "create", "--label", namespaceLabel+"="+d.stack,
		d.stack+"_"+SecretKey, "-"); err != nil {
		return ep, fmt.Errorf("create the redis password secret: %w", err)
	}
	// No registry is asked: every image must be on the nodes already.
	out, err := dockerIn(ctx, d.opts.RunDir, "", "stack", "deploy", "--resolve-image", "never", "--prune", "-c", FileName, d.stack)
	if d.opts.Progress != nil {
		d.opts.Progress.Write(out)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ep, fmt.Errorf("stack deploy: %w", ctx.Err())
		}
		return ep, fmt.Errorf("stack deploy: %w", err)
	}
	if err := d.waitHealthy(ctx, st); err != nil {
		return ep, err
	}
	return st.Endpoints, nil
}

// spreadFits refuses an app whose replicas its max_replicas_per_node
// cannot place on the swarm's ready nodes: swarm would leave the rest
// pending, and Up would wait its whole time-out for them. nodes 0 (the
// manager did not answer the list) checks nothing.
func spreadFits(s *spec.Spec, nodes int) error {
	if nodes == 0 {
		return nil
	}
	for i, a := range s.Apps {
		if n := max(a.Replicas, 1); a.MaxReplicasPerNode > 0 && n > a.MaxReplicasPerNode*nodes {
			return fmt.Errorf("apps[%d] %s: %d replicas at most %d per node need %d nodes; the swarm has %d ready (lower replicas or raise max_replicas_per_node)",
				i, a.Name, n, a.MaxReplicasPerNode, (n+a.MaxReplicasPerNode-1)/a.MaxReplicasPerNode, nodes)
		}
	}
	return nil
}

// render writes the config files into the run dir, builds a missing app
// image on this node and returns the stack file.
func (d *Driver) render(ctx context.Context) ([]byte, error) {
	files, err := Files(d.spec)
	if err != nil {
		return nil, err
	}
	if err := files.WriteDir(d.opts.RunDir); err != nil {
		return nil, fmt.Errorf("write configs: %w", err)
	}
	if err := compose.EnsureAppImages(ctx, d.spec, d.opts.AppImage, d.opts.Binary, d.opts.Progress); err != nil {
		return nil, err
	}
	imgs, err := d.stackImages()
	if err != nil {
		return nil, err
	}
	ro := RenderOptions{Compose: compose.RenderOptions{AppImage: d.opts.AppImage}}
	if reg := registry(d.opts.Registry); reg != "" {
		if ro.Images, err = pushAll(ctx, reg, imgs, d.opts.Progress); err != nil {
			return nil, err
		}
		return Render(d.spec, ro)
	}
	es, err := engines(d.opts.Engines)
	if err != nil {
		return nil, err
	}
	if err := distribute(ctx, imgs, es, d.opts.Progress); err != nil {
		return nil, err
	}
	return Render(d.spec, ro)
}

// Endpoints are the host-side addresses of s's stack: ports published on
// this node, dialled on 127.0.0.1. A scaled app publishes none (URL "").
func Endpoints(s *spec.Spec, stackName, runDir string) stack.Endpoints {
	ep := compose.Endpoints(s, stackName, runDir)
	ep.Runtime = stack.RuntimeSwarm
	for i, a := range s.Apps {
		if a.Replicas > 1 {
			ep.Apps[i].URL = ""
		}
	}
	return ep
}

// waitHealthy polls the services until each runs all its tasks (swarm
// counts a task with a health check as running only once it is healthy),
// then dials every published port. A task that fails ends the wait at once,
// with its error and logs — but for one whose container the engine failed
// to start (engineStartFailure): that service is started again (docker
// service update --force), at most engineStartRetries times.
func (d *Driver) waitHealthy(ctx context.Context, st *state) error {
	ctx, cancel := context.WithTimeout(ctx, d.opts.WaitTimeout)
	defer cancel()
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	retried := map[string]bool{} // failed tasks whose service was started again
	retries := map[string]int{}  // by service
	for {
		ts, err := tasks(ctx, st.Stack)
		if err != nil && ctx.Err() == nil {
			return err
		}
		var pending []string
		for _, svc := range serviceOrder(st) {
			t, ok := failed(ts, st.Stack+"_"+svc, retried)
			if ok && engineStartFailure(t) && retries[svc] < engineStartRetries {
				retries[svc]++
				retried[t.ID] = true
				if d.opts.Progress != nil {
					fmt.Fprintf(d.opts.Progress, "service %q: the engine could not start task %s (%s); starting it again (%d of %d)\n",
						svc, t.Name, strings.Trim(t.Error, `"`), retries[svc], engineStartRetries)
				}
				if out, err := docker(ctx, "", "service", "update", "--force", "--detach", st.Stack+"_"+svc); err != nil {
					return fmt.Errorf("service %q: start again after %s: %w: %s", svc, strings.Trim(t.Error, `"`), err, out)
				}
				pending = append(pending, svc+" (started again)")
				continue
			}
			if ok {
				lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), serviceLogsTimeout)
				logs, _ := docker(lctx, "", "service", "logs", "--tail", "20", "--no-task-ids", st.Stack+"_"+svc)
				cancel()
				return fmt.Errorf("service %q: task %s %s: %s\n%s", svc, t.Name, t.CurrentState, t.Error, lines.Tail(string(logs), 20))
			}
			if n := running(ts, st.Stack+"_"+svc); n < st.Replicas[svc] {
				pending = append(pending, fmt.Sprintf("%s (%d/%d)", svc, n, st.Replicas[svc]))
			}
		}
		if len(pending) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("wait for healthy services: %s not healthy after %v", strings.Join(pending, ", "), d.opts.WaitTimeout)
			}
			return fmt.Errorf("wait for healthy services: %w", ctx.Err())
		case <-tick.C:
		}
	}
	if err := d.placeEndpoints(ctx, st); err != nil {
		return err
	}
	if err := stack.ProbePublishedPorts(ctx, st.Endpoints); err != nil {
		return err
	}
	return d.waitServersReady(ctx, st)
}

// waitServersReady waits until HAProxy has every app task in service: a
// scaled app's slots fill only once Docker's DNS answers with its tasks
// and their checks pass, after swarm already counts the tasks running.
func (d *Driver) waitServersReady(ctx context.Context, st *state) error {
	want := 0
	for _, b := range d.spec.HAProxy.Backends {
		for _, sv := range b.Servers {
			want += max(st.Replicas[sv.App], 1)
		}
	}
	c := haproxyprobe.NewClient(st.Endpoints.HAProxy.Stats)
	ready := 0
	for {
		rows, err := c.ShowStat(ctx)
		if err == nil {
			ready = 0
			for _, r := range rows {
				if r.Type == haproxyprobe.TypeServer && r.Ready() {
					ready++
				}
			}
			if ready >= want {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for HAProxy's servers: %d of %d ready: %w", ready, want, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
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
	return append(out, compose.HAProxyService)
}

// Status reports each service's tasks, read from the swarm, with the
// endpoints kept in the state file. A service is running when at least one
// task runs, healthy when all its tasks run (and so passed their checks).
func (d *Driver) Status(ctx context.Context) (stack.Status, error) {
	st, err := d.readState()
	if err != nil {
		return stack.Status{}, err
	}
	ts, err := tasks(ctx, st.Stack)
	if err != nil {
		return stack.Status{}, err
	}
	// A paused (stopped) container still counts as running in the swarm
	// until its health check gives up: look at this node's containers.
	paused := pausedByService(ctx, st.Stack)
	out := stack.Status{Endpoints: st.Endpoints, StartedAt: st.StartedAt}
	for _, svc := range serviceOrder(st) {
		n := running(ts, st.Stack+"_"+svc) - paused[st.Stack+"_"+svc]
		out.Services = append(out.Services, stack.ServiceStatus{
			Name:    svc,
			Kind:    st.Kinds[svc],
			Running: n > 0,
			Healthy: n >= st.Replicas[svc],
		})
	}
	return out, nil
}

// Logs writes the services' logs (one service's, or all when service is
// empty) to w, from every node (docker service logs).
func (d *Driver) Logs(ctx context.Context, service string, w stack.LogWriter) error {
	st, err := d.readState()
	if err != nil {
		return err
	}
	svcs := serviceOrder(st)
	if service != "" {
		if _, ok := st.Kinds[service]; !ok {
			return fmt.Errorf("logs: no service %q in swarm stack %q", service, st.Stack)
		}
		svcs = []string{service}
	}
	for _, svc := range svcs {
		// `docker service logs` never returns while a task of the service
		// sits on an unreachable node: bounded, and said.
		sctx, cancel := context.WithTimeout(ctx, serviceLogsTimeout)
		out, err := docker(sctx, "", "service", "logs", "--no-task-ids", "--timestamps", st.Stack+"_"+svc)
		timedOut := sctx.Err() != nil && ctx.Err() == nil
		cancel()
		if timedOut {
			out = fmt.Appendf(out, "(logs of %s: no complete answer in %v: a node of its tasks is unreachable?)\n", svc, serviceLogsTimeout)
		} else if err != nil {
			return fmt.Errorf("logs %q: %w", svc, err)
		}
		if len(svcs) > 1 {
			out = prefixLines(svc, out)
		}
		if _, err := w.Write(out); err != nil {
			return err
		}
	}
	return nil
}

func prefixLines(p string, b []byte) []byte {
	var sb strings.Builder
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if l != "" {
			sb.WriteString(p + " | " + l)
		}
	}
	return []byte(sb.String())
}

// Down removes the stack (services, network, configs) and the secret, and
// only what carries the stack's namespace label. It works from the state
// file alone, or without it from the spec's stack name, and tolerates a
// stack that is already gone.
func (d *Driver) Down(ctx context.Context) error {
	name, recorded := d.stack, false
	if st, err := d.readState(); err == nil {
		name, recorded = st.Stack, true
	} else if !errors.Is(err, stack.ErrNotUp) {
		return err
	}
	if err := SwarmActive(ctx); err != nil {
		if !recorded {
			return nil // no record and no swarm: nothing of this spec can exist
		}
		return err
	}
	if err := removeStack(ctx, name); err != nil {
		return err
	}
	d.reportUnreached(ctx, name)
	if err := os.Remove(d.statePath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove swarm state: %w", err)
	}
	return nil
}

// Fault applies action to one task of service: kill (docker kill; the
// restart policy is none, so it stays down), stop and pause (docker pause:
// the cgroup freezer, like SIGSTOP), cont (docker unpause), restart (a
// forced service update, not waited for: swarm replaces the task, which
// Status shows healthy once its check passes). Kill, stop and cont reach
// tasks on this node only.
func (d *Driver) Fault(ctx context.Context, service string, action spec.FaultAction) error {
	st, err := d.readState()
	if err != nil {
		return err
	}
	if _, ok := st.Kinds[service]; !ok {
		return fmt.Errorf("fault %s: no service %q in swarm stack %q", action, service, st.Stack)
	}
	full := st.Stack + "_" + service
	if action == spec.FaultRestart {
		for _, id := range localContainers(ctx, full, "paused") {
			_, _ = docker(ctx, "", "unpause", id)
		}
		if _, err := docker(ctx, "", "service", "update", "--force", "--quiet", "--detach", full); err != nil {
			return fmt.Errorf("fault restart %q: %w", service, err)
		}
		return nil
	}
	var args []string
	switch action {
	case spec.FaultKill:
		args = []string{"kill"}
	case spec.FaultStop, spec.FaultPause:
		args = []string{"pause"}
	case spec.FaultCont, "unpause":
		args = []string{"unpause"}
	default:
		return fmt.Errorf("fault %q on %q: unknown action (want kill, stop, cont or restart)", action, service)
	}
	status := "running"
	if args[0] == "unpause" {
		status = "paused"
	}
	ids := localContainers(ctx, full, status)
	if len(ids) == 0 {
		return fmt.Errorf("fault %s %q: no %s task of the service on this node (faults other than restart reach this node's tasks only; run duckbench on the task's node)", action, service, status)
	}
	var before int
	if action == spec.FaultKill {
		ts, err := tasks(ctx, st.Stack)
		if err != nil {
			return fmt.Errorf("fault %s %q: %w", action, service, err)
		}
		before = running(ts, full)
	}
	if _, err := docker(ctx, "", append(args, ids[0])...); err != nil {
		return fmt.Errorf("fault %s %q: %w", action, service, err)
	}
	if action == spec.FaultKill {
		return waitTaskGone(ctx, st.Stack, full, before)
	}
	return nil
}

// waitTaskGone waits until the swarm counts fewer than before running
// tasks of service: the manager learns of a killed container a moment
// after it died, and until then Status would call it running.
func waitTaskGone(ctx context.Context, stackName, service string, before int) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		ts, err := tasks(ctx, stackName)
		if err == nil && running(ts, service) < before {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("fault kill %q: the swarm still reports %d running tasks 15s after the kill (%v)", service, before, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
