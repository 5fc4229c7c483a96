package stack

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/duckbench/duckbench/spec"
)

// PortOptions tune ResolvePorts.
type PortOptions struct {
	// Skip names listener paths (spec.Listener.Path) the runtime does not
	// open on the host, e.g. the local Runtime API, a unix socket.
	Skip []string
	// NoCheck leaves the fixed ports unchecked: for rendering files that
	// nothing listens on yet.
	NoCheck bool
	// Picked is told every auto port as it is picked (nil: nobody).
	Picked func(path string, p spec.Port)
}

// ResolvePorts makes the host ports of s usable before anything starts: it
// checks that every fixed port is free on 127.0.0.1 and given to one
// service only, and replaces every "auto" (or unset) port with a free one.
// The listeners that found the auto ports stay open until all are picked,
// so no two picks collide. A taken port is an error wrapping ErrPortInUse
// that names the port, its service and its field.
func ResolvePorts(s *spec.Spec, o PortOptions) error {
	var held []net.Listener
	defer func() {
		for _, ln := range held {
			ln.Close()
		}
	}()
	used := map[spec.Port]string{}
	var auto []spec.Listener
	for _, li := range s.Listeners() {
		if slices.Contains(o.Skip, li.Path) {
			continue
		}
		if li.Port.IsAuto() || *li.Port == 0 {
			auto = append(auto, li)
			continue
		}
		p := *li.Port
		if other, dup := used[p]; dup {
			return fmt.Errorf("port %d of %s (%s) is also %s: %w", int(p), listenerOwner(s, li.Path), li.Path, other, ErrPortInUse)
		}
		used[p] = li.Path
		if o.NoCheck {
			continue
		}
		ln, err := net.Listen("tcp", loopback(p))
		if err != nil {
			return fmt.Errorf("port %d of %s (%s): %w: %v", int(p), listenerOwner(s, li.Path), li.Path, ErrPortInUse, err)
		}
		ln.Close()
	}
	for _, li := range auto {
		ln, p, err := freePort(used)
		if err != nil {
			return fmt.Errorf("pick a free port for %s (%s): %w", listenerOwner(s, li.Path), li.Path, err)
		}
		held = append(held, ln)
		used[p] = li.Path
		*li.Port = p
		if o.Picked != nil {
			o.Picked(li.Path, p)
		}
	}
	return nil
}

// freePort listens on a free port of 127.0.0.1 that is not in used and
// returns the open listener: the caller holds it until every port is
// picked. The kernel never hands out a port that is listened on, but a
// fixed port of the spec that is not open yet could come back.
func freePort(used map[spec.Port]string) (net.Listener, spec.Port, error) {
	var skipped []net.Listener
	defer func() {
		for _, ln := range skipped {
			ln.Close()
		}
	}()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, 0, err
		}
		p := spec.Port(ln.Addr().(*net.TCPAddr).Port)
		if _, taken := used[p]; !taken {
			return ln, p, nil
		}
		skipped = append(skipped, ln)
	}
	return nil, 0, fmt.Errorf("no free port on 127.0.0.1 outside the spec's fixed ports")
}

// loopback is 127.0.0.1:p.
func loopback(p spec.Port) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(int(p))) }

// listenerOwner names the service behind a spec port field, for messages.
func listenerOwner(s *spec.Spec, path string) string {
	switch {
	case strings.HasPrefix(path, "redis."):
		for _, n := range s.Redis.Nodes() {
			if strings.HasPrefix(path, n.Path+".") {
				return n.Name
			}
		}
	case strings.HasPrefix(path, "apps["):
		var i int
		if _, err := fmt.Sscanf(path, "apps[%d]", &i); err == nil && i < len(s.Apps) {
			return s.Apps[i].Name
		}
	case strings.HasPrefix(path, "haproxy."):
		return "haproxy"
	}
	return path
}
