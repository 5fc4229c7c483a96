package spec

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// position is a 1-based line and column.
type position struct{ line, col int }

// meta is what Parse learnt from the YAML that the structs cannot hold:
// where each field was written and which ones were written at all (so that
// defaults never turn an explicit bad value into a good one).
type meta struct {
	file string
	pos  map[string]position // field path -> position of its value
	set  map[string]bool     // field path -> written with a non-null value
	raw  map[string]string   // field path -> scalar text of a text-decoded value
}

// maxAliasDepth bounds alias resolution (an alias of an alias of …).
const maxAliasDepth = 64

// decoder fills the spec structs from the YAML AST, strictly: unknown keys,
// wrong node kinds and bad scalars are collected as located errors.
type decoder struct {
	m       *meta
	anchors map[string]ast.Node
	errs    Errors
	depth   int
	merged  int // entries copied by merge keys so far, against alias bombs
}

// maxMerged bounds the entries merge keys may copy in one document.
const maxMerged = 10000

func tokenPos(tk *token.Token) position {
	if tk == nil || tk.Position == nil {
		return position{1, 1}
	}
	return position{max(tk.Position.Line, 1), max(tk.Position.Column, 1)}
}

// nodePos is where n starts; a block mapping starts at its first key (its
// own token is the first ':').
func nodePos(n ast.Node) position {
	switch v := n.(type) {
	case nil:
		return position{1, 1}
	case *ast.MappingNode:
		if !v.IsFlowStyle && len(v.Values) > 0 && v.Values[0].Key != nil {
			return nodePos(v.Values[0].Key)
		}
	case *ast.MappingValueNode:
		if v.Key != nil {
			return nodePos(v.Key)
		}
	}
	return tokenPos(n.GetToken())
}

func (d *decoder) errorf(p position, path, format string, args ...any) {
	d.errs = append(d.errs, FieldError{File: d.m.file, Path: path, Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, args...)})
}

// collectAnchors records every anchor in the document for alias resolution.
func (d *decoder) collectAnchors(n ast.Node) {
	ast.Walk(visitorFunc(func(n ast.Node) {
		if a, ok := n.(*ast.AnchorNode); ok && a.Name != nil {
			d.anchors[a.Name.String()] = a.Value
		}
	}), n)
}

type visitorFunc func(ast.Node)

func (f visitorFunc) Visit(n ast.Node) ast.Visitor { f(n); return f }

// resolve strips anchors and tags and follows aliases. It returns nil for an
// alias it cannot resolve (an error is recorded).
func (d *decoder) resolve(n ast.Node, path string) ast.Node {
	for i := 0; n != nil; i++ {
		if i > maxAliasDepth {
			d.errorf(nodePos(n), path, "aliases nested too deeply")
			return nil
		}
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		case *ast.AliasNode:
			name := ""
			if v.Value != nil {
				name = v.Value.String()
			}
			target, ok := d.anchors[name]
			if !ok {
				d.errorf(nodePos(n), path, "unknown alias %q", "*"+name)
				return nil
			}
			n = target
		default:
			return n
		}
	}
	return n
}

// describe names a node's kind for messages: "a mapping", "the string \"x\"".
func describe(n ast.Node) string {
	switch v := n.(type) {
	case nil, *ast.NullNode:
		return "null"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode:
		return fmt.Sprintf("the string %q", clip(v.Value))
	case *ast.LiteralNode:
		return "a block string"
	case *ast.BoolNode:
		return fmt.Sprintf("the boolean %v", v.Value)
	case *ast.IntegerNode:
		return "the integer " + v.Token.Value
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "the number " + n.GetToken().Value
	}
	return "a " + strings.ToLower(n.Type().String())
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// scalarText is the text of a scalar node as a string field reads it.
func scalarText(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		if v.Value == nil {
			return "", true
		}
		return v.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return n.GetToken().Value, true
	}
	return "", false
}

// mappingEntries lists a mapping's key/value pairs, merge keys ("<<") first
// so that the mapping's own keys win.
func (d *decoder) mappingEntries(n ast.Node, path string) (entries []*ast.MappingValueNode, merged int) {
	var own []*ast.MappingValueNode
	switch v := n.(type) {
	case *ast.MappingNode:
		own = v.Values
	case *ast.MappingValueNode:
		own = []*ast.MappingValueNode{v}
	}
	var fromMerge, rest []*ast.MappingValueNode
	for _, mv := range own {
		if mv.Key != nil && mv.Key.IsMergeKey() {
			if d.merged > maxMerged {
				return nil, 0 // already reported
			}
			d.depth++
			if d.depth > maxAliasDepth {
				d.errorf(nodePos(mv.Key), path, "merge keys nested too deeply")
				d.depth--
				continue
			}
			src := d.resolve(mv.Value, path)
			var srcs []ast.Node
			if seq, ok := src.(*ast.SequenceNode); ok {
				for _, s := range seq.Values {
					srcs = append(srcs, d.resolve(s, path))
				}
			} else {
				srcs = []ast.Node{src}
			}
			for _, s := range srcs {
				switch s.(type) {
				case *ast.MappingNode, *ast.MappingValueNode:
					sub, _ := d.mappingEntries(s, path)
					if d.merged > maxMerged { // reported deeper down
						d.depth--
						return nil, 0
					}
					d.merged += len(sub)
					if d.merged > maxMerged {
						d.errorf(nodePos(mv.Key), path, "merge keys expand to more than %d entries", maxMerged)
						d.depth--
						return nil, 0
					}
					fromMerge = append(fromMerge, sub...)
				case nil:
				default:
					d.errorf(nodePos(mv.Value), path, "merge key \"<<\" needs a mapping (got %s)", describe(s))
				}
			}
			d.depth--
			continue
		}
		rest = append(rest, mv)
	}
	return append(fromMerge, rest...), len(fromMerge)
}

func isMapping(n ast.Node) bool {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return true
	}
	return false
}

// fieldInfo is one YAML key of a struct (inline structs flattened).
type fieldInfo struct {
	key   string
	index []int
}

var fieldCache sync.Map // reflect.Type -> []fieldInfo

// structFields lists t's YAML keys in declaration order.
func structFields(t reflect.Type) []fieldInfo {
	if v, ok := fieldCache.Load(t); ok {
		return v.([]fieldInfo)
	}
	var out []fieldInfo
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.PkgPath != "" {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(","+opts+",", ",inline,") && f.Type.Kind() == reflect.Struct {
			for _, sub := range structFields(f.Type) {
				out = append(out, fieldInfo{key: sub.key, index: append([]int{i}, sub.index...)})
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out = append(out, fieldInfo{key: name, index: []int{i}})
	}
	fieldCache.Store(t, out)
	return out
}

// keysOf lists a struct type's YAML keys.
func keysOf(t reflect.Type) []string {
	fs := structFields(t)
	keys := make([]string, len(fs))
	for i, f := range fs {
		keys[i] = f.key
	}
	return keys
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// decode fills v from n; path names v in messages.
func (d *decoder) decode(n ast.Node, v reflect.Value, path string) {
	if n != nil {
		if _, seen := d.m.pos[path]; !seen {
			d.m.pos[path] = nodePos(n)
		}
	}
	orig := n
	n = d.resolve(n, path)
	if n == nil {
		return
	}
	if _, null := n.(*ast.NullNode); null {
		return // written but empty: same as absent
	}
	if _, comment := n.(*ast.CommentGroupNode); comment {
		return
	}
	d.m.set[path] = true
	p := nodePos(orig)

	if v.Kind() == reflect.Pointer {
		nv := reflect.New(v.Type().Elem())
		d.decode(n, nv.Elem(), path)
		v.Set(nv)
		return
	}
	if v.Type() == reflect.TypeFor[Paths]() {
		if text, ok := scalarText(n); ok { // one path, or a list below
			v.Set(reflect.ValueOf(Paths{text}))
			return
		}
	}
	if v.CanAddr() && v.Addr().Type().Implements(textUnmarshaler) {
		text, ok := scalarText(n)
		if !ok {
			d.errorf(p, path, "must be a single value (got %s)", describe(n))
			return
		}
		d.m.raw[path] = text
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(text)); err != nil {
			d.errorf(p, path, "%s", err.Error())
		}
		return
	}

	switch v.Kind() {
	case reflect.Struct, reflect.Map:
		switch {
		case !isMapping(n) && v.Kind() == reflect.Struct:
			d.errorf(p, path, "must be a mapping of keys (got %s)", describe(n))
		case !isMapping(n):
			d.errorf(p, path, "must be a mapping (got %s)", describe(n))
		case v.Kind() == reflect.Struct:
			d.decodeStruct(n, v, path)
		default:
			d.decodeMap(n, v, path)
		}
	case reflect.Slice:
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			d.errorf(p, path, "must be a list (got %s)", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(seq.Values), len(seq.Values))
		for i, item := range seq.Values {
			d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.String:
		text, ok := scalarText(n)
		if !ok {
			d.errorf(p, path, "must be a string (got %s)", describe(n))
			return
		}
		v.SetString(text)
	case reflect.Bool:
		b, ok := n.(*ast.BoolNode)
		if !ok {
			d.errorf(p, path, "must be true or false (got %s)", describe(n))
			return
		}
		v.SetBool(b.Value)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		d.decodeInt(n, v, p, path)
	case reflect.Float32, reflect.Float64:
		d.decodeFloat(n, v, p, path)
	default:
		d.errorf(p, path, "cannot decode into %s", v.Type())
	}
}

// decodeMap fills map v from mapping n, rejecting duplicate keys (a key
// merged in with "<<" may be overridden once).
func (d *decoder) decodeMap(n ast.Node, v reflect.Value, path string) {
	m := reflect.MakeMap(v.Type())
	seen := map[string]position{}
	entries, merged := d.mappingEntries(n, path)
	for i, mv := range entries {
		key, ok := scalarText(d.resolve(mv.Key, path))
		if !ok {
			d.errorf(nodePos(mv.Key), path, "keys must be strings (got %s)", describe(mv.Key))
			continue
		}
		kpath := join(path, key)
		if first, dup := seen[key]; dup && i >= merged && first != nodePos(mv.Key) {
			d.errorf(nodePos(mv.Key), kpath, "duplicate key (first at line %d)", first.line)
			continue
		}
		if i >= merged {
			seen[key] = nodePos(mv.Key)
		}
		ev := reflect.New(v.Type().Elem()).Elem()
		d.decode(mv.Value, ev, kpath)
		m.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), ev)
	}
	v.Set(m)
}

// decodeInt sets integer v from n, refusing what does not fit.
func (d *decoder) decodeInt(n ast.Node, v reflect.Value, p position, path string) {
	i, ok := n.(*ast.IntegerNode)
	if !ok {
		d.errorf(p, path, "must be an integer (got %s)", describe(n))
		return
	}
	var x int64
	fits := true
	switch iv := i.Value.(type) {
	case int64:
		x = iv
	case uint64:
		x, fits = int64(iv), iv <= math.MaxInt64
	}
	if !fits || v.OverflowInt(x) {
		d.errorf(p, path, "integer %s is too large", i.Token.Value)
		return
	}
	v.SetInt(x)
}

// decodeFloat sets float v from an integer or float n; NaN and infinities
// are refused.
func (d *decoder) decodeFloat(n ast.Node, v reflect.Value, p position, path string) {
	var f float64
	switch x := n.(type) {
	case *ast.IntegerNode:
		f, _ = strconv.ParseFloat(fmt.Sprint(x.Value), 64)
	case *ast.FloatNode:
		f = x.Value
	default:
		d.errorf(p, path, "must be a number (got %s)", describe(n))
		return
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		d.errorf(p, path, "must be a finite number (got %s)", describe(n))
		return
	}
	v.SetFloat(f)
}

// decodeStruct fills struct v from mapping n, rejecting unknown and
// duplicate keys.
func (d *decoder) decodeStruct(n ast.Node, v reflect.Value, path string) {
	fields := structFields(v.Type())
	byKey := make(map[string]fieldInfo, len(fields))
	for _, f := range fields {
		byKey[f.key] = f
	}
	seen := map[string]position{}
	entries, merged := d.mappingEntries(n, path)
	for i, mv := range entries {
		kn := d.resolve(mv.Key, path)
		key, ok := scalarText(kn)
		if !ok {
			d.errorf(nodePos(mv.Key), path, "keys must be strings (got %s)", describe(kn))
			continue
		}
		kpos := nodePos(mv.Key)
		if path == "" && strings.HasPrefix(key, "x-") {
			continue // extension keys hold YAML anchors, as in compose files
		}
		f, known := byKey[key]
		if !known {
			d.errorf(kpos, join(path, key), "unknown key %q%s", key, unknownHint(key, keysOf(v.Type())))
			continue
		}
		kpath := join(path, key)
		if first, dup := seen[key]; dup && i >= merged && first != kpos {
			d.errorf(kpos, kpath, "duplicate key (first at line %d)", first.line)
			continue
		}
		if i >= merged { // the mapping's own key overrides a merged one
			seen[key] = kpos
		}
		val := mv.Value
		if val == nil {
			continue
		}
		// A null value sits at the key, which reads better than the next line.
		if _, null := val.(*ast.NullNode); null {
			d.m.pos[kpath] = kpos
		}
		d.decode(val, v.FieldByIndex(f.index), kpath)
	}
}

// unknownHint suggests a close key or lists the valid ones.
func unknownHint(key string, keys []string) string {
	if c := suggest(key, keys); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return " (valid keys: " + strings.Join(keys, ", ") + ")"
}
