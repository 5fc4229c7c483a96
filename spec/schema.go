package spec

import (
	"encoding/json"
	"reflect"
	"strings"
)

// SchemaID is the $id of the JSON Schema.
const SchemaID = "https://github.com/duckbench/duckbench/spec/duckbench.schema.json"

// schemaEnums lists the allowed values of string fields, by "Type.key".
var schemaEnums = map[string][]string{
	"Spec.version":                   {APIVersion},
	"Spec.runtime":                   Runtimes,
	"App.kind":                       AppKinds,
	"HAProxy.mode":                   HAProxyModes,
	"Backend.balance":                BalanceAlgorithms,
	"Workload.shape":                 LoadShapes,
	"Keys.distribution":              KeyDistributions,
	"Target.method":                  HTTPMethods,
	"Fault.action":                   FaultActions,
	"RedisSettings.maxmemory_policy": MaxmemoryPolicies,
}

// schemaRequired lists the keys a mapping must have, by type.
var schemaRequired = map[string][]string{
	"Spec":    {"name"},
	"App":     {"name"},
	"Backend": {"name"},
	"Server":  {"app"},
	"Route":   {"path_prefix", "backend"},
	"Target":  {"path"},
	"Step":    {"rate", "for"},
	"Fault":   {"at", "action", "target"},
}

const durationPattern = `^(0|-?([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$`

// scalarSchemas are the schemas of the text-encoded types.
var scalarSchemas = map[reflect.Type]map[string]any{
	reflect.TypeFor[Duration](): {"type": "string", "pattern": durationPattern,
		"description": "a duration such as 250ms, 10s or 1m30s"},
	reflect.TypeFor[Port](): {"oneOf": []any{
		map[string]any{"type": "integer", "minimum": 1, "maximum": 65535},
		map[string]any{"const": "auto"},
	}, "description": "a TCP port 1-65535, or \"auto\" to pick a free one"},
	reflect.TypeFor[ByteSize](): {"oneOf": []any{
		map[string]any{"type": "integer", "minimum": 0},
		map[string]any{"type": "string", "pattern": `^\s*[0-9]+\s*([kKmMgG]?[bB]?)\s*$`},
	}, "description": "a size such as 64mb, 512kb or 1gb, or a byte count"},
	reflect.TypeFor[Rate](): {"oneOf": []any{
		map[string]any{"type": "number", "minimum": 0},
		map[string]any{"type": "string", "pattern": `^([0-9]+(\.[0-9]+)?(/s)?|max)$`},
	}, "description": "requests per second, or \"max\""},
	reflect.TypeFor[Paths](): {"oneOf": []any{
		map[string]any{"type": "string"},
		map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
	}, "description": "a path, or a list of files and directories read in order"},
	reflect.TypeFor[Percent](): {"oneOf": []any{
		map[string]any{"type": "number"},
		map[string]any{"type": "string", "pattern": `^-?[0-9]+(\.[0-9]+)?%$`},
	}, "description": "a percentage such as 99.9%, or a fraction such as 0.999"},
}

// JSONSchema returns the spec's JSON Schema (draft 2020-12), generated from
// the Go types: every key, its description, enums and required keys. Editors
// use it through yaml-language-server:
//
//	# yaml-language-server: $schema=duckbench.schema.json
func JSONSchema() []byte {
	g := &schemaGen{defs: map[string]any{}}
	root := g.object(reflect.TypeFor[Spec]())
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = SchemaID
	root["title"] = "duckbench spec"
	root["$defs"] = g.defs
	// Top-level x- keys are ignored: a place for YAML anchors.
	root["patternProperties"] = map[string]any{"^x-": map[string]any{}}
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		panic("spec: marshal JSON Schema: " + err.Error()) // static data: cannot happen
	}
	return append(b, '\n')
}

type schemaGen struct{ defs map[string]any }

// object is the schema of struct type t (inline fields flattened).
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	for _, f := range structFields(t) {
		sf := t.FieldByIndex(f.index)
		owner := t
		if len(f.index) > 1 { // an inline struct's field documents its own type
			owner = t.FieldByIndex(f.index[:len(f.index)-1]).Type
		}
		ps := g.schema(sf.Type)
		if vals, ok := schemaEnums[owner.Name()+"."+f.key]; ok {
			ps = map[string]any{"type": "string", "enum": vals}
		}
		if doc := fieldDocs[owner.Name()+"."+sf.Name]; doc != "" {
			ps = withDescription(ps, doc)
		}
		props[f.key] = ps
	}
	o := map[string]any{"type": "object", "additionalProperties": false, "properties": props}
	if doc := fieldDocs[t.Name()]; doc != "" {
		o["description"] = doc
	}
	if r := schemaRequired[t.Name()]; r != nil {
		o["required"] = r
	}
	return o
}

// withDescription adds desc to s, keeping a $ref usable (2020-12 allows
// siblings of $ref).
func withDescription(s map[string]any, desc string) map[string]any {
	out := make(map[string]any, len(s)+1)
	for k, v := range s {
		out[k] = v
	}
	if d, ok := s["description"].(string); ok && !strings.Contains(desc, d) {
		desc += " (" + d + ")"
	}
	out["description"] = desc
	return out
}

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	if s, ok := scalarSchemas[t]; ok {
		return s
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.schema(t.Elem())
	case reflect.Struct:
		name := t.Name()
		if _, done := g.defs[name]; !done {
			g.defs[name] = true // placeholder against recursion
			g.defs[name] = g.object(t)
		}
		return map[string]any{"$ref": "#/$defs/" + name}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	}
	return map[string]any{}
}
