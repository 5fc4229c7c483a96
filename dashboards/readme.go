package dashboards

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
)

// Markers around the generated part of README.md.
const (
	readmeBegin = "<!-- BEGIN GENERATED: go generate ./dashboards -->"
	readmeEnd   = "<!-- END GENERATED -->"
)

// RuleGroup is one group of a Prometheus rule file.
type RuleGroup struct {
	Name  string `yaml:"name"`
	Rules []Rule `yaml:"rules"`
}

// Rule is one recording or alerting rule.
type Rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// Rules parses the embedded rule files, in file name order.
func Rules() ([]RuleGroup, error) {
	files, err := RuleFiles()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []RuleGroup
	for _, n := range names {
		var f struct {
			Groups []RuleGroup `yaml:"groups"`
		}
		if err := yaml.UnmarshalWithOptions(files[n], &f, yaml.DisallowUnknownField()); err != nil {
			return nil, fmt.Errorf("parse rule file %q: %w", n, err)
		}
		out = append(out, f.Groups...)
	}
	return out, nil
}

// PanelTable renders, in Markdown, every dashboard's panels with their
// queries, and every rule. README.md embeds it; a test keeps it true.
func PanelTable() (string, error) {
	all, err := All()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, d := range all {
		qs, err := QueriesFromJSON(d.JSON)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "### %s\n\n`json/%s` (uid `%s`)\n\n", d.Title, d.File, d.UID)
		b.WriteString("| Panel | Legend | Query |\n|---|---|---|\n")
		for _, q := range qs {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", mdCell(q.Panel), mdCode(q.Legend), mdCode(q.Expr))
		}
		b.WriteString("\n")
	}
	groups, err := Rules()
	if err != nil {
		return "", err
	}
	b.WriteString("### Prometheus rules (`rules/`)\n\n")
	b.WriteString("| Group | Rule | For | Expression |\n|---|---|---|---|\n")
	for _, g := range groups {
		for _, r := range g.Rules {
			name := r.Record
			if r.Alert != "" {
				name = "alert " + r.Alert
				if sev := r.Labels["severity"]; sev != "" {
					name += " (" + sev + ")"
				}
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdCell(g.Name), mdCode(name), mdCell(r.For), mdCode(oneLine(r.Expr)))
		}
	}
	return b.String(), nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func mdCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func mdCode(s string) string {
	if s == "" {
		return ""
	}
	return "`" + mdCell(s) + "`"
}

// RenderReadme returns readme with the part between the generated markers
// replaced by PanelTable.
func RenderReadme(readme []byte) ([]byte, error) {
	i := bytes.Index(readme, []byte(readmeBegin))
	j := bytes.Index(readme, []byte(readmeEnd))
	if i < 0 || j < i {
		return nil, fmt.Errorf("render readme: markers %q and %q not found", readmeBegin, readmeEnd)
	}
	table, err := PanelTable()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(readme[:i+len(readmeBegin)])
	b.WriteString("\n\n")
	b.WriteString(table)
	b.WriteString("\n")
	b.Write(readme[j:])
	return b.Bytes(), nil
}

// UpdateReadme rewrites the generated part of the README at path.
func UpdateReadme(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read readme: %w", err)
	}
	out, err := RenderReadme(data)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return fmt.Errorf("write readme: %w", err)
	}
	return nil
}
