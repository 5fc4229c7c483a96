package compose

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	yaml "go.yaml.in/yaml/v4"

	"github.com/duckbench/duckbench/internal/yamlnode"

	"github.com/duckbench/duckbench/appimage"
	"github.com/duckbench/duckbench/configgen"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

// Paths in the containers. They are those of the official images, so the
// rendered compose.yaml works with them unchanged. (Image and port defaults
// are the spec's: spec.DefaultRedisImage, spec.DefaultStatsPort, ….)
const (
	RedisConfPath   = "/usr/local/etc/redis/redis.conf"
	HAProxyConfPath = "/usr/local/etc/haproxy/haproxy.cfg"
	// BinaryPath is the duckbench binary in the app image (see the
	// repository's Dockerfile): builtin apps run it, and their health check
	// is its `healthcheck` command.
	BinaryPath = "/duckbench"
	// FileName is the compose file written into the run directory.
	FileName = "compose.yaml"
	// NetworkName is the project's one user-defined network.
	NetworkName = "duckbench"
	// HAProxyService is the HAProxy service name.
	HAProxyService = "haproxy"
)

// Health check timing for every service: frequent enough that a stack is
// healthy within seconds, patient enough for a slow first start.
var (
	healthInterval = 1 * time.Second
	healthTimeout  = 3 * time.Second
	healthRetries  = uint64(60)
)

// RenderOptions are the choices compose.yaml needs beyond the spec. The
// file references images and the config files next to it only, never a
// host path, so the directory runs on any machine with those images.
type RenderOptions struct {
	// AppImage is the image of builtin apps whose spec names none
	// (default appimage.Tag("dev"); duckbench passes duckbench:<version>).
	AppImage string
	// Observability adds the `observability` profile (Prometheus and
	// Grafana; see WriteObservability for its files).
	Observability bool
}

// ProjectName is the compose project name of a spec: duckbench-<name>.
func ProjectName(s *spec.Spec) string {
	n := strings.ToLower(s.Name)
	if n == "" {
		n = "stack"
	}
	return "duckbench-" + n
}

// RedisConfFile is the file name of a node's rendered redis.conf, as
// configgen names it.
func RedisConfFile(node string) string { return configgen.RedisFile(node) }

// Render renders s as compose.yaml. Every port of s must be resolved (see
// stack.ResolvePorts); the config files it mounts are expected next to the file.
func Render(s *spec.Spec, o RenderOptions) ([]byte, error) {
	p, err := Project(s, o)
	if err != nil {
		return nil, err
	}
	return marshal(p)
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Project builds the compose project of s with the compose-go types.
func Project(s *spec.Spec, o RenderOptions) (*types.Project, error) {
	p := &types.Project{
		Name:     ProjectName(s),
		Services: types.Services{},
		Networks: types.Networks{NetworkName: types.NetworkConfig{}},
	}
	redisImage := or(s.Redis.Image, spec.DefaultRedisImage)
	pwEnv := s.Redis.PasswordEnv

	ns := s.Redis.Nodes()
	master := ns[0]
	var replicaNames []string
	for _, n := range ns {
		port, err := hostPort(fmt.Sprintf("redis node %q", n.Name), n.Port)
		if err != nil {
			return nil, err
		}
		svc := baseService(n.Name, redisImage)
		svc.Entrypoint = redisEntrypoint(n.Name, pwEnv)
		svc.Volumes = []types.ServiceVolumeConfig{bindRO("./"+RedisConfFile(n.Name), RedisConfPath)}
		svc.Ports = []types.ServicePortConfig{publish(port)}
		svc.HealthCheck = health(redisHealth(port, pwEnv, n.Master()))
		if pwEnv != "" {
			svc.Environment = passthrough(pwEnv)
		}
		if !n.Master() {
			svc.DependsOn = healthyDeps(master.Name)
			replicaNames = append(replicaNames, n.Name)
		}
		p.Services[n.Name] = svc
	}
	redisDeps := append([]string{master.Name}, replicaNames...)

	appImage := or(o.AppImage, appimage.Tag(""))
	appDeps := types.DependsOnConfig{}
	for _, a := range s.Apps {
		svc, err := appService(s, a, appImage, master, pwEnv)
		if err != nil {
			return nil, err
		}
		svc.DependsOn = healthyDeps(redisDeps...)
		p.Services[a.Name] = svc
		// An app of a user image has the image's own health check, if
		// any: HAProxy waits for it to start, and checks it itself.
		cond := types.ServiceConditionHealthy
		if svc.HealthCheck == nil {
			cond = types.ServiceConditionStarted
		}
		appDeps[a.Name] = types.ServiceDependency{Condition: cond, Required: true}
	}

	hp, err := hostPort("haproxy", s.HAProxy.Port)
	if err != nil {
		return nil, err
	}
	h := baseService(HAProxyService, or(s.HAProxy.Image, spec.DefaultHAProxyImage))
	h.Entrypoint = types.ShellCommand{"haproxy", "-W", "-db", "-f", HAProxyConfPath}
	h.Volumes = []types.ServiceVolumeConfig{bindRO("./haproxy.cfg", HAProxyConfPath)}
	ports := []types.ServicePortConfig{publish(hp)}
	for _, pp := range haproxyExtraPorts(s) {
		ports = append(ports, publish(pp))
	}
	h.Ports = ports
	// The haproxy image has no curl or nc, but it is Debian-based with
	// bash: healthy once HAProxy accepts on its frontend.
	h.HealthCheck = health(types.HealthCheckTest{"CMD", "bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%d", hp)})
	if s.HAProxy.StatsPage.Enabled && s.HAProxy.StatsPage.PasswordEnv != "" {
		h.Environment = passthrough(s.HAProxy.StatsPage.PasswordEnv)
	}
	if len(appDeps) > 0 {
		h.DependsOn = appDeps
	} else {
		h.DependsOn = healthyDeps(redisDeps...)
	}
	p.Services[HAProxyService] = h
	if o.Observability {
		addObservability(p)
	}
	return p, nil
}

// appService is one app's service: a builtin app runs the duckbench binary
// of the app image, a kind image app its own image with PORT and
// REDIS_MASTER set.
func appService(s *spec.Spec, a spec.App, appImage string, master spec.Node, pwEnv string) (types.ServiceConfig, error) {
	var svc types.ServiceConfig
	port, err := hostPort(fmt.Sprintf("app %q", a.Name), a.Port)
	if err != nil {
		return svc, err
	}
	env := types.MappingWithEquals{}
	for k, v := range a.Env {
		env[k] = &v
	}
	switch kind := or(a.Kind, spec.AppBuiltin); kind {
	case spec.AppBuiltin:
		svc = baseService(a.Name, or(a.Image, appImage))
		svc.Entrypoint = builtinAppCommand(s, a)
		svc.HealthCheck = health(types.HealthCheckTest{"CMD", BinaryPath, "healthcheck",
			fmt.Sprintf("http://127.0.0.1:%d%s", port, appHealthPath(s))})
	case spec.AppImage:
		if a.Image == "" {
			return svc, fmt.Errorf("render compose: app %q: kind image needs an image", a.Name)
		}
		svc = baseService(a.Name, a.Image)
		env["PORT"] = ptr(strconv.Itoa(port))
		env["REDIS_MASTER"] = ptr(fmt.Sprintf("%s:%d", master.Name, master.Port))
	default:
		return svc, fmt.Errorf("render compose: app %q: kind %q cannot run in a container (use kind image)", a.Name, kind)
	}
	if pwEnv != "" {
		env[pwEnv] = nil
	}
	if len(env) > 0 {
		svc.Environment = env
	}
	svc.Ports = []types.ServicePortConfig{publish(port)}
	return svc, nil
}

// haproxyExtraPorts lists HAProxy's published ports besides the frontend:
// the Runtime API (TCP in a container), the exporter and the stats page.
func haproxyExtraPorts(s *spec.Spec) []int {
	out := []int{portOr(s.HAProxy.StatsSocket.Port, spec.DefaultStatsPort)}
	if !s.HAProxy.Prometheus.Disabled {
		out = append(out, portOr(s.HAProxy.Prometheus.Port, spec.DefaultPromPort))
	}
	if s.HAProxy.StatsPage.Enabled {
		out = append(out, portOr(s.HAProxy.StatsPage.Port, spec.DefaultStatsPagePort))
	}
	return out
}

func portOr(p spec.Port, def int) int {
	if p <= 0 {
		return def
	}
	return int(p)
}

func appHealthPath(s *spec.Spec) string {
	for _, b := range s.HAProxy.Backends {
		if b.HealthCheck.Path != "" {
			return b.HealthCheck.Path
		}
	}
	return spec.DefaultHealthPath
}

func hostPort(what string, p spec.Port) (int, error) {
	if p.IsAuto() {
		return 0, fmt.Errorf("render compose: %s: port \"auto\" not resolved (call stack.ResolvePorts first)", what)
	}
	if p < 1 || p > 65535 {
		return 0, fmt.Errorf("render compose: %s: port must be 1-65535 (got %d)", what, p)
	}
	return int(p), nil
}

func baseService(name, image string) types.ServiceConfig {
	svc := types.ServiceConfig{Name: name}
	svc.Image = image
	svc.Init = ptr(true)
	svc.Networks = map[string]*types.ServiceNetworkConfig{NetworkName: nil}
	return svc
}

// publish publishes a container port on the same host port, on loopback only.
func publish(port int) types.ServicePortConfig {
	return types.ServicePortConfig{
		HostIP:    "127.0.0.1",
		Target:    uint32(port),
		Published: strconv.Itoa(port),
		Protocol:  "tcp",
	}
}

func bindRO(src, dst string) types.ServiceVolumeConfig {
	return types.ServiceVolumeConfig{Type: types.VolumeTypeBind, Source: src, Target: dst, ReadOnly: true}
}

func health(test types.HealthCheckTest) *types.HealthCheckConfig {
	iv, to := types.Duration(healthInterval), types.Duration(healthTimeout)
	r := healthRetries
	return &types.HealthCheckConfig{Test: test, Interval: &iv, Timeout: &to, Retries: &r}
}

func healthyDeps(names ...string) types.DependsOnConfig {
	d := types.DependsOnConfig{}
	for _, n := range names {
		d[n] = types.ServiceDependency{Condition: types.ServiceConditionHealthy, Required: true}
	}
	return d
}

// passthrough passes the host variable name into the container without
// writing its value into the file.
func passthrough(name string) types.MappingWithEquals {
	return types.MappingWithEquals{name: nil}
}

// redisEntrypoint starts redis-server on the mounted config. With a
// password, the secret lines are fed on stdin from the container's
// environment so that no file on disk holds them ($$ escapes compose
// interpolation: the container's shell expands the variable).
func redisEntrypoint(node, pwEnv string) types.ShellCommand {
	if pwEnv == "" {
		return types.ShellCommand{"redis-server", RedisConfPath}
	}
	// Fail closed: an empty variable in the container stops the node, which
	// names itself, instead of starting it without a password.
	script := fmt.Sprintf(`[ -n "$$%[1]s" ] || { echo "duckbench: redis node %[3]s could not read its password: %[1]s is empty in the container: not starting without one" >&2; exit 78; }; `+
		`printf 'requirepass "%%s"\nmasterauth "%%s"\n' "$$%[1]s" "$$%[1]s" | redis-server %[2]s -`, pwEnv, RedisConfPath, node)
	return types.ShellCommand{"sh", "-c", script}
}

// redisHealth pings the node; a replica is healthy once its link to the
// master is up, as the local driver waits for.
func redisHealth(port int, pwEnv string, master bool) types.HealthCheckTest {
	auth := ""
	if pwEnv != "" {
		auth = fmt.Sprintf(`REDISCLI_AUTH="$$%s" `, pwEnv)
	}
	if master {
		return types.HealthCheckTest{"CMD-SHELL", fmt.Sprintf(`test "$$(%sredis-cli -p %d ping)" = PONG`, auth, port)}
	}
	return types.HealthCheckTest{"CMD-SHELL",
		fmt.Sprintf(`case "$$(%sredis-cli -p %d info replication)" in *master_link_status:up*) exit 0;; esac; exit 1`, auth, port)}
}

// builtinAppCommand is the reference app's command line in its container:
// Redis nodes are reached by service name on the project network.
func builtinAppCommand(s *spec.Spec, a spec.App) types.ShellCommand {
	addrs := stack.AppAddrsOf(s, a, "0.0.0.0", "")
	return append(types.ShellCommand{BinaryPath}, stack.BuiltinAppArgs(a, addrs, s.Redis.PasswordEnv)...)
}

func ptr[T any](v T) *T { return &v }

// marshal writes the project in a form both Compose v2 and docker-compose
// v1.29 accept (see v1Compatible). It edits the YAML with go.yaml.in/yaml/v4,
// the library compose-go's types marshal with (and link anyway); the rest
// of duckbench reads YAML with goccy/go-yaml, whose AST keeps the line and
// column every spec error names.
func marshal(p *types.Project) ([]byte, error) {
	b, err := p.MarshalYAML()
	if err != nil {
		return nil, fmt.Errorf("marshal compose project: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("marshal compose project: %w", err)
	}
	v1Compatible(&doc)
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Generated by duckbench; compose project %q. Do not edit.\n", p.Name)
	fmt.Fprintf(&buf, "# docker compose -p %[1]s up -d --wait  |  docker-compose -p %[1]s up -d\n", p.Name)
	if err := yamlnode.Encode(&buf, &doc); err != nil {
		return nil, fmt.Errorf("marshal compose project: %w", err)
	}
	return buf.Bytes(), nil
}

// v1Compatible rewrites what docker-compose v1.29 rejects into equivalents
// every Compose reads: no top-level or service `name` (the project name is
// given with -p), no `required` in depends_on, ports in the short syntax
// "127.0.0.1:HOST:CONTAINER/tcp".
func v1Compatible(doc *yaml.Node) {
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	yamlnode.Delete(root, "name")
	services := yamlnode.Get(root, "services")
	if services == nil {
		return
	}
	for i := 1; i < len(services.Content); i += 2 {
		svc := services.Content[i]
		yamlnode.Delete(svc, "name")
		if deps := yamlnode.Get(svc, "depends_on"); deps != nil {
			for j := 1; j < len(deps.Content); j += 2 {
				yamlnode.Delete(deps.Content[j], "required")
			}
		}
		if ports := yamlnode.Get(svc, "ports"); ports != nil && ports.Kind == yaml.SequenceNode {
			for j, pn := range ports.Content {
				if pn.Kind != yaml.MappingNode {
					continue
				}
				short := ""
				if ip := yamlnode.Get(pn, "host_ip"); ip != nil {
					short = ip.Value + ":"
				}
				if pub := yamlnode.Get(pn, "published"); pub != nil {
					short += pub.Value + ":"
				}
				if t := yamlnode.Get(pn, "target"); t != nil {
					short += t.Value
				}
				if pr := yamlnode.Get(pn, "protocol"); pr != nil && pr.Value != "" {
					short += "/" + pr.Value
				}
				ports.Content[j] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: short, Style: yaml.DoubleQuotedStyle}
			}
		}
	}
}
