package redisprobe

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Roles of a Node, as in stack.RedisEndpoint.
const (
	RoleMaster  = "master"
	RoleReplica = "replica"
)

// Node is one redis-server the probes talk to.
type Node struct {
	Name   string
	Role   string // RoleMaster or RoleReplica
	Addr   string // host:port
	client *redis.Client
}

// NewNode returns a Node with its own small connection pool. The password
// ("" for none) goes to the client only; it is never logged or kept elsewhere.
func NewNode(name, role, addr, password string) *Node {
	c := redis.NewClient(&redis.Options{
		Addr:                  addr,
		Password:              password,
		Protocol:              2,
		DialTimeout:           time.Second,
		ReadTimeout:           2 * time.Second,
		WriteTimeout:          2 * time.Second,
		ContextTimeoutEnabled: true,
		MaxRetries:            -1, // a probe has its own deadline; no hidden retries
		PoolSize:              2,
		DialerRetries:         1,
		DisableIdentity:       true,
	})
	return &Node{Name: name, Role: role, Addr: addr, client: c}
}

// Info runs INFO (the default sections: server, replication, stats, …) and
// parses it.
func (n *Node) Info(ctx context.Context) (*Info, error) {
	s, err := n.client.Info(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("info %s %q: %w", n.Role, n.Name, err)
	}
	info, err := ParseInfo(s)
	if err != nil {
		return nil, fmt.Errorf("info %s %q: %w", n.Role, n.Name, err)
	}
	return info, nil
}

// Close closes the node's connections.
func (n *Node) Close() error { return n.client.Close() }

// LinkAddr is the local address of the replica's connection to its master
// ("laddr" of CLIENT LIST TYPE master): the address the master sees the
// replica at, which identifies it when it announces an inner address
// (a container's IP and port).
func (n *Node) LinkAddr(ctx context.Context) (string, error) {
	s, err := n.client.Do(ctx, "CLIENT", "LIST", "TYPE", "master").Text()
	if err != nil {
		return "", fmt.Errorf("client list on %q: %w", n.Name, err)
	}
	return parseLAddr(s), nil
}

// parseLAddr returns the first laddr= field of CLIENT LIST output.
func parseLAddr(s string) string {
	for _, f := range strings.Fields(s) {
		if v, ok := strings.CutPrefix(f, "laddr="); ok {
			return v
		}
	}
	return ""
}
