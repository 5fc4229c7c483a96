package results_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/results/report"
	"github.com/duckbench/duckbench/results/resultstest"
)

func TestNewID(t *testing.T) {
	tests := []struct {
		t    time.Time
		name string
		want string
	}{
		{time.Date(2026, 11, 27, 12, 1, 2, 0, time.UTC), "seed", "20261127T120102Z-seed"},
		// Local times are converted to UTC.
		{time.Date(2026, 11, 27, 13, 1, 2, 0, time.FixedZone("CET", 3600)), "seed", "20261127T120102Z-seed"},
		// Names are made safe for a folder.
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "My Spec/../x", "20260102T030405Z-my-spec-..-x"},
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "", "20260102T030405Z-run"},
	}
	for _, tt := range tests {
		if got := results.NewID(tt.t, tt.name); got != tt.want {
			t.Errorf("NewID(%v, %q) = %q; want %q", tt.t, tt.name, got, tt.want)
		}
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	r := resultstest.Fixture(t)
	r.ID = ""
	path, err := results.Save(dir, r)
	if err != nil {
		t.Fatalf("Save: %v", err)
	}
	if want := filepath.Join(dir, "20261127T120102Z-seed", "result.json"); path != want {
		t.Errorf("Save path = %q; want %q", path, want)
	}
	for _, p := range []string{path, filepath.Dir(path)} {
		got, err := results.Load(p)
		if err != nil {
			t.Fatalf("Load(%q): %v", p, err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("Load(%q) differs from what was saved", p)
		}
	}
	// No temporary file is left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("run folder holds %d entries; want only result.json", len(entries))
	}
	// Saving again gives the same bytes (stable key order).
	first, _ := os.ReadFile(path)
	if _, err := results.Save(dir, r); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(path)
	if string(first) != string(second) {
		t.Error("Save is not deterministic")
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name   string
		path   string
		want   string
		schema bool
	}{
		{"missing", filepath.Join(dir, "nope.json"), "no such file", false},
		{"empty folder", t.TempDir(), "result.json: no such file", false},
		{"syntax", write("syntax.json", "{\n  \"schema_version\": 1,\n  \"id\": oops\n}"), "invalid JSON at line 3, column 10", false},
		{"type", write("type.json", `{"schema_version": 1, "summary": {"requests": "many"}}`), "invalid JSON at line 1", false},
		{"no version", write("noversion.json", `{"id": "x"}`), "no schema_version field", true},
		{"newer", write("newer.json", `{"schema_version": 99}`), "schema_version 99 is newer than this duckbench reads (3)", true},
		{"zero", write("zero.json", `{"schema_version": 0}`), "schema_version 0 is not valid", true},
		{"not an object", write("array.json", `[1,2]`), "invalid JSON", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := results.Load(tt.path)
			if err == nil {
				t.Fatalf("Load(%q) = nil error; want %q", tt.path, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load(%q) = %q; want it to contain %q", tt.path, err, tt.want)
			}
			if !strings.Contains(err.Error(), filepath.Base(tt.path)) {
				t.Errorf("Load(%q) = %q; want the file named", tt.path, err)
			}
			if got := errors.Is(err, results.ErrSchema); got != tt.schema {
				t.Errorf("errors.Is(%q, ErrSchema) = %v; want %v", err, got, tt.schema)
			}
		})
	}
}

func FuzzLoad(f *testing.F) {
	fixture, err := os.ReadFile(filepath.Join("testdata", "TestFixture.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fixture)
	f.Add([]byte(`{"schema_version": 1}`))
	f.Add([]byte(`{"schema_version": 1, "timeline": [{"t": 1, "replication_delay": {"a": 0.1}}]}`))
	f.Add([]byte(`{"schema_version": "1"}`))
	f.Add([]byte(`{"schema_version": 1e400}`))
	f.Add([]byte(`null`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "result.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := results.Load(path)
		if err != nil {
			return
		}
		// Whatever loads must render and re-encode without panicking.
		if _, err := results.Marshal(r); err != nil {
			t.Fatalf("Marshal of a loaded record: %v", err)
		}
		_ = report.WriteText(&strings.Builder{}, r)
		_ = report.WriteHTML(&strings.Builder{}, r)
	})
}

// TestLoadSchema1 keeps reading schema 1 records and says what their
// latency was timed from.
func TestLoadSchema1(t *testing.T) {
	r, err := results.Load(filepath.Join("testdata", "v1-result.json"))
	if err != nil {
		t.Fatalf("Load(v1) = %v", err)
	}
	if r.SchemaVersion != 1 || r.Summary.LatencyBasis != results.BasisSentV1 || r.Trials[0].Summary.LatencyBasis != results.BasisSentV1 {
		t.Errorf("Load(v1): version %d, basis %q, trial basis %q; want 1 and %q", r.SchemaVersion, r.Summary.LatencyBasis, r.Trials[0].Summary.LatencyBasis, results.BasisSentV1)
	}
	var b strings.Builder
	if err := report.WriteText(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "schema 1 record, timed from the actual send") {
		t.Errorf("report.WriteText(v1) does not say how its latency was timed:\n%s", b.String())
	}
}
