package compose

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/duckbench/duckbench/dashboards"
)

// The optional `observability` profile: Prometheus and Grafana provisioned
// with duckbench's datasource, dashboards and rules. Both run with
// network_mode host, listening on 127.0.0.1 only, because what they scrape
// (duckbench's exporter, HAProxy's published exporter) is on the host's
// loopback. Start it with `docker compose --profile observability up -d`
// (v1: COMPOSE_PROFILES=observability docker-compose up -d).
const (
	ObservabilityProfile = "observability"
	// ObservabilityDir is the run-dir subdirectory of the profile's files.
	ObservabilityDir = "observability"

	DefaultPrometheusImage = "prom/prometheus:v2.53.0"
	DefaultGrafanaImage    = "grafana/grafana:10.4.2"
	PrometheusListen       = "127.0.0.1:9090"
	GrafanaListenPort      = "3000"
)

// grafanaDatasource and grafanaProvider mirror dashboards/provisioning/grafana.
const grafanaDatasource = `apiVersion: 1
datasources:
  - name: Prometheus (duckbench)
    uid: ` + dashboards.DatasourceUID + `
    type: prometheus
    access: proxy
    url: http://` + PrometheusListen + `
    isDefault: true
    editable: false
    jsonData:
      timeInterval: ` + dashboards.ScrapeInterval + `
`

const grafanaProvider = `apiVersion: 1
providers:
  - name: duckbench
    folder: duckbench
    type: file
    disableDeletion: true
    allowUiUpdates: false
    updateIntervalSeconds: 30
    options:
      path: /var/lib/grafana/dashboards/duckbench
      foldersFromFilesStructure: false
`

// addObservability adds the profile's two services to p.
func addObservability(p *types.Project) {
	d := "./" + ObservabilityDir
	prom := types.ServiceConfig{Name: "prometheus"}
	prom.Profiles = []string{ObservabilityProfile}
	prom.Image = DefaultPrometheusImage
	prom.NetworkMode = "host"
	// Native histograms on, as for `run --prometheus`: the load latency's
	// 1.1 % native buckets keep a dashboard's quantiles within ~1 % of the
	// report's (the ×1.25 classic buckets alone: up to ~12 % off).
	prom.Command = types.ShellCommand{
		"--enable-feature=native-histograms",
		"--config.file=/etc/prometheus/prometheus.yml",
		"--storage.tsdb.path=/prometheus",
		"--web.listen-address=" + PrometheusListen,
	}
	prom.Volumes = []types.ServiceVolumeConfig{
		bindRO(d+"/prometheus.yml", "/etc/prometheus/prometheus.yml"),
		bindRO(d+"/rules", dashboards.ComposeRulesDir),
	}
	prom.HealthCheck = health(types.HealthCheckTest{"CMD", "wget", "-q", "-O", "/dev/null", "http://" + PrometheusListen + "/-/ready"})
	p.Services[prom.Name] = prom

	g := types.ServiceConfig{Name: "grafana"}
	g.Profiles = []string{ObservabilityProfile}
	g.Image = DefaultGrafanaImage
	g.NetworkMode = "host"
	g.Environment = types.MappingWithEquals{
		"GF_SERVER_HTTP_ADDR":        ptr("127.0.0.1"),
		"GF_SERVER_HTTP_PORT":        ptr(GrafanaListenPort),
		"GF_AUTH_ANONYMOUS_ENABLED":  ptr("true"),
		"GF_AUTH_ANONYMOUS_ORG_ROLE": ptr("Viewer"),
	}
	g.Volumes = []types.ServiceVolumeConfig{
		bindRO(d+"/grafana/datasources", "/etc/grafana/provisioning/datasources"),
		bindRO(d+"/grafana/dashboards", "/etc/grafana/provisioning/dashboards"),
		bindRO(d+"/dashboards", "/var/lib/grafana/dashboards/duckbench"),
	}
	g.HealthCheck = health(types.HealthCheckTest{"CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:" + GrafanaListenPort + "/api/health"})
	g.DependsOn = healthyDeps(prom.Name)
	p.Services[g.Name] = g
}

// WriteObservability writes the profile's files under runDir/observability:
// prometheus.yml, the rule files, the dashboards' JSON and Grafana's
// provisioning.
func WriteObservability(runDir string) error {
	d := filepath.Join(runDir, ObservabilityDir)
	for _, sub := range []string{"rules", "dashboards", "grafana/datasources", "grafana/dashboards"} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o755); err != nil {
			return fmt.Errorf("write observability files: %w", err)
		}
	}
	files := map[string][]byte{
		"prometheus.yml":                     dashboards.ComposePrometheusConfig(),
		"grafana/datasources/duckbench.yaml": []byte(grafanaDatasource),
		"grafana/dashboards/duckbench.yaml":  []byte(grafanaProvider),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(d, name), b, 0o644); err != nil {
			return fmt.Errorf("write observability files: %w", err)
		}
	}
	if _, err := dashboards.WriteRules(filepath.Join(d, "rules")); err != nil {
		return fmt.Errorf("write observability files: %w", err)
	}
	if _, err := dashboards.Write(filepath.Join(d, "dashboards")); err != nil {
		return fmt.Errorf("write observability files: %w", err)
	}
	return nil
}
