package spec

import (
	"fmt"
	"reflect"
	"sort"

	"github.com/goccy/go-yaml"
)

// Change is one field that differs between two specs.
type Change struct {
	// Path is the field path, e.g. "haproxy.backends[0].servers[1].weight".
	Path string
	// Old and New are the YAML values ("" when the field is absent).
	Old, New string
}

func (c Change) String() string {
	switch {
	case c.Old == "":
		return fmt.Sprintf("+ %s: %s", c.Path, c.New)
	case c.New == "":
		return fmt.Sprintf("- %s: %s", c.Path, c.Old)
	}
	return fmt.Sprintf("~ %s: %s → %s", c.Path, c.Old, c.New)
}

// Diff compares two specs field by field, defaults included (a field set
// to its default is no change), and returns the changes sorted by path.
func Diff(old, new *Spec) ([]Change, error) {
	a, err := generic(old)
	if err != nil {
		return nil, err
	}
	b, err := generic(new)
	if err != nil {
		return nil, err
	}
	var out []Change
	walk("", a, b, &out)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func generic(s *Spec) (any, error) {
	b, err := yaml.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("marshal spec: %w", err)
	}
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("unmarshal spec: %w", err)
	}
	return v, nil
}

func walk(path string, a, b any, out *[]Change) {
	if reflect.DeepEqual(a, b) {
		return
	}
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		for k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			walk(p, am[k], bm[k], out)
		}
		return
	}
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok && bok {
		for i := 0; i < max(len(as), len(bs)); i++ {
			var x, y any
			if i < len(as) {
				x = as[i]
			}
			if i < len(bs) {
				y = bs[i]
			}
			walk(fmt.Sprintf("%s[%d]", path, i), x, y, out)
		}
		return
	}
	*out = append(*out, Change{Path: path, Old: scalar(a), New: scalar(b)})
}

func scalar(v any) string {
	if v == nil {
		return ""
	}
	switch v.(type) {
	case map[string]any, []any:
		b, err := yaml.MarshalWithOptions(v, yaml.Flow(true))
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b[:len(b)-1])
	}
	return fmt.Sprint(v)
}
