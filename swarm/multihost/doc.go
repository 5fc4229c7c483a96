// Package multihost holds the integration tests of the swarm runtime and
// the load agents on a real three-host swarm (package internal/testhosts):
// a stack spread over the hosts, images copied to the nodes that lack
// them, one agent per host, node loss. It has no code of its own.
package multihost
