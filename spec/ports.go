package spec

import "fmt"

// Listener is one TCP port the stack listens on, named by its field path.
type Listener struct {
	// Path is the spec field, e.g. "redis.replicas[0].port".
	Path string
	// Port points into the spec, so a driver can resolve "auto" in place.
	Port *Port
}

// Listeners lists every port the stack may listen on, in spec order: Redis
// master and replicas, apps, the HAProxy frontend, the stats socket (a TCP
// port with compose only), HAProxy's Prometheus endpoint (unless disabled)
// and the stats page (when enabled). The probes exporter is not included.
func (s *Spec) Listeners() []Listener {
	out := []Listener{{"redis.master.port", &s.Redis.Master.Port}}
	for i := range s.Redis.Replicas {
		out = append(out, Listener{fmt.Sprintf("redis.replicas[%d].port", i), &s.Redis.Replicas[i].Port})
	}
	for i := range s.Apps {
		out = append(out, Listener{fmt.Sprintf("apps[%d].port", i), &s.Apps[i].Port})
	}
	h := &s.HAProxy
	out = append(out, Listener{"haproxy.port", &h.Port}, Listener{"haproxy.stats_socket.port", &h.StatsSocket.Port})
	if !h.Prometheus.Disabled {
		out = append(out, Listener{"haproxy.prometheus.port", &h.Prometheus.Port})
	}
	if h.StatsPage.Enabled {
		out = append(out, Listener{"haproxy.stats_page.port", &h.StatsPage.Port})
	}
	for i := range h.Binds {
		if !h.Binds[i].Entry { // the entry bind is haproxy.port
			out = append(out, Listener{fmt.Sprintf("haproxy.binds[%d].port", i), &h.Binds[i].Port})
		}
	}
	return out
}

// ResolveAutoPorts replaces every "auto" port with pick's answer. pick gets
// the field path (for messages); it is typically a free-port finder.
func (s *Spec) ResolveAutoPorts(pick func(path string) (Port, error)) error {
	for _, l := range s.Listeners() {
		if !l.Port.IsAuto() {
			continue
		}
		p, err := pick(l.Path)
		if err != nil {
			return fmt.Errorf("resolve %s: %w", l.Path, err)
		}
		*l.Port = p
	}
	return nil
}
