package swarm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/duckbench/duckbench/internal/lines"
	"os/exec"
	"strings"
	"time"

	"github.com/duckbench/duckbench/stack"
)

// namespaceLabel is the label `docker stack deploy` puts on everything of a
// stack (services, task containers, networks, configs); the driver puts it
// on the secret it creates too, so one label finds all of a run.
const namespaceLabel = "com.docker.stack.namespace"

// docker runs the docker CLI with stdin (if any) and returns its output;
// a failure carries the output's tail.
func docker(ctx context.Context, stdin string, args ...string) ([]byte, error) {
	return dockerIn(ctx, "", stdin, args...)
}

func dockerIn(ctx context.Context, dir, stdin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Dir = dir
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return buf.Bytes(), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, lines.Tail(buf.String(), 5))
	}
	return buf.Bytes(), nil
}

// SwarmActive fails with a hint unless the Docker engine is a manager of an
// active swarm (the only place `docker stack deploy` works).
func SwarmActive(ctx context.Context) error {
	if _, err := exec.LookPath("docker"); err != nil {
		return fmt.Errorf("find docker: %w (is the docker CLI installed? apt-get install docker.io)", stack.ErrMissingProgram)
	}
	// One call, with room for a busy engine (docker info can take tens of
	// seconds on a loaded host).
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := docker(ctx, "", "info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}")
	if err != nil {
		return fmt.Errorf("docker engine unreachable (is the Docker daemon running?): %w", err)
	}
	switch f := strings.Fields(string(out)); {
	case len(f) < 2 || f[0] != "active":
		return fmt.Errorf("swarm runtime: this Docker engine is not in a swarm (state %q); start one: docker swarm init --advertise-addr 127.0.0.1 (one node), or see the README's section on real clusters", strings.TrimSpace(string(out)))
	case f[1] != "true":
		return fmt.Errorf("swarm runtime: this node is a swarm worker; run duckbench on a manager node")
	}
	return nil
}

// listByLabel lists the IDs of one kind of object (service, network,
// config, secret) of a stack.
func listByLabel(ctx context.Context, kind, stackName string) ([]string, error) {
	out, err := docker(ctx, "", kind, "ls", "-q", "--filter", "label="+namespaceLabel+"="+stackName)
	if err != nil {
		return nil, fmt.Errorf("list %ss of %q: %w", kind, stackName, err)
	}
	return strings.Fields(string(out)), nil
}

// task is the part of `docker stack ps --format '{{json .}}'` the driver reads.
type task struct {
	ID           string
	Name         string // <stack>_<service>.<slot>
	Node         string
	DesiredState string // Running, Shutdown, …
	CurrentState string // "Running 3 seconds ago", "Starting …", "Failed …"
	Error        string
}

// service is the task's service name (<stack>_<service>).
func (t task) service() string {
	n := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t.Name), `\_`))
	if i := strings.LastIndexByte(n, '.'); i > 0 {
		return n[:i]
	}
	return n
}

func (t task) state() string {
	f := strings.Fields(t.CurrentState)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// tasks lists every task of the stack, current and past.
func tasks(ctx context.Context, stackName string) ([]task, error) {
	out, err := docker(ctx, "", "stack", "ps", "--no-trunc", "--format", "{{json .}}", stackName)
	if err != nil {
		if strings.Contains(strings.ToLower(string(out)), "nothing found in stack") {
			return nil, nil
		}
		return nil, fmt.Errorf("list tasks of %q: %w", stackName, err)
	}
	ts, err := parseTasks(out)
	if err != nil {
		return nil, fmt.Errorf("list tasks of %q: %w", stackName, err)
	}
	return ts, nil
}

// parseTasks reads `docker … ps --format '{{json .}}'` output.
func parseTasks(out []byte) ([]task, error) {
	var ts []task
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l == "" {
			continue
		}
		var t task
		if err := json.Unmarshal([]byte(l), &t); err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// running counts the service's tasks that run (and so passed their health
// check: swarm holds a task in Starting until then).
func running(ts []task, service string) int {
	n := 0
	for _, t := range ts {
		if t.service() == service && t.DesiredState == "Running" && t.state() == "Running" {
			n++
		}
	}
	return n
}

// failed returns a task of the service that ended or could not start,
// leaving out the tasks in skip (by ID).
func failed(ts []task, service string, skip map[string]bool) (task, bool) {
	for _, t := range ts {
		switch t.state() {
		case "Failed", "Rejected", "Complete", "Orphaned":
			if t.service() == service && !skip[t.ID] {
				return t, true
			}
		}
	}
	return task{}, false
}

// engineStartRetries is how many times the wait for a stack starts a
// service again whose container the engine failed to start.
const engineStartRetries = 2

// engineStartFailure tells a task whose container never ran because the
// engine failed to start it ("starting container failed: …"; seen here:
// Docker 20.10's remount of a task's secrets tmpfs read-only racing another
// container's start, EBUSY) from one whose program ran and failed: nothing
// of the benchmark has begun, so starting it again hides no fault of the
// stack's.
func engineStartFailure(t task) bool {
	return t.state() == "Failed" && strings.HasPrefix(strings.Trim(t.Error, `"`), "starting container failed:")
}

// localContainers lists this node's containers of a service in a status
// (running, paused).
func localContainers(ctx context.Context, service, status string) []string {
	out, err := docker(ctx, "", "ps", "-q", "--no-trunc", "--filter", "label=com.docker.swarm.service.name="+service, "--filter", "status="+status)
	if err != nil {
		return nil
	}
	return strings.Fields(string(out))
}

// removeStack removes everything labelled with the stack's namespace:
// `docker stack rm`, then, once the task containers are gone, whatever is
// left (a network still detaching, the secret). It fails if anything
// remains after a minute.
func removeStack(ctx context.Context, name string) error {
	if out, err := docker(ctx, "", "stack", "rm", name); err != nil &&
		!strings.Contains(strings.ToLower(string(out)), "nothing found in stack") {
		return fmt.Errorf("stack rm %q: %w", name, err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		left, err := leftovers(ctx, name)
		if err != nil {
			return err
		}
		if len(left) == 0 {
			return nil
		}
		// Task containers leave on their own; the rest is removed here
		// (networks refuse while a container still detaches: retried).
		for _, kind := range []string{"service", "secret", "config", "network"} {
			if ids := left[kind]; len(ids) > 0 {
				_, _ = docker(ctx, "", append([]string{kind, "rm"}, ids...)...)
			}
		}
		if ids := left["container"]; len(ids) > 0 && len(left["service"]) == 0 {
			// The services are gone: a container still there is stuck.
			_, _ = docker(ctx, "", append([]string{"rm", "-f"}, ids...)...)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("down %q: still left after a minute: %v", name, left)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("down %q: %w", name, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// leftovers lists what of the stack still exists, by kind.
func leftovers(ctx context.Context, name string) (map[string][]string, error) {
	left := map[string][]string{}
	for _, kind := range []string{"service", "secret", "config", "network"} {
		ids, err := listByLabel(ctx, kind, name)
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 {
			left[kind] = ids
		}
	}
	out, err := docker(ctx, "", "ps", "-a", "-q", "--filter", "label="+namespaceLabel+"="+name)
	if err != nil {
		return nil, fmt.Errorf("list containers of %q: %w", name, err)
	}
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		left["container"] = ids
	}
	return left, nil
}

// Leftovers reports what of the stack named name still exists on this
// engine (services, secrets, configs, networks, containers), by kind;
// empty after a complete Down.
func Leftovers(ctx context.Context, name string) (map[string][]string, error) {
	return leftovers(ctx, name)
}

// pausedByService counts this node's paused task containers per service.
func pausedByService(ctx context.Context, stackName string) map[string]int {
	out, err := docker(ctx, "", "ps", "--filter", "label="+namespaceLabel+"="+stackName, "--filter", "status=paused",
		"--format", `{{.Label "com.docker.swarm.service.name"}}`)
	m := map[string]int{}
	if err != nil {
		return m
	}
	for _, svc := range strings.Fields(string(out)) {
		m[svc]++
	}
	return m
}
