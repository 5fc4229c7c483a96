package swarm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/duckbench/duckbench/agents"
	"github.com/duckbench/duckbench/appimage"
	"github.com/duckbench/duckbench/compose"
	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
)

// AgentService is the load agents' service in the stack (<stack>_agents).
const AgentService = "agents"

// agentLogGrace is how long the coordinator still reads the log stream
// after an agent's task ended, for its last lines to arrive.
const agentLogGrace = 3 * time.Second

// Fleet runs sharded attacks on N load agents: a replicated service of
// the stack, attached to its network, that attacks HAProxy by its service
// name. It implements runner.Fleet.
//
// Results come back through the service's log stream (docker service
// logs, which the manager gathers from every node): agents need no
// published port — several replicas on one node could not share one in
// host mode — and no route from the tasks to the coordinator's host, and
// the coordinator dials no container address.
type Fleet struct {
	// RunDir is the swarm driver's run directory (its state names the stack).
	RunDir string
	// Agents is N.
	Agents int
	// Image runs the agents (default duckbench:<version> as the apps);
	// Binary builds it when missing (default: the running executable).
	Image, Binary string
	// Lead puts the common start this far in the future when a plan has
	// none (default agents.DefaultStartLead).
	Lead time.Duration
	// Progress receives the fleet's progress lines (nil: none).
	Progress io.Writer
	// Engines are the other nodes' engines, which Prepare copies the
	// agents' image to (nil: appimage.EnginesEnv).
	Engines []appimage.Engine
	// ShareSUT lets agents run on HAProxy's node even when the other
	// nodes could take one agent each.
	ShareSUT bool

	// Registry (HOST:PORT; "": appimage.RegistryEnv) replaces the copies
	// to Engines: Prepare pushes the agents' image there.
	Registry string

	prepared bool   // the image is ready: later steps of a search skip the check
	pushed   string // the image's digest-pinned reference in Registry
}

// Count is the number of agents.
func (f *Fleet) Count() int { return f.Agents }

// StartLead is Lead or agents.DefaultStartLead.
func (f *Fleet) StartLead() time.Duration {
	if f.Lead <= 0 {
		return agents.DefaultStartLead
	}
	return f.Lead
}

func (f *Fleet) logf(format string, args ...any) {
	if f.Progress != nil {
		fmt.Fprintf(f.Progress, format+"\n", args...)
	}
}

func (f *Fleet) image() string {
	if f.Image == "" {
		return appimage.Tag("")
	}
	return f.Image
}

// Prepare builds the agents' image on this node when it is missing
// (appimage.Ensure): before the common start is chosen, since a build
// takes longer than the lead. Once done, it is not done again for the
// fleet's later attacks (a capacity search's steps).
func (f *Fleet) Prepare(ctx context.Context) error {
	if f.prepared {
		return nil
	}
	if err := appimage.Ensure(ctx, f.image(), f.Binary, f.Progress); err != nil {
		return err
	}
	if reg := registry(f.Registry); reg != "" {
		refs, err := pushAll(ctx, reg, []string{f.image()}, f.Progress)
		if err != nil {
			return err
		}
		f.pushed = refs[f.image()]
		f.prepared = true
		return nil
	}
	es, err := engines(f.Engines)
	if err != nil {
		return err
	}
	if err := distribute(ctx, []string{f.image()}, es, f.Progress); err != nil {
		return err
	}
	f.prepared = true
	return nil
}

// Attack deploys the agents with plan p (its Target, Agents and Start are
// set here), follows their output until every agent delivered or ended or
// the plan's time is up, removes the service and returns one Arrival per
// agent with the plan as sent.
func (f *Fleet) Attack(ctx context.Context, p agents.Plan) ([]agents.Arrival, agents.Plan, error) {
	if f.Agents < 1 {
		return nil, p, fmt.Errorf("agents: need at least 1 (got %d)", f.Agents)
	}
	st, err := (&Driver{opts: Options{RunDir: f.RunDir}}).readState()
	if err != nil {
		return nil, p, err
	}
	u, err := url.Parse(st.Endpoints.HAProxy.URL)
	if err != nil || u.Port() == "" {
		return nil, p, fmt.Errorf("agents: HAProxy's address %q: no port", st.Endpoints.HAProxy.URL)
	}
	img := f.image() // readied by Prepare, which the runner calls first
	if f.pushed != "" {
		img = f.pushed
	}
	p.Agents = f.Agents
	p.Target = "http://" + compose.HAProxyService + ":" + u.Port()
	if p.Start.IsZero() {
		p.Start = time.Now().Add(f.StartLead()).Truncate(time.Millisecond)
	}
	cctx, stopClock := context.WithCancel(ctx)
	defer stopClock()
	if p.Clock, err = f.serveClock(cctx); err != nil {
		return nil, p, err
	}
	enc, err := p.Encode()
	if err != nil {
		return nil, p, err
	}
	svc := st.Stack + "_" + AgentService
	ns := namespaceLabel + "=" + st.Stack
	place, where := f.placement(ctx, st)
	f.logf("deploying %d load agents (%s, %s), common start %s", f.Agents, svc, where, p.Start.UTC().Format("15:04:05.000"))
	// The label puts the service in the stack: down removes it with the rest.
	args := append([]string{"service", "create", "--detach", "--quiet", "--name", svc}, place...)
	if _, err := docker(ctx, "", append(args,
		"--label", ns, "--container-label", ns,
		"--replicas", strconv.Itoa(f.Agents), "--restart-condition", "none", "--no-healthcheck",
		"--network", st.Stack+"_"+compose.NetworkName, "--endpoint-mode", "dnsrr",
		"--env", agents.PlanEnv+"="+enc, "--env", agents.IndexEnv+"={{.Task.Slot}}",
		img, "agent")...); err != nil {
		return nil, p, fmt.Errorf("create the agents' service: %w", err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if _, err := docker(rctx, "", "service", "rm", svc); err != nil {
			f.logf("remove %s: %v (duckbench down removes it)", svc, err)
		}
	}()

	return f.gather(ctx, st, svc, p), p, nil
}

// gather follows the agents' service until every agent delivered, or
// ended and its output had time to arrive, or the plan's time is up, and
// returns one Arrival per agent.
func (f *Fleet) gather(ctx context.Context, st *state, svc string, p agents.Plan) []agents.Arrival {
	col := agents.NewCollector(f.Agents)
	var mu sync.Mutex
	fctx, stopFollow := context.WithCancel(ctx)
	defer stopFollow()
	followed := follow(fctx, svc, func(line string, at time.Time) {
		mu.Lock()
		col.Line(line, at)
		mu.Unlock()
	})
	timeout := p.Workload.Timeout.D()
	if timeout <= 0 {
		timeout = load.DefaultTimeout
	}
	deadline := p.Start.Add(p.Duration + timeout + time.Minute)
	ended := map[int]time.Time{} // slot → when its task was first seen ended
	why := map[int]string{}
	failedID := map[int]string{} // slot → its failed task
	where := map[int][2]string{}
	taskID := map[int]string{}
	told := map[int]bool{}
	fetched := map[int]time.Time{} // slot → when its task's log was last read on its own
	var wasDown map[string]string
	var nodeEvents []results.Event
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		mu.Lock()
		done := col.Done()
		mu.Unlock()
		if done || ctx.Err() != nil || time.Now().After(deadline) {
			break
		}
		ts, err := serviceTasks(ctx, svc)
		down := downNodes(ctx)
		nodeEvents = f.nodeChanges(p, st, wasDown, down, nodeEvents)
		wasDown = down
		if err == nil {
			for _, t := range ts {
				slot := slotOf(t.Name)
				if slot < 1 {
					continue
				}
				where[slot] = [2]string{t.Node, strings.TrimSpace(t.Name)}
				taskID[slot] = t.ID
				if down[t.Node] != "" {
					// Lost with its node: the manager shows it "desired
					// Shutdown, current Running", and its output cannot come.
					if _, ok := ended[slot]; !ok {
						ended[slot] = time.Now()
						why[slot] = fmt.Sprintf("its node %s is unreachable (swarm: %s)", t.Node, down[t.Node])
						f.logf("agent %d: node %s unreachable", slot, t.Node)
					}
					continue
				}
				switch t.state() {
				case "Complete", "Failed", "Shutdown", "Rejected", "Orphaned", "Remove":
					if _, ok := ended[slot]; !ok {
						ended[slot] = time.Now()
						why[slot] = fmt.Sprintf("task %s: %s", strings.ToLower(t.state()), strings.Trim(t.Error, `"`))
						if t.state() == "Failed" {
							failedID[slot] = t.ID
						}
					}
				}
			}
		}
		readOwnLogs(ctx, f.Agents, col, &mu, down, time.Now().After(p.Start.Add(p.Duration+agentLogGrace)),
			ended, where, taskID, fetched)
		mu.Lock()
		settled := true
		for i := 1; i <= f.Agents; i++ {
			if col.Has(i) {
				if !told[i] {
					told[i] = true
					f.logf("agent %d delivered its result", i)
				}
				continue
			}
			if at, ok := ended[i]; !ok || time.Since(at) < agentLogGrace {
				settled = false
			}
		}
		mu.Unlock()
		if settled {
			break
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	stopFollow()
	<-followed
	mu.Lock()
	defer mu.Unlock()
	return arrivals(ctx, f.Agents, col, deadline, why, failedID, where, nodeEvents)
}

// readOwnLogs reads, one task at a time and with a time-out, the log of
// every agent without a result whose task ended on a live node, or every
// such live task once the service's log stream has stalled (it does while
// any task's node is unreachable), at most every 5 s per task.
func readOwnLogs(ctx context.Context, n int, col *agents.Collector, mu *sync.Mutex, down map[string]string, stalled bool,
	ended map[int]time.Time, where map[int][2]string, taskID map[int]string, fetched map[int]time.Time) {
	for i := 1; i <= n; i++ {
		mu.Lock()
		has := col.Has(i)
		mu.Unlock()
		_, gone := ended[i]
		if has || time.Since(fetched[i]) < 5*time.Second || taskID[i] == "" || down[where[i][0]] != "" || (!gone && !(stalled && len(down) > 0)) {
			continue
		}
		fetched[i] = time.Now()
		for _, l := range taskLog(ctx, taskID[i]) {
			mu.Lock()
			col.Line(l, time.Now())
			mu.Unlock()
		}
	}
}

// arrivals is one Arrival per agent from what the collector holds and
// what became of the tasks; the first carries the fleet's node events.
func arrivals(ctx context.Context, n int, col *agents.Collector, deadline time.Time, why, failedID map[int]string,
	where map[int][2]string, nodeEvents []results.Event) []agents.Arrival {
	var arr []agents.Arrival
	for i := 1; i <= n; i++ {
		s, off, hello, rerr := col.Received(i)
		helloAt, _ := col.HelloAt(i)
		a := agents.Arrival{Index: i, Shard: s, ClockOffset: off, Hello: hello, HelloAt: helloAt, Err: rerr,
			Node: where[i][0], Task: where[i][1]}
		if r, reason, ok := col.Clock(i); ok && reason != "" {
			a.ClockErr = reason
		} else if ok {
			a.Clock = &r
		}
		if s == nil && rerr == nil {
			switch {
			case why[i] != "" && !hello && failedID[i] != "":
				// It failed before it started: its output says why (e.g. an
				// image too old for this build: unknown command "agent").
				a.Err = errors.New(strings.TrimSpace(why[i]) + taskLastWords(context.WithoutCancel(ctx), failedID[i]))
			case why[i] != "":
				a.Err = errors.New(strings.TrimSpace(why[i]))
			case ctx.Err() != nil:
				a.Err = errors.New("run interrupted before its result")
			default:
				a.Err = fmt.Errorf("no result by %s", deadline.UTC().Format(time.RFC3339))
			}
		}
		arr = append(arr, a)
	}
	if len(arr) > 0 {
		arr[0].FleetEvents = nodeEvents
	}
	return arr
}

// follow streams the service's log output (every task, from the start, on
// every node) into line until ctx is done; the channel closes when it
// stopped.
func follow(ctx context.Context, svc string, line func(string, time.Time)) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The stream can end (a daemon hiccup): follow again; the
		// collector ignores lines it has.
		for ctx.Err() == nil {
			cmd := exec.CommandContext(ctx, "docker", "service", "logs", "--follow", "--raw", "--no-trunc", svc)
			out, err := cmd.StdoutPipe()
			if err != nil {
				return
			}
			cmd.Stderr = io.Discard
			if err := cmd.Start(); err != nil {
				return
			}
			sc := bufio.NewScanner(out)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				line(sc.Text(), time.Now())
			}
			_ = cmd.Wait()
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	return done
}

// serviceTasks lists the tasks of one service.
func serviceTasks(ctx context.Context, svc string) ([]task, error) {
	out, err := docker(ctx, "", "service", "ps", "--no-trunc", "--format", "{{json .}}", svc)
	if err != nil {
		return nil, fmt.Errorf("list tasks of %s: %w", svc, err)
	}
	return parseTasks(out)
}

// taskLastWords is ": " and the last line other than the agent protocol's
// that a failed task wrote (stdout or stderr), or "" when it wrote none.
func taskLastWords(ctx context.Context, id string) string {
	if id == "" {
		return ""
	}
	out, err := docker(ctx, "", "service", "logs", "--raw", "--tail", "5", id)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		// The agent's own protocol lines say nothing of why it ended.
		if l := strings.TrimSpace(lines[i]); l != "" && !strings.HasPrefix(l, agents.LinePrefix) {
			return ": " + l
		}
	}
	return ""
}

// slotOf is the slot in a task name <service>.<slot>; 0 when none.
func slotOf(name string) int {
	name = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), `\_`))
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return 0
	}
	n, err := strconv.Atoi(name[i+1:])
	if err != nil {
		return 0
	}
	return n
}

// taskLogTimeout bounds the read of one task's log: the call blocks when
// the task's node is unreachable.
const taskLogTimeout = 15 * time.Second

// taskLog is one task's output lines, read with a time-out (nil when it
// could not be read in time).
func taskLog(ctx context.Context, id string) []string {
	ctx, cancel := context.WithTimeout(ctx, taskLogTimeout)
	defer cancel()
	out, err := docker(ctx, "", "service", "logs", "--raw", "--no-trunc", id)
	if err != nil {
		return nil
	}
	return strings.Split(string(out), "\n")
}
