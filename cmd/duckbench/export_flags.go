package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/export"
	"github.com/duckbench/duckbench/runner"
)

// exportFlags are --remote-write, --pushgateway and --label, shared by
// run, check, capacity, ab and sweep.
type exportFlags struct {
	remoteWrite string
	pushgateway string
	labels      []string
}

func (f *exportFlags) add(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.remoteWrite, "remote-write", "", "send the run's series during the run to this Prometheus remote-write URL (e.g. http://127.0.0.1:9090/api/v1/write); a receiver that is down never fails the run")
	fl.StringVar(&f.pushgateway, "pushgateway", "", "push the run's summary to this Pushgateway URL under job duckbench")
	fl.StringArrayVar(&f.labels, "label", nil, "k=v recorded in result.json and put on every pushed series (commit, branch, PR); repeatable")
}

// reservedLabels are the identity labels duckbench sets itself.
var reservedLabels = map[string]bool{"run": true, "spec": true, "spec_hash": true, "runtime": true, "job": true, "instance": true}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// apply checks the flags and sets o's labels and exporter.
func (f *exportFlags) apply(o *runner.Options) error {
	labels, err := parseLabels(f.labels)
	if err != nil {
		return usageErr(err)
	}
	o.Labels = labels
	e := &export.Exporter{RemoteWrite: f.remoteWrite, Pushgateway: f.pushgateway, Log: progress}
	if e.Enabled() {
		o.Export = e
	}
	return nil
}

func parseLabels(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		switch {
		case !ok || !labelName.MatchString(k):
			return nil, fmt.Errorf("--label %q: want name=value with a Prometheus label name", kv)
		case reservedLabels[k]:
			names := make([]string, 0, len(reservedLabels))
			for n := range reservedLabels {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("--label %q: %s is set by duckbench (reserved: %s)", kv, k, strings.Join(names, ", "))
		}
		out[k] = v
	}
	return out, nil
}
