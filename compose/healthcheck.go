package compose

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Probe is the container health check behind the hidden `duckbench
// healthcheck TARGET` command: the app image is FROM scratch, with no shell
// or curl, so its duckbench binary probes the app itself. TARGET is an http(s) URL
// (healthy on a 2xx/3xx answer) or tcp:HOST:PORT (healthy when a connection
// opens).
func Probe(ctx context.Context, target string) error {
	switch {
	case strings.HasPrefix(target, "tcp:"):
		addr := strings.TrimPrefix(target, "tcp:")
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return fmt.Errorf("probe %q: %w", target, err)
		}
		return c.Close()
	case strings.HasPrefix(target, "http://"), strings.HasPrefix(target, "https://"):
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return fmt.Errorf("probe %q: %w", target, err)
		}
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			return fmt.Errorf("probe %q: %w", target, err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 400 {
			return fmt.Errorf("probe %q: status %s", target, resp.Status)
		}
		return nil
	}
	return fmt.Errorf("probe %q: want an http:// URL or tcp:HOST:PORT", target)
}
