package runner

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/duckbench/duckbench/dashboards"
	"github.com/duckbench/duckbench/stack"
)

// LocalPrometheus returns an AfterUp hook that starts the Debian prometheus
// binary on a free loopback port, scraping the run's exporter and HAProxy's
// own exporter, with duckbench's rules loaded and its TSDB in
// <run dir>/prometheus so that the run can be examined afterwards
// (`prometheus --storage.tsdb.path <run dir>/prometheus/data …`).
func LocalPrometheus(log io.Writer) func(ctx context.Context, ep stack.Endpoints, exporterAddr string) (func(), error) {
	return func(ctx context.Context, ep stack.Endpoints, exporterAddr string) (func(), error) {
		bin, err := exec.LookPath("prometheus")
		if err != nil {
			return nil, fmt.Errorf("--prometheus: prometheus not found (is it installed? apt-get install prometheus): %w", err)
		}
		dir := filepath.Join(ep.RunDir, "prometheus")
		if ep.RunDir == "" {
			dir = filepath.Join(os.TempDir(), "duckbench-prometheus")
		}
		var targets []string
		if exporterAddr != "" {
			targets = append(targets, dashboards.DefaultJob+"="+exporterAddr)
		}
		if ep.HAProxy.Prometheus != "" {
			targets = append(targets, dashboards.HAProxyJob+"="+ep.HAProxy.Prometheus)
		}
		rulesDir := filepath.Join(dir, "rules")
		if _, err := dashboards.WriteRules(rulesDir); err != nil {
			return nil, err
		}
		cfg := filepath.Join(dir, "prometheus.yml")
		if err := os.WriteFile(cfg, dashboards.PrometheusConfig(targets, rulesDir), 0o644); err != nil {
			return nil, fmt.Errorf("write prometheus config: %w", err)
		}
		listen, err := freeAddr()
		if err != nil {
			return nil, err
		}
		logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
		if err != nil {
			return nil, fmt.Errorf("create prometheus log: %w", err)
		}
		cmd := exec.Command(bin, dashboards.PrometheusArgs(cfg, filepath.Join(dir, "data"), listen)...)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
		if err := cmd.Start(); err != nil {
			logf.Close()
			return nil, fmt.Errorf("start prometheus: %w", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		stop := func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
			logf.Close()
			if log != nil {
				fmt.Fprintf(log, "prometheus stopped; examine the run later with:\n  prometheus --config.file=%s --storage.tsdb.path=%s --web.listen-address=127.0.0.1:9090\n",
					cfg, filepath.Join(dir, "data"))
			}
		}
		if err := waitReady(ctx, "http://"+listen+"/-/ready", exited); err != nil {
			stop()
			return nil, fmt.Errorf("prometheus did not become ready (log: %s): %w", logf.Name(), err)
		}
		if log != nil {
			fmt.Fprintf(log, "prometheus on http://%s (TSDB %s; targets %s)\n", listen, filepath.Join(dir, "data"), strings.Join(targets, ", "))
		}
		return stop, nil
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("pick a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitReady(ctx context.Context, url string, exited <-chan struct{}) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return fmt.Errorf("prometheus exited")
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("not ready after 30s")
}
