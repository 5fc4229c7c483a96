// Command gen writes the generated dashboards, the README panel table and the
// provisioning prometheus.yml (run through go generate ./dashboards).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/duckbench/duckbench/dashboards"
)

func main() {
	out := flag.String("o", "json", "directory for the dashboard JSON")
	readme := flag.String("readme", "", "README to write the panel table into (between the markers)")
	prom := flag.String("prometheus", "", "path of the provisioning prometheus.yml to write")
	flag.Parse()
	if err := run(*out, *readme, *prom); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out, readme, prom string) error {
	if _, err := dashboards.Write(out); err != nil {
		return err
	}
	if readme != "" {
		if err := dashboards.UpdateReadme(readme); err != nil {
			return err
		}
	}
	if prom != "" {
		if err := os.WriteFile(prom, dashboards.ComposePrometheusConfig(), 0o644); err != nil {
			return fmt.Errorf("write prometheus config: %w", err)
		}
	}
	return nil
}
