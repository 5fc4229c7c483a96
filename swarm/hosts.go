package swarm

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/duckbench/duckbench/agents"
	"github.com/duckbench/duckbench/appimage"
	"github.com/duckbench/duckbench/compose"
	"github.com/duckbench/duckbench/results"
)

// engines are the other nodes' engines: the given ones, else those
// appimage.EnginesEnv names (an error there is reported at Up).
func engines(given []appimage.Engine) ([]appimage.Engine, error) {
	if given != nil {
		return given, nil
	}
	return appimage.ParseEngines(os.Getenv(appimage.EnginesEnv))
}

// distribute copies the images that this engine has
// to every engine that lacks them and says what it copied where. Images
// this engine lacks are left to the nodes (a registry's pull).
func distribute(ctx context.Context, images []string, es []appimage.Engine, log io.Writer) error {
	if len(es) == 0 || len(images) == 0 {
		return nil
	}
	var local []string
	for _, img := range images {
		if appimage.Exists(ctx, img) {
			local = append(local, img)
		}
	}
	cs, err := appimage.Distribute(ctx, local, es, nil)
	if log != nil {
		for _, l := range strings.SplitAfter(appimage.CopiesText(cs), "\n") {
			if l != "" {
				io.WriteString(log, "swarm: "+l)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("distribute images to the swarm's nodes: %w", err)
	}
	return nil
}

// registry is the registry the driver pushes to (Options.Registry, else
// appimage.RegistryEnv; "" for none).
func registry(given string) string {
	if given != "" {
		return given
	}
	return os.Getenv(appimage.RegistryEnv)
}

// pushAll pushes the images this engine has to reg and returns the
// references the stack file uses instead (pinned to their digests).
func pushAll(ctx context.Context, reg string, images []string, log io.Writer) (map[string]string, error) {
	m := map[string]string{}
	for _, img := range images {
		if !appimage.Exists(ctx, img) {
			continue
		}
		var w io.Writer
		if log != nil {
			w = prefixWriter{log}
		}
		ref, err := appimage.Push(ctx, reg, img, w)
		if err != nil {
			return nil, fmt.Errorf("push the stack's images to %s: %w", reg, err)
		}
		m[img] = ref
	}
	return m, nil
}

type prefixWriter struct{ w io.Writer }

func (p prefixWriter) Write(b []byte) (int, error) {
	_, err := io.WriteString(p.w, "swarm: "+string(b))
	return len(b), err
}

// stackImages lists the images of the rendered project's services.
func (d *Driver) stackImages() ([]string, error) {
	p, err := Project(d.spec, RenderOptions{Compose: compose.RenderOptions{AppImage: d.opts.AppImage}})
	if err != nil {
		return nil, err
	}
	var imgs []string
	for _, svc := range p.Services {
		img := svc.Image
		if img == "" || slices.Contains(imgs, img) {
			continue
		}
		imgs = append(imgs, img)
	}
	slices.Sort(imgs)
	return imgs, nil
}

// nodeAddrs maps every node's host name to the address its host-mode
// ports answer at (its swarm address; 127.0.0.1 when it has none).
func nodeAddrs(ctx context.Context) (map[string]string, error) {
	ids, err := docker(ctx, "", "node", "ls", "-q")
	if err != nil {
		return nil, fmt.Errorf("list swarm nodes: %w", err)
	}
	out, err := docker(ctx, "", append([]string{"node", "inspect", "--format", "{{.Description.Hostname}} {{.Status.Addr}}"}, strings.Fields(string(ids))...)...)
	if err != nil {
		return nil, fmt.Errorf("inspect swarm nodes: %w", err)
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			continue
		}
		addr := f[1]
		if addr == "" || addr == "0.0.0.0" {
			addr = "127.0.0.1"
		}
		m[f[0]] = addr
	}
	return m, nil
}

// placeEndpoints records the node of every service's running task and
// points each published endpoint at that node's address: on a cluster a
// host-mode port answers on the task's node only.
func (d *Driver) placeEndpoints(ctx context.Context, st *state) error {
	ts, err := tasks(ctx, st.Stack)
	if err != nil {
		return err
	}
	addrs, err := nodeAddrs(ctx)
	if err != nil {
		return err
	}
	st.Nodes = map[string][]string{}
	for _, t := range ts {
		if t.DesiredState != "Running" || t.state() != "Running" {
			continue
		}
		svc := strings.TrimPrefix(t.service(), st.Stack+"_")
		st.Nodes[svc] = append(st.Nodes[svc], t.Node)
	}
	host := func(svc string) string {
		if ns := st.Nodes[svc]; len(ns) == 1 && addrs[ns[0]] != "" {
			return addrs[ns[0]]
		}
		return "127.0.0.1"
	}
	ep := &st.Endpoints
	ep.Placement = st.Nodes
	h := host("haproxy")
	ep.HAProxy.URL, ep.HAProxy.Stats, ep.HAProxy.Prometheus = rehost(ep.HAProxy.URL, h), rehost(ep.HAProxy.Stats, h), rehost(ep.HAProxy.Prometheus, h)
	for i, r := range ep.Redis {
		ep.Redis[i].Addr = rehost(r.Addr, host(r.Name))
	}
	for i, a := range ep.Apps {
		ep.Apps[i].URL = rehost(a.URL, host(a.Name))
	}
	if d.opts.Progress != nil {
		var parts []string
		for _, svc := range serviceOrder(st) {
			parts = append(parts, svc+"@"+strings.Join(st.Nodes[svc], "+"))
		}
		fmt.Fprintf(d.opts.Progress, "swarm: placed %s\n", strings.Join(parts, " "))
	}
	return d.writeState(st)
}

// rehost replaces the loopback address in an endpoint by host.
func rehost(s, host string) string { return strings.Replace(s, "127.0.0.1", host, 1) }

// Placement is where each service's running tasks were when the stack
// came up: service → node host names.
func (d *Driver) Placement() (map[string][]string, error) {
	st, err := d.readState()
	if err != nil {
		return nil, err
	}
	return st.Nodes, nil
}

// readyNodes lists the host names of the nodes that can take tasks.
func readyNodes(ctx context.Context) []string {
	out, err := docker(ctx, "", "node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.Availability}}")
	if err != nil {
		return nil
	}
	var ns []string
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[1] == "Ready" && f[2] == "Active" {
			ns = append(ns, f[0])
		}
	}
	return ns
}

// placement spreads the agents over the nodes, as few per node as the
// nodes allow, and keeps them off HAProxy's node (the system under test)
// when the other nodes can take them one each, unless ShareSUT. It returns
// the service options and a phrase for the user.
func (f *Fleet) placement(ctx context.Context, st *state) ([]string, string) {
	nodes := readyNodes(ctx)
	if len(nodes) <= 1 {
		return nil, "one node"
	}
	sut := ""
	if ns := st.Nodes["haproxy"]; len(ns) == 1 {
		sut = ns[0]
	}
	args := []string{"--placement-pref", "spread=node.id"}
	avail := len(nodes)
	where := fmt.Sprintf("spread over %d nodes", avail)
	if sut != "" && !f.ShareSUT && len(nodes)-1 >= f.Agents {
		args = append(args, "--constraint", "node.hostname!="+sut)
		avail--
		where = fmt.Sprintf("spread over %d nodes, none on HAProxy's node %s", avail, sut)
	} else if sut != "" {
		where += fmt.Sprintf(", HAProxy's node %s included", sut)
	}
	per := (f.Agents + avail - 1) / avail
	return append(args, "--replicas-max-per-node", fmt.Sprint(per)), where
}

// serveClock starts the coordinator's clock for the agents (agents.
// ServeClock) on this host's address toward the swarm's manager and
// returns it; "" when that address is a loopback one (a one-node swarm on
// this host: one clock, nothing to measure).
func (f *Fleet) serveClock(ctx context.Context) (string, error) {
	out, err := docker(ctx, "", "info", "--format", "{{.Swarm.NodeAddr}}")
	mgr := strings.TrimSpace(string(out))
	if err != nil || mgr == "" {
		return "", nil
	}
	probe, err := net.Dial("udp", net.JoinHostPort(mgr, "9"))
	if err != nil {
		return "", nil
	}
	local := probe.LocalAddr().(*net.UDPAddr).IP
	probe.Close()
	if local.IsLoopback() {
		return "", nil
	}
	conn, err := net.ListenPacket("udp", net.JoinHostPort(local.String(), "0"))
	if err != nil {
		return "", fmt.Errorf("agents' clock: %w", err)
	}
	go agents.ServeClock(ctx, conn)
	f.logf("agents measure their clocks against %s", conn.LocalAddr())
	return conn.LocalAddr().String(), nil
}

// downNodes maps the host names of the nodes the manager cannot reach to
// their state (down, unknown, disconnected).
func downNodes(ctx context.Context) map[string]string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := docker(ctx, "", "node", "ls", "--format", "{{.Hostname}} {{.Status}}")
	if err != nil {
		return nil
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[1] != "Ready" {
			m[f[0]] = strings.ToLower(f[1])
		}
	}
	return m
}

// reportUnreached says which nodes Down could not reach (the manager's
// unreachable nodes, and the engines of Options.Engines that do not
// answer or still hold containers of the stack a while after its removal):
// their containers of the stack stay until they return.
func (d *Driver) reportUnreached(ctx context.Context, name string) {
	if d.opts.Progress == nil {
		return
	}
	down := downNodes(ctx)
	for node, state := range down {
		fmt.Fprintf(d.opts.Progress, "swarm: down: could not reach node %s (%s): its tasks of %s stay until it returns to the swarm\n", node, state, name)
	}
	es, _ := engines(d.opts.Engines)
	deadline := time.Now().Add(30 * time.Second)
	for _, e := range es {
		if down[e.Name] != "" {
			continue // said above; its containers wait for it to return
		}
		for {
			left, err := engineContainers(ctx, e.Host, name)
			if err != nil {
				fmt.Fprintf(d.opts.Progress, "swarm: down: could not reach the engine of %s: %v\n", e.Name, err)
				break
			}
			if len(left) == 0 {
				break
			}
			if time.Now().After(deadline) {
				fmt.Fprintf(d.opts.Progress, "swarm: down: %s still holds %d containers of %s\n", e.Name, len(left), name)
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
}

// engineContainers lists the stack's containers on one node's engine,
// within a few seconds.
func engineContainers(ctx context.Context, host, name string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", "ps", "-a", "-q", "--filter", "label="+namespaceLabel+"="+name)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+host)
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("no answer in 5s")
		}
		return nil, err
	}
	return strings.Fields(string(out)), nil
}

// nodeChanges adds a timeline event for every node that became
// unreachable (or came back) since the last look, naming what of the
// stack ran there: its effect shows in the backends' and replicas'
// figures of the same run.
func (f *Fleet) nodeChanges(p agents.Plan, st *state, was, now map[string]string, evs []results.Event) []results.Event {
	return nodeEvents(time.Since(p.Start).Seconds(), st, was, now, evs, f.logf)
}

// nodeEvents appends to evs, at at seconds (0 when negative), a fault
// node-lost for every node down in now but not in was, with the stack's
// services on it, and a recovery node-back for every node of was that now
// (a reading, not nil) has back; it says each on logf.
func nodeEvents(at float64, st *state, was, now map[string]string, evs []results.Event, logf func(string, ...any)) []results.Event {
	at = max(at, 0)
	for _, node := range slices.Sorted(maps.Keys(now)) {
		if was[node] == "" {
			msg := fmt.Sprintf("node %s unreachable (swarm: %s)", node, now[node])
			if on := servicesOn(st, node); len(on) > 0 {
				msg += "; on it: " + strings.Join(on, ", ")
			}
			logf("%s", msg)
			evs = append(evs, results.Event{AtSeconds: at, Kind: "fault", Target: node, Action: "node-lost", Message: msg})
		}
	}
	for _, node := range slices.Sorted(maps.Keys(was)) {
		if now[node] == "" && now != nil {
			msg := fmt.Sprintf("node %s reachable again", node)
			logf("%s", msg)
			evs = append(evs, results.Event{AtSeconds: at, Kind: "recovery", Target: node, Action: "node-back", Message: msg})
		}
	}
	return evs
}

// WatchNodes follows the swarm's nodes from t0 (the origin of the run's
// events) until ctx ends, once a second: a node that becomes unreachable
// (or comes back) is a node-lost fault (node-back recovery) at that time,
// naming the stack's services on it, said on the progress stream as it
// happens. The run goes on; its probes and HAProxy show the effect. The
// returned wait, called once ctx has ended, returns the events. A
// one-node swarm is not watched: its loss would be this host's.
func (d *Driver) WatchNodes(ctx context.Context, t0 time.Time) (wait func() []results.Event) {
	st, err := d.readState()
	if err != nil || len(readyNodes(ctx)) < 2 {
		return func() []results.Event { return nil }
	}
	logf := func(format string, args ...any) {
		if d.opts.Progress != nil {
			fmt.Fprintf(d.opts.Progress, "swarm: "+format+"\n", args...)
		}
	}
	var evs []results.Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		was := downNodes(ctx) // down before the run: not this run's loss
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if now := downNodes(ctx); now != nil && ctx.Err() == nil {
				evs = nodeEvents(time.Since(t0).Seconds(), st, was, now, evs, logf)
				was = now
			}
		}
	}()
	return func() []results.Event {
		<-done
		return evs
	}
}

// servicesOn lists the stack's services with a task on node when it came up.
func servicesOn(st *state, node string) []string {
	var out []string
	for _, svc := range serviceOrder(st) {
		if slices.Contains(st.Nodes[svc], node) {
			out = append(out, svc)
		}
	}
	return out
}
