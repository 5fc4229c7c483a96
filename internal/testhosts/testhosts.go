// Package testhosts runs N Docker hosts on one machine for the multi-host
// tests: each host a network namespace with a dockerd of its own (own
// config file, data-root, exec-root, socket, pidfile, cgroup parent and
// hostname), all on a private /24 behind a bridge in a switch namespace of
// its own, the root namespace joined to it at .1, no route out. With
// Options.Swarm the hosts form one swarm (host 1 the manager).
//
// Everything it creates carries the options' prefix: namespaces
// <prefix>-sw and <prefix>-h<i>, the root namespace's veth <prefix>-r,
// cgroups /<prefix>-h<i>, the directories Dir and RunDir. Up first sweeps
// whatever a killed run of the same prefix left behind; Down removes it
// all and checks that nothing is left.
//
// Facts behind the choices (measured on this kind of machine) are in the
// project's shared MULTIHOST.md: a bridge in the root namespace would meet
// the host engine's FORWARD DROP; `ip netns exec` remounts /sys and breaks
// dockerd's cgroup detection, so dockerd is started with nsenter; without
// --config-file dockerd also reads the host's daemon.json.
package testhosts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/duckbench/duckbench/appimage"
)

// Options configure a set of test hosts.
type Options struct {
	// Prefix names every object (default "dbt"); at most 8 characters.
	Prefix string
	// Hosts is N (default 3).
	Hosts int
	// Subnet is the first three octets of the private /24 (default
	// "10.213.7"): the root namespace is .1, host i is .1i (i ≤ 9).
	Subnet string
	// Dir holds the data roots (default /var/lib/duckbench-testhosts/<prefix>);
	// RunDir the sockets, exec roots and logs (default /run/<prefix>: unix
	// socket paths must stay short).
	Dir, RunDir string
	// Swarm joins the hosts into one swarm, host 1 its manager.
	Swarm bool
	// Heartbeat is the swarm dispatcher's heartbeat (default 1s: a host
	// whose link is cut is marked down in a few seconds).
	Heartbeat time.Duration
	// Log receives progress lines (nil: none).
	Log io.Writer
}

func (o *Options) defaults() error {
	if o.Prefix == "" {
		o.Prefix = "dbt"
	}
	if len(o.Prefix) > 8 || strings.ContainsAny(o.Prefix, "/ .") {
		return fmt.Errorf("testhosts: prefix %q: at most 8 characters, no slash, dot or space", o.Prefix)
	}
	if o.Hosts == 0 {
		o.Hosts = 3
	}
	if o.Hosts < 1 || o.Hosts > 9 {
		return fmt.Errorf("testhosts: %d hosts: want 1 to 9", o.Hosts)
	}
	if o.Subnet == "" {
		o.Subnet = "10.213.7"
	}
	if o.Dir == "" {
		o.Dir = filepath.Join("/var/lib/duckbench-testhosts", o.Prefix)
	}
	if o.RunDir == "" {
		o.RunDir = filepath.Join("/run", o.Prefix)
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = time.Second
	}
	return nil
}

// Host is one test host.
type Host struct {
	// Name is the namespace and the host name dockerd's node reports.
	Name string
	// Addr is its address on the private subnet.
	Addr string
	// Port is its link's name in the switch namespace (Cut takes it down).
	Port string
	// Socket is its dockerd's unix socket.
	Socket string

	dataRoot, execRoot, logFile string
	pid                         int
}

// DockerHost is the DOCKER_HOST value that reaches the host's engine.
func (h *Host) DockerHost() string { return "unix://" + h.Socket }

// Cluster is a running set of test hosts.
type Cluster struct {
	// Hosts are the hosts, host 1 first.
	Hosts []*Host
	// Gateway is the root namespace's address on the subnet.
	Gateway string
	opts    Options
}

func (c *Cluster) logf(format string, args ...any) {
	if c.opts.Log != nil {
		fmt.Fprintf(c.opts.Log, "testhosts: "+format+"\n", args...)
	}
}

// Plan is the cluster that Up(o) would start, started or not: names,
// addresses and paths (Down and Sweep use it).
func Plan(o Options) (*Cluster, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	c := &Cluster{opts: o, Gateway: o.Subnet + ".1"}
	for i := 1; i <= o.Hosts; i++ {
		name := fmt.Sprintf("%s-h%d", o.Prefix, i)
		run := filepath.Join(o.RunDir, fmt.Sprintf("h%d", i))
		c.Hosts = append(c.Hosts, &Host{
			Name:     name,
			Addr:     fmt.Sprintf("%s.1%d", o.Subnet, i),
			Port:     fmt.Sprintf("h%d", i),
			Socket:   filepath.Join(run, "docker.sock"),
			dataRoot: filepath.Join(o.Dir, fmt.Sprintf("h%d", i)),
			execRoot: filepath.Join(run, "exec"),
			logFile:  filepath.Join(run, "dockerd.log"),
		})
	}
	return c, nil
}

func (c *Cluster) switchNS() string { return c.opts.Prefix + "-sw" }
func (c *Cluster) rootLink() string { return c.opts.Prefix + "-r" }

// Up sweeps what an earlier run of the same prefix left, builds the
// network, starts every host's dockerd, waits for their APIs and, with
// o.Swarm, forms the swarm. On failure it removes what it made.
func Up(ctx context.Context, o Options) (c *Cluster, err error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("testhosts: needs root (network namespaces, dockerd)")
	}
	for _, p := range []string{"ip", "nsenter", "unshare", "dockerd", "docker"} {
		if _, err := exec.LookPath(p); err != nil {
			return nil, fmt.Errorf("testhosts: %s not found: %w", p, err)
		}
	}
	if c, err = Plan(o); err != nil {
		return nil, err
	}
	if err := c.Down(ctx); err != nil {
		return nil, fmt.Errorf("testhosts: sweep stale state: %w", err)
	}
	defer func() {
		if err != nil {
			if derr := c.Down(context.WithoutCancel(ctx)); derr != nil {
				err = fmt.Errorf("%w (and tearing down: %v)", err, derr)
			}
		}
	}()
	start := time.Now()
	if err := c.network(ctx); err != nil {
		return c, err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(c.Hosts))
	for i, h := range c.Hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.startDaemon(ctx, h)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	c.logf("%d dockerds up in %.1fs", len(c.Hosts), time.Since(start).Seconds())
	if c.opts.Swarm {
		if err := c.formSwarm(ctx); err != nil {
			return c, err
		}
		c.logf("swarm of %d ready after %.1fs", len(c.Hosts), time.Since(start).Seconds())
	}
	return c, nil
}

// run runs a command and returns its output; a failure carries it.
func run(ctx context.Context, name string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// network makes the switch, the hosts' namespaces and links, and the root
// namespace's link at .1.
func (c *Cluster) network(ctx context.Context) error {
	sw := c.switchNS()
	steps := [][]string{
		{"netns", "add", sw},
		{"-n", sw, "link", "add", "br0", "type", "bridge"},
		{"-n", sw, "link", "set", "br0", "up"},
		{"-n", sw, "link", "set", "lo", "up"},
		{"link", "add", c.rootLink(), "type", "veth", "peer", "name", "r", "netns", sw},
		{"-n", sw, "link", "set", "r", "master", "br0", "up"},
		{"addr", "add", c.Gateway + "/24", "dev", c.rootLink()},
		{"link", "set", c.rootLink(), "up"},
	}
	for _, h := range c.Hosts {
		steps = append(steps,
			[]string{"netns", "add", h.Name},
			[]string{"-n", sw, "link", "add", h.Port, "type", "veth", "peer", "name", "eth0", "netns", h.Name},
			[]string{"-n", sw, "link", "set", h.Port, "master", "br0", "up"},
			[]string{"-n", h.Name, "link", "set", "lo", "up"},
			[]string{"-n", h.Name, "addr", "add", h.Addr + "/24", "dev", "eth0"},
			[]string{"-n", h.Name, "link", "set", "eth0", "up"},
		)
	}
	for _, s := range steps {
		if _, err := run(ctx, "ip", s...); err != nil {
			return fmt.Errorf("testhosts: network: %w", err)
		}
	}
	return nil
}

// daemonConfig is the host's dockerd configuration: everything of its own,
// address pools apart from the host engine's.
func (c *Cluster) daemonConfig(h *Host) ([]byte, error) {
	return json.MarshalIndent(map[string]any{
		"data-root":      h.dataRoot,
		"exec-root":      h.execRoot,
		"hosts":          []string{h.DockerHost()},
		"pidfile":        filepath.Join(filepath.Dir(h.Socket), "dockerd.pid"),
		"cgroup-parent":  "/" + h.Name,
		"storage-driver": "overlay2",
		"log-driver":     "json-file",
		"default-address-pools": []map[string]any{
			{"base": "10.214.0.0/16", "size": 24},
		},
		"insecure-registries": []string{c.Gateway + ":5000", c.opts.Subnet + ".0/24"},
		"mtu":                 1400,
	}, "", "  ")
}

// startDaemon starts the host's dockerd in its namespace with its own
// host name and waits until its API answers.
func (c *Cluster) startDaemon(ctx context.Context, h *Host) error {
	run := filepath.Dir(h.Socket)
	for _, d := range []string{run, h.dataRoot} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("testhosts: %w", err)
		}
	}
	cfg, err := c.daemonConfig(h)
	if err != nil {
		return err
	}
	cfgFile := filepath.Join(run, "daemon.json")
	if err := os.WriteFile(cfgFile, cfg, 0o600); err != nil {
		return fmt.Errorf("testhosts: %w", err)
	}
	logf, err := os.Create(h.logFile)
	if err != nil {
		return fmt.Errorf("testhosts: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command("nsenter", "--net=/run/netns/"+h.Name, "--",
		"unshare", "--uts", "--", "sh", "-c", `hostname "$1" && exec dockerd --config-file "$2"`, "sh", h.Name, cfgFile)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("testhosts: start dockerd of %s: %w", h.Name, err)
	}
	h.pid = cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := c.Docker(ctx, h, "", "version", "--format", "{{.Server.Version}}"); err == nil {
			return nil
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(h.logFile)
			return fmt.Errorf("testhosts: dockerd of %s exited: %v: %s", h.Name, err, tail(string(log), 5))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(h.logFile)
			return fmt.Errorf("testhosts: dockerd of %s not answering after a minute: %s", h.Name, tail(string(log), 5))
		}
	}
}

func tail(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// Docker runs the docker CLI against host h's engine with stdin (if any)
// and returns its output; a failure carries it.
func (c *Cluster) Docker(ctx context.Context, h *Host, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+h.DockerHost())
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return buf.String(), fmt.Errorf("docker -H %s %s: %w: %s", h.Name, strings.Join(args, " "), err, tail(buf.String(), 5))
	}
	return buf.String(), nil
}

// formSwarm makes host 1 the manager and joins the others as workers,
// then waits until every node is Ready.
func (c *Cluster) formSwarm(ctx context.Context) error {
	m := c.Hosts[0]
	if _, err := c.Docker(ctx, m, "", "swarm", "init", "--advertise-addr", m.Addr, "--listen-addr", m.Addr+":2377",
		"--default-addr-pool", "10.215.0.0/16", "--dispatcher-heartbeat", c.opts.Heartbeat.String()); err != nil {
		return fmt.Errorf("testhosts: %w", err)
	}
	token, err := c.Docker(ctx, m, "", "swarm", "join-token", "-q", "worker")
	if err != nil {
		return fmt.Errorf("testhosts: %w", err)
	}
	for _, h := range c.Hosts[1:] {
		if _, err := c.Docker(ctx, h, "", "swarm", "join", "--token", strings.TrimSpace(token),
			"--advertise-addr", h.Addr, "--listen-addr", h.Addr+":2377", m.Addr+":2377"); err != nil {
			return fmt.Errorf("testhosts: %w", err)
		}
	}
	return c.WaitNodes(ctx, len(c.Hosts), time.Minute)
}

// WaitNodes waits until the manager counts want nodes Ready.
func (c *Cluster) WaitNodes(ctx context.Context, want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		out, err := c.Docker(ctx, c.Hosts[0], "", "node", "ls", "--format", "{{.Status}}")
		ready := strings.Count(out, "Ready")
		if err == nil && ready >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testhosts: %d of %d swarm nodes ready after %v (%v)", ready, want, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// NodeState is the manager's view of host h: "ready", "down", "unknown".
func (c *Cluster) NodeState(ctx context.Context, h *Host) (string, error) {
	out, err := c.Docker(ctx, c.Hosts[0], "", "node", "inspect", "--format", "{{.Status.State}}", h.Name)
	return strings.TrimSpace(out), err
}

// Cut takes host h's link down at the switch: it can reach no host, and
// none it.
func (c *Cluster) Cut(ctx context.Context, h *Host) error {
	_, err := run(ctx, "ip", "-n", c.switchNS(), "link", "set", h.Port, "down")
	return err
}

// Heal brings host h's link up again.
func (c *Cluster) Heal(ctx context.Context, h *Host) error {
	_, err := run(ctx, "ip", "-n", c.switchNS(), "link", "set", h.Port, "up")
	return err
}

// Pid is host h's dockerd process (0 when this process did not start it).
func (h *Host) Pid() int { return h.pid }

// itoa is strconv.Itoa, for the sweep's pid lists.
func itoa(n int) string { return strconv.Itoa(n) }

// Engines are the hosts' engines other than the manager's, for
// appimage.Distribute from the manager (the DOCKER_HOST the tests use).
func (c *Cluster) Engines() []appimage.Engine {
	var es []appimage.Engine
	for _, h := range c.Hosts[1:] {
		es = append(es, appimage.Engine{Name: h.Name, Host: h.DockerHost()})
	}
	return es
}

// AllEngines are every host's engines, the manager's too (to copy images
// from the engine the tests run on).
func (c *Cluster) AllEngines() []appimage.Engine {
	var es []appimage.Engine
	for _, h := range c.Hosts {
		es = append(es, appimage.Engine{Name: h.Name, Host: h.DockerHost()})
	}
	return es
}

// EnginesFlag is Engines as appimage.EnginesEnv's value.
func (c *Cluster) EnginesFlag() string {
	var fs []string
	for _, e := range c.Engines() {
		fs = append(fs, e.Name+"="+e.Host)
	}
	return strings.Join(fs, ",")
}
