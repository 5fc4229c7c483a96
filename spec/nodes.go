package spec

import "fmt"

// Redis roles, as Node.Role and the stack's endpoints name them.
const (
	RoleMaster  = "master"
	RoleReplica = "replica"
)

// Node is one Redis node with its role and its place in the spec.
type Node struct {
	RedisNode
	// Role is RoleMaster or RoleReplica.
	Role string
	// Path is the node's field path: "redis.master" or "redis.replicas[N]".
	Path string
}

// Master reports whether n is the master.
func (n Node) Master() bool { return n.Role == RoleMaster }

// Nodes lists every Redis node, master first, then the replicas in spec
// order: the order they start in and the order every listing shows.
func (r Redis) Nodes() []Node {
	out := []Node{{RedisNode: r.Master, Role: RoleMaster, Path: "redis.master"}}
	for i, n := range r.Replicas {
		out = append(out, Node{RedisNode: n, Role: RoleReplica, Path: fmt.Sprintf("redis.replicas[%d]", i)})
	}
	return out
}

// names lists the Redis node names, master first.
func (r Redis) names() []string {
	var out []string
	for _, n := range r.Nodes() {
		out = append(out, n.Name)
	}
	return out
}
