package spec

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v4"

	"github.com/duckbench/duckbench/internal/yamlnode"
)

// FieldPath is a spec field path as validate prints it, e.g.
// "haproxy.backends[0].servers[1].maxconn"; an index may be [*], every
// element of the list.
type FieldPath struct {
	text  string
	steps []pathStep
	// file is set for a directive of a config file (haproxy.file.…,
	// redis.file.…): it is set in the file at render, not in the YAML.
	file *FileSetting
}

// pathStep is a key, or an index into a list (all: [*]).
type pathStep struct {
	key   string
	index int
	isIdx bool
	all   bool
}

// String is the path as written.
func (p FieldPath) String() string { return p.text }

// ParseFieldPath parses a field path: keys separated by dots, each key
// followed by any number of [N] or [*].
func ParseFieldPath(s string) (FieldPath, error) {
	p := FieldPath{text: s}
	if s == "" {
		return p, errors.New("empty field path")
	}
	if strings.HasPrefix(s, "haproxy.file.") || strings.HasPrefix(s, "redis.file.") {
		fs, err := parseFileSetting(s)
		p.file = &fs
		return p, err
	}
	for _, seg := range strings.Split(s, ".") {
		key, rest, _ := strings.Cut(seg, "[")
		if key == "" {
			return p, fmt.Errorf("field path %q: empty key (want e.g. haproxy.backends[0].balance)", s)
		}
		if strings.ContainsAny(key, "]=, \t") {
			return p, fmt.Errorf("field path %q: bad key %q", s, key)
		}
		p.steps = append(p.steps, pathStep{key: key})
		if rest == "" && !strings.Contains(seg, "[") {
			continue
		}
		rest = "[" + rest
		for rest != "" {
			idx, tail, ok := strings.Cut(rest[1:], "]")
			if rest[0] != '[' || !ok {
				return p, fmt.Errorf("field path %q: bad index in %q (want [N] or [*])", s, seg)
			}
			st := pathStep{isIdx: true}
			if idx == "*" {
				st.all = true
			} else {
				n, err := strconv.Atoi(idx)
				if err != nil || n < 0 || strings.HasPrefix(idx, "+") {
					return p, fmt.Errorf("field path %q: bad index [%s] (want a number from 0, or *)", s, idx)
				}
				st.index = n
			}
			p.steps = append(p.steps, st)
			rest = tail
		}
	}
	return p, nil
}

// Setting is one field set to a value written as YAML (as it would be in
// the spec: 8, 2ms, leastconn, true).
type Setting struct {
	Path  FieldPath
	Value string
}

func (s Setting) String() string { return s.Path.String() + "=" + s.Value }

// ParseWith is Parse of data with settings applied first: each value is
// written into the YAML at its path (a missing key of a mapping is added;
// [*] sets it in every element of the list) and the result goes through the
// spec's own strict decoding, defaults and validation, so a bad value gets
// the usual error with its field path. The edited document has no lines of
// its own: errors name the file and the path, not a line.
func ParseWith(filename string, data []byte, settings []Setting) (*Spec, error) {
	if len(settings) == 0 {
		return Parse(filename, data)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// Parse locates the YAML error.
		if _, perr := Parse(filename, data); perr != nil {
			return nil, perr
		}
		return nil, fmt.Errorf("parse %s: %w", filepath.Base(filename), err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return Parse(filename, data)
	}
	var files []Setting
	for _, st := range settings {
		if st.Path.file != nil {
			files = append(files, st)
			continue
		}
		if err := set(doc.Content[0], st.Path.steps, st.Value, ""); err != nil {
			return nil, fmt.Errorf("%s: %w", st.Path, err)
		}
	}
	var buf bytes.Buffer
	if err := yamlnode.Encode(&buf, &doc); err != nil {
		return nil, fmt.Errorf("encode %s with %s: %w", filepath.Base(filename), settingsText(settings), err)
	}
	s, err := Parse(filename, buf.Bytes())
	if err == nil {
		err = s.setInFiles(files)
	}
	var es Errors
	if errors.As(err, &es) {
		// Lines of the edited document would point into the wrong file.
		for i := range es {
			es[i].Line, es[i].Col = 0, 0
		}
		return nil, es
	}
	return s, err
}

func settingsText(settings []Setting) string {
	var parts []string
	for _, s := range settings {
		parts = append(parts, s.String())
	}
	return strings.Join(parts, " ")
}

// set writes value at steps under n; at is the path so far (for errors).
func set(n *yaml.Node, steps []pathStep, value, at string) error {
	if n.Kind == yaml.AliasNode {
		return fmt.Errorf("%s is a YAML alias: write the value out to vary it", orTop(at))
	}
	st := steps[0]
	if st.isIdx {
		if n.Kind != yaml.SequenceNode {
			return fmt.Errorf("%s is not a list", orTop(at))
		}
		items := n.Content
		if st.all {
			if len(items) == 0 {
				return fmt.Errorf("%s[*]: the list is empty", at)
			}
			for i, it := range items {
				if err := setIn(n, i, it, steps, value, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
			return nil
		}
		if st.index >= len(items) {
			return fmt.Errorf("%s[%d]: the list has %d item(s)", at, st.index, len(items))
		}
		return setIn(n, st.index, items[st.index], steps, value, fmt.Sprintf("%s[%d]", at, st.index))
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("%s is not a mapping", orTop(at))
	}
	path := join(at, st.key)
	child := yamlnode.Get(n, st.key)
	if len(steps) == 1 {
		yamlnode.Set(n, st.key, scalarNode(value))
		return nil
	}
	if child == nil || (child.Kind == yaml.ScalarNode && child.Tag == "!!null") {
		if steps[1].isIdx {
			return fmt.Errorf("%s is not in the spec: write the list out to vary its items", path)
		}
		child = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		yamlnode.Set(n, st.key, child)
	}
	return set(child, steps[1:], value, path)
}

// setIn continues set below item i of list n.
func setIn(n *yaml.Node, i int, item *yaml.Node, steps []pathStep, value, at string) error {
	if len(steps) == 1 {
		n.Content[i] = scalarNode(value)
		return nil
	}
	return set(item, steps[1:], value, at)
}

// scalarNode is value as a plain YAML scalar: it decodes as the spec would
// decode it written by hand.
func scalarNode(value string) *yaml.Node {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(value), &n); err == nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 && n.Content[0].Kind == yaml.ScalarNode {
		return n.Content[0]
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}
}

func orTop(at string) string {
	if at == "" {
		return "the spec"
	}
	return at
}

// Vary is one swept field: its path and the values it takes, the first
// being the baseline.
type Vary struct {
	Path   FieldPath
	Values []string
}

// ParseVary parses PATH=V1,V2,… (the --vary flag). Values are YAML scalars
// as they would be written in the spec; none may be empty.
func ParseVary(s string) (Vary, error) {
	path, vals, ok := strings.Cut(s, "=")
	if !ok {
		return Vary{}, fmt.Errorf("--vary %q: want PATH=V1,V2,… (e.g. haproxy.backends[0].balance=roundrobin,leastconn)", s)
	}
	p, err := ParseFieldPath(strings.TrimSpace(path))
	if err != nil {
		return Vary{}, fmt.Errorf("--vary %q: %w", s, err)
	}
	v := Vary{Path: p}
	for _, val := range strings.Split(vals, ",") {
		val = strings.TrimSpace(val)
		if val == "" {
			return Vary{}, fmt.Errorf("--vary %q: empty value (want PATH=V1,V2,…)", s)
		}
		v.Values = append(v.Values, val)
	}
	return v, nil
}
