package stack

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"
)

// ProbePublishedPorts dials every port of ep (HAProxy's frontend and
// Runtime API, each Redis node, each app with a URL) until it accepts, up
// to 25 tries 200 ms apart each: a container runtime's published port can
// lag the container's health by a moment.
func ProbePublishedPorts(ctx context.Context, ep Endpoints) error {
	addrs := []string{strings.TrimPrefix(ep.HAProxy.URL, "http://"), ep.HAProxy.Stats}
	for _, r := range ep.Redis {
		addrs = append(addrs, r.Addr)
	}
	for _, a := range ep.Apps {
		if a.URL != "" { // a scaled swarm app has no single address
			addrs = append(addrs, strings.TrimPrefix(a.URL, "http://"))
		}
	}
	var dl net.Dialer
	for _, a := range addrs {
		var err error
		for i := 0; i < 25; i++ {
			var c net.Conn
			if c, err = dl.DialContext(ctx, "tcp", a); err == nil {
				c.Close()
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("probe published port %s: %w", a, ctx.Err())
			case <-time.After(200 * time.Millisecond):
			}
		}
		if err != nil {
			return fmt.Errorf("probe published port %s: %w", a, err)
		}
	}
	return nil
}
