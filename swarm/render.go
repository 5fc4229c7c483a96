package swarm

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	yaml "go.yaml.in/yaml/v4"

	"github.com/duckbench/duckbench/internal/yamlnode"

	"github.com/duckbench/duckbench/compose"
	"github.com/duckbench/duckbench/configgen"
	"github.com/duckbench/duckbench/spec"
)

// Names in the stack file and in the containers.
const (
	// FileName is the stack file written into the run directory.
	FileName = "stack.yaml"
	// SecretKey is the Redis password's key in the stack file; the secret
	// itself (StackName + "_" + SecretKey) is created by the driver from
	// the environment, never written to disk.
	SecretKey = "redis_password"
	// SecretPath is where every task that needs the password reads it.
	SecretPath = "/run/secrets/" + SecretKey
	// stackFileVersion is the newest compose file format `docker stack
	// deploy` (Docker 20.10) validates against.
	stackFileVersion = "3.8"
)

// RenderOptions are the choices the stack file needs beyond the spec.
type RenderOptions struct {
	// Compose are the options of the compose renderer the stack file is
	// built from.
	Compose compose.RenderOptions
	// Images replaces services' images (a registry's digest-pinned
	// references for the local names).
	Images map[string]string
}

// StackName is the swarm stack of a spec: duckbench-<name>, the compose
// project name. Services are <stack>_<spec name>.
func StackName(s *spec.Spec) string { return compose.ProjectName(s) }

// Render renders s as a stack file for `docker stack deploy`. Every port
// of s must be resolved; the config files it references are expected next
// to the file (configgen's swarm target).
func Render(s *spec.Spec, o RenderOptions) ([]byte, error) {
	p, err := Project(s, o)
	if err != nil {
		return nil, err
	}
	return marshal(p)
}

// Project builds the stack from the compose project of s (compose.Project)
// and turns it into what a swarm runs:
//   - every service in endpoint mode dnsrr with host-mode published ports:
//     the default VIP mode load-balances with IPVS, which a host without the
//     ip_vs kernel module (as the one this was built on) cannot route
//     ("No route to host"); dnsrr needs no IPVS and lets HAProxy see each
//     task's address;
//   - the config files as swarm configs instead of bind mounts, so tasks
//     on any node get them;
//   - the Redis password as a swarm secret read from SecretPath, never an
//     environment variable (the CLI would copy its value into the service);
//   - restart policy none: a fault's kill stays a kill until its restart;
//   - the spec's placement constraints, app replicas and their cap per
//     node (max_replicas_per_node).
func Project(s *spec.Spec, o RenderOptions) (*types.Project, error) {
	if s.Redis.PasswordEnv == "" {
		return nil, ErrNoPassword
	}
	if sp := s.HAProxy.StatsPage; sp.Enabled && sp.PasswordEnv != "" {
		return nil, errors.New("render swarm stack: haproxy.stats_page.password_env is not supported on the swarm runtime yet (disable the stats page)")
	}
	p, err := compose.Project(s, o.Compose)
	if err != nil {
		return nil, err
	}
	p.Name = StackName(s)
	p.Networks = types.Networks{compose.NetworkName: types.NetworkConfig{Driver: "overlay"}}
	p.Configs = types.Configs{}
	p.Secrets = types.Secrets{SecretKey: types.SecretConfig{External: true, Name: p.Name + "_" + SecretKey}}

	placement := map[string][]string{compose.HAProxyService: s.HAProxy.Placement}
	replicas, perNode := map[string]int{}, map[string]int{}
	kinds := map[string]string{compose.HAProxyService: "haproxy"}
	for _, n := range s.Redis.Nodes() {
		placement[n.Name] = n.Placement
		kinds[n.Name] = "redis"
	}
	for _, a := range s.Apps {
		placement[a.Name] = a.Placement
		replicas[a.Name], perNode[a.Name] = a.Replicas, a.MaxReplicasPerNode
		kinds[a.Name] = "app"
	}
	pwEnv := s.Redis.PasswordEnv
	for name, svc := range p.Services {
		svc.DependsOn = nil // swarm ignores it; HAProxy and the apps retry instead
		if err := toConfigs(p, &svc); err != nil {
			return nil, err
		}
		n := max(replicas[name], 1)
		svc.Ports = hostPorts(svc.Ports, n)
		svc.Deploy = &types.DeployConfig{
			Replicas:      &n,
			EndpointMode:  "dnsrr",
			RestartPolicy: &types.RestartPolicy{Condition: "none"},
			Placement:     types.Placement{Constraints: placement[name], MaxReplicas: uint64(perNode[name])},
		}
		if ref, ok := o.Images[svc.Image]; ok {
			svc.Image = ref
		}
		delete(svc.Environment, pwEnv)
		if len(svc.Environment) == 0 {
			svc.Environment = nil
		}
		switch kinds[name] {
		case "redis":
			svc.Secrets = []types.ServiceSecretConfig{{Source: SecretKey}}
			port := int(svc.Ports[0].Target)
			svc.Entrypoint = redisEntrypoint(name)
			svc.HealthCheck.Test = redisHealth(port, name == s.Redis.Master.Name)
		case "app":
			svc.Secrets = []types.ServiceSecretConfig{{Source: SecretKey}}
			svc.Entrypoint = passwordFromFile(svc.Entrypoint)
			if svc.Entrypoint == nil {
				// A user image reads the file it is told of.
				if svc.Environment == nil {
					svc.Environment = types.MappingWithEquals{}
				}
				svc.Environment["REDIS_PASSWORD_FILE"] = ptr(SecretPath)
			}
		}
		p.Services[name] = svc
	}
	return p, nil
}

// ErrNoPassword: the swarm runtime publishes every port on all of a node's
// interfaces (a swarm port has no host IP), so Redis must require a
// password.
var ErrNoPassword = errors.New("the swarm runtime needs redis.password_env: swarm publishes ports on all interfaces, so Redis must require a password (set password_env: REDIS_PASSWORD in the spec's redis section and export the variable)")

// toConfigs replaces the compose file's read-only bind mounts of files in
// the run directory ("./haproxy.cfg") by swarm configs.
func toConfigs(p *types.Project, svc *types.ServiceConfig) error {
	var keep []types.ServiceVolumeConfig
	for _, v := range svc.Volumes {
		if v.Type != types.VolumeTypeBind || !strings.HasPrefix(v.Source, "./") {
			keep = append(keep, v)
			continue
		}
		file := strings.TrimPrefix(v.Source, "./")
		key := configKey(file)
		p.Configs[key] = types.ConfigObjConfig{File: "./" + file}
		svc.Configs = append(svc.Configs, types.ServiceConfigObjConfig{Source: key, Target: v.Target})
	}
	svc.Volumes = keep
	return nil
}

// configKey names a rendered file's config: redis-master.conf →
// redis-master_conf (stack deploy prefixes it with the stack name).
func configKey(file string) string { return strings.ReplaceAll(file, ".", "_") }

// hostPorts publishes in host mode (dnsrr allows no ingress routing), on
// the task's node. A scaled app publishes nothing: its tasks could not all
// bind one port on one node; HAProxy reaches them over the network.
func hostPorts(ports []types.ServicePortConfig, replicas int) []types.ServicePortConfig {
	if replicas > 1 {
		return nil
	}
	out := make([]types.ServicePortConfig, 0, len(ports))
	for _, pc := range ports {
		pc.HostIP = "" // swarm cannot bind an address; see ErrNoPassword
		pc.Mode = "host"
		out = append(out, pc)
	}
	return out
}

// readSecret is the shell that reads the password from the secret file
// into pw with the shell's own read (an image need have no cat), $$
// escaping the stack file's interpolation.
func readSecret() string {
	return fmt.Sprintf(`pw=; IFS= read -r pw < %s;`, SecretPath)
}

// RedisPasswordExit is the exit status of a Redis task that could not read
// its password (EX_CONFIG): it does not start without one.
const RedisPasswordExit = 78

// redisEntrypoint starts redis-server on its config with requirepass and
// masterauth fed on stdin from the secret file, and fails closed: a node
// whose secret is missing, unreadable or empty says so, naming itself, and
// exits RedisPasswordExit instead of starting without a password.
func redisEntrypoint(node string) types.ShellCommand {
	script := fmt.Sprintf(`%[1]s [ -n "$$pw" ] || { echo "duckbench: redis node %[2]s could not read its password from %[3]s (missing, unreadable or empty): not starting without one" >&2; exit %[4]d; }; `+
		`printf 'requirepass "%%s"\nmasterauth "%%s"\n' "$$pw" "$$pw" | exec redis-server %[5]s -`,
		readSecret(), node, SecretPath, RedisPasswordExit, compose.RedisConfPath)
	return types.ShellCommand{"sh", "-c", script}
}

// redisHealth pings the node with the secret; a replica is healthy once
// its link to the master is up.
func redisHealth(port int, master bool) types.HealthCheckTest {
	if master {
		return types.HealthCheckTest{"CMD-SHELL", fmt.Sprintf(`%s test "$$(REDISCLI_AUTH="$$pw" redis-cli -p %d ping)" = PONG`, readSecret(), port)}
	}
	return types.HealthCheckTest{"CMD-SHELL",
		fmt.Sprintf(`%s case "$$(REDISCLI_AUTH="$$pw" redis-cli -p %d info replication)" in *master_link_status:up*) exit 0;; esac; exit 1`, readSecret(), port)}
}

// passwordFromFile rewrites a builtin app's --redis-password-env NAME into
// --redis-password-file SecretPath (nil stays nil: an image's own command).
func passwordFromFile(cmd types.ShellCommand) types.ShellCommand {
	if cmd == nil {
		return nil
	}
	out := slices.Clone(cmd)
	for i := 0; i+1 < len(out); i++ {
		if out[i] == "--redis-password-env" {
			out[i], out[i+1] = "--redis-password-file", SecretPath
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// marshal writes the stack in the compose file format 3.8 that `docker
// stack deploy` validates: a version key, no name keys, no depends_on,
// published ports as integers.
func marshal(p *types.Project) ([]byte, error) {
	b, err := p.MarshalYAML()
	if err != nil {
		return nil, fmt.Errorf("marshal swarm stack: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("marshal swarm stack: %w", err)
	}
	root := doc.Content[0]
	yamlnode.Delete(root, "name")
	root.Content = append([]*yaml.Node{
		{Kind: yaml.ScalarNode, Value: "version"},
		{Kind: yaml.ScalarNode, Value: stackFileVersion, Style: yaml.DoubleQuotedStyle},
	}, root.Content...)
	if services := yamlnode.Get(root, "services"); services != nil {
		for i := 1; i < len(services.Content); i += 2 {
			svc := services.Content[i]
			yamlnode.Delete(svc, "name")
			yamlnode.Delete(svc, "depends_on")
			for _, pn := range yamlnode.Seq(yamlnode.Get(svc, "ports")) {
				if pub := yamlnode.Get(pn, "published"); pub != nil {
					if _, err := strconv.Atoi(pub.Value); err == nil {
						pub.Tag, pub.Style = "!!int", 0
					}
				}
			}
		}
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Generated by duckbench; swarm stack %q. Do not edit.\n", p.Name)
	fmt.Fprintf(&buf, "# The secret %s_%s must exist: duckbench up creates it from the variable redis.password_env names.\n", p.Name, SecretKey)
	fmt.Fprintf(&buf, "# docker stack deploy --resolve-image never -c %s %s\n", FileName, p.Name)
	if err := yamlnode.Encode(&buf, &doc); err != nil {
		return nil, fmt.Errorf("marshal swarm stack: %w", err)
	}
	return buf.Bytes(), nil
}

// Files renders the config files of s for the swarm target.
func Files(s *spec.Spec) (*configgen.Files, error) {
	return configgen.Render(s, configgen.Target{Runtime: "swarm"})
}
