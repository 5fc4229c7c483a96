package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// FileName is the name of the record inside a run folder.
const FileName = "result.json"

// maxResultSize bounds what Load reads, so a wrong path (a log, an image)
// fails fast instead of filling memory.
const maxResultSize = 256 << 20

// ErrSchema is wrapped by Load when a record's schema_version is missing or
// not one this build reads.
var ErrSchema = errors.New("unsupported result schema")

// NewID returns the folder name of a run started at t for the spec named
// specName: the UTC timestamp, a dash and the spec name made safe for a
// path, e.g. "20261127T120102Z-seed".
func NewID(t time.Time, specName string) string {
	return t.UTC().Format("20060102T150405Z") + "-" + slug(specName)
}

// slug keeps letters, digits, '-', '_' and '.', lowercases, and replaces
// anything else with '-'; an empty name becomes "run".
func slug(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
			b.WriteRune(c)
		default:
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), "-.")
	if out == "" {
		return "run"
	}
	return out
}

// Save writes r to <dir>/<r.ID>/result.json, atomically (a temporary file
// renamed into place), indented, with stable key order. An empty ID is set
// from NewID(r.StartedAt, r.Spec.Name) and a zero SchemaVersion to
// SchemaVersion. It returns the path written.
func Save(dir string, r *Result) (string, error) {
	if r == nil {
		return "", errors.New("save result: nil result")
	}
	if r.ID == "" {
		r.ID = NewID(r.StartedAt, r.Spec.Name)
	}
	if r.ID != filepath.Base(r.ID) || r.ID == "." || r.ID == ".." {
		return "", fmt.Errorf("save result: id %q is not a folder name", r.ID)
	}
	runDir := filepath.Join(dir, r.ID)
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return "", fmt.Errorf("save result: %w", err)
	}
	path := filepath.Join(runDir, FileName)
	if err := WriteFile(path, r); err != nil {
		return "", err
	}
	return path, nil
}

// WriteFile writes r as indented JSON to path atomically. A zero
// SchemaVersion is set to SchemaVersion.
func WriteFile(path string, r *Result) error {
	if r.SchemaVersion == 0 {
		r.SchemaVersion = SchemaVersion
	}
	data, err := Marshal(r)
	if err != nil {
		return fmt.Errorf("write result %q: %w", path, err)
	}
	return WriteAtomic(path, data)
}

// Marshal encodes r as indented JSON with a trailing newline. Struct fields
// keep their declared order and map keys are sorted, so equal records give
// equal bytes.
func Marshal(r *Result) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	return buf.Bytes(), nil
}

// WriteAtomic writes data to a temporary file next to path and renames it
// into place, so a reader never sees half a file.
func WriteAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %q: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %q: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	return nil
}

// Load reads a result.json, or the run folder holding one. Errors name the
// file and, for malformed JSON, the line and column.
func Load(path string) (*Result, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, FileName)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load result: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxResultSize+1))
	if err != nil {
		return nil, fmt.Errorf("load result %q: %w", path, err)
	}
	if len(data) > maxResultSize {
		return nil, fmt.Errorf("load result %q: larger than %d MiB, not a result file", path, maxResultSize>>20)
	}
	r, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("load result %q: %w", path, err)
	}
	return r, nil
}

// Decode parses a result record and checks its schema version. It never
// panics, whatever the input.
func Decode(data []byte) (*Result, error) {
	var head struct {
		SchemaVersion *int `json:"schema_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, locate(data, err)
	}
	switch {
	case head.SchemaVersion == nil:
		return nil, fmt.Errorf("%w: no schema_version field (is this a duckbench result.json?)", ErrSchema)
	case *head.SchemaVersion > SchemaVersion:
		return nil, fmt.Errorf("%w: schema_version %d is newer than this duckbench reads (%d); upgrade duckbench", ErrSchema, *head.SchemaVersion, SchemaVersion)
	case *head.SchemaVersion < 1:
		return nil, fmt.Errorf("%w: schema_version %d is not valid (want 1-%d)", ErrSchema, *head.SchemaVersion, SchemaVersion)
	}
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, locate(data, err)
	}
	if r.SchemaVersion == 1 {
		upgradeV1(&r)
	}
	if r.SchemaVersion < 3 {
		fillAllFromHistogram(&r.Summary, r.Histogram)
		for i := range r.Trials {
			fillAllFromHistogram(&r.Trials[i].Summary, r.Trials[i].Histogram)
		}
		for i := range r.Servers {
			fillAllFromHistogram(&r.Servers[i].Summary, r.Servers[i].Histogram)
		}
	}
	return &r, nil
}

// upgradeV1 names what a schema 1 record's latency was timed from, so
// that reports and compare say it instead of passing it off as
// intended-time latency.
func upgradeV1(r *Result) {
	r.Summary.LatencyBasis = BasisSentV1
	for i := range r.Trials {
		r.Trials[i].Summary.LatencyBasis = BasisSentV1
	}
	for i := range r.Targets {
		r.Targets[i].Summary.LatencyBasis = BasisSentV1
	}
	if r.Capacity != nil {
		for i := range r.Capacity.Steps {
			r.Capacity.Steps[i].Summary.LatencyBasis = BasisSentV1
		}
	}
}

// locate adds a line:column to JSON syntax and type errors.
func locate(data []byte, err error) error {
	var off int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off = typ.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	line, col := 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Errorf("invalid JSON at line %d, column %d: %w", line, col, err)
}
