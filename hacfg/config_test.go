package hacfg

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/internal/testenv"
)

func activeArgs(c *Config) [][]string {
	var out [][]string
	for _, s := range c.Sections {
		if s.Header != nil {
			out = append(out, s.Header.Args)
		}
		for _, l := range s.Active() {
			out = append(out, l.Args)
		}
	}
	return out
}

// TestConditions: blocks as in the manual's section 2.4.
func TestConditions(t *testing.T) {
	cfg := `global
.if defined(ON)
  a 1
.elif streq("x",x)
  a 2
.else
  a 3
.endif
.if version_atleast(2.5) && !feature(QUIC)
  b yes
  .if 0
    c no
  .else
    c yes
  .endif
.elif 1
  b no
.endif
.if defined(OFF) || (strneq(a,b) && version_before(2.6.10))
  d no
.else
  d yes
.endif
.notice "kept as a line"
`
	c, err := Parse("t.cfg", []byte(cfg), Options{Env: env(map[string]string{"ON": ""}), Version: "2.6.12"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range c.Sections[1].Active() {
		got = append(got, strings.Join(l.Args, " "))
	}
	want := []string{"a 1", "b yes", "c yes", "d yes", ".notice kept as a line"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("active lines = %q, want %q", got, want)
	}
}

func TestConditionErrors(t *testing.T) {
	tests := []struct{ cfg, want string }{
		{".endif\n", "t.cfg:1: lone '.endif' with no matching '.if'"},
		{".if 1\n.else\n.elif 1\n.endif\n", "t.cfg:3: '.elif' after '.else' is not permitted"},
		{".if 1\nglobal\n", "t.cfg:2: missing .endif at end of file"},
		{".if openssl_version_atleast(1.1)\n.endif\n", `t.cfg:1: unsupported predicate "openssl_version_atleast" in condition in '.if'`},
		{".if streq(a)\n.endif\n", "t.cfg:1: streq() takes 2 argument(s), got 1 in '.if'"},
		{"global\n  x \"abc\n", "t.cfg:2: unmatched quote at position 5"},
	}
	for _, tc := range tests {
		_, err := Parse("t.cfg", []byte(tc.cfg), Options{Version: "2.6.0"})
		if err == nil || err.Error() != tc.want {
			t.Errorf("Parse(%q) error = %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

// TestLoadOrder: files in argument order; a directory's *.cfg files in byte
// order, skipping hidden files, other extensions and "x.cfg.cfg" (HAProxy
// wants its first ".cfg" at the end).
func TestLoadOrder(t *testing.T) {
	dir := t.TempDir()
	d := filepath.Join(dir, "conf.d")
	os.Mkdir(d, 0o755)
	os.Mkdir(filepath.Join(d, "sub.cfg"), 0o755)
	for _, n := range []string{"b.cfg", "A.cfg", "a.cfg", ".h.cfg", "c.conf", "x.cfg.cfg", "10.cfg"} {
		os.WriteFile(filepath.Join(d, n), []byte("backend "+n+"\n"), 0o644)
	}
	main := filepath.Join(dir, "main.cfg")
	os.WriteFile(main, []byte("global\n"), 0o644)
	c, err := Load([]string{main, d}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range c.Files {
		names = append(names, filepath.Base(f))
	}
	want := []string{"main.cfg", "10.cfg", "A.cfg", "a.cfg", "b.cfg"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("files = %q, want %q", names, want)
	}
}

// TestSectionsPerFile: a section ends with its file.
func TestSectionsPerFile(t *testing.T) {
	c, _ := Parse("a.cfg", []byte("backend web\n  balance roundrobin\n"), Options{})
	c.Add("b.cfg", []byte("  server s 1.2.3.4:80\n"), Options{})
	if got := c.Find("backend", "web").Active(); len(got) != 1 {
		t.Errorf("backend web has %d lines, want 1", len(got))
	}
	if s := c.Sections[len(c.Sections)-1]; s.Kind != "" || len(s.Active()) != 1 {
		t.Errorf("b.cfg's line should be outside any section: %+v", s)
	}
}

// TestDebianConfig reads the files Debian installs, where they lie.
func TestDebianConfig(t *testing.T) {
	paths, _ := filepath.Glob("/usr/share/doc/haproxy/examples/*.cfg")
	paths = append(paths, "/etc/haproxy/haproxy.cfg")
	n := 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		n++
		c, err := Parse(p, b, Options{Version: "2.6.0"})
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		roundTrip(t, c)
	}
	if n == 0 {
		testenv.Unavailable(t, "no Debian haproxy configs on this machine (apt-get install haproxy)")
	}
}

// roundTrip: writing c and parsing it again gives the same active words.
func roundTrip(t *testing.T, c *Config) {
	t.Helper()
	back, err := Parse("back.cfg", c.Write(), Options{Version: "2.6.0"})
	if err != nil {
		t.Fatalf("parse written config: %v", err)
	}
	if a, b := activeArgs(c), activeArgs(back); !reflect.DeepEqual(a, b) {
		t.Fatalf("round trip changed the words:\n%q\n%q", a, b)
	}
}

// FuzzParse: Parse never panics; a parsed file written back parses to the
// same words; a line rewritten with Set reads back as the words set.
func FuzzParse(f *testing.F) {
	f.Add([]byte("global\n  daemon\nfrontend fe\n  bind :80 # x\n.if 1\n  mode http\n.endif\n"))
	f.Add([]byte("backend b\n  server s \"${A}\" 'x y'\n.if defined(A)\n.else\n.endif\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse("f.cfg", b, Options{Version: "2.6.0"})
		if err != nil {
			return
		}
		roundTrip(t, c)
		for _, s := range c.Sections {
			for _, l := range s.Active() {
				l.Set(append([]string{l.Args[0]}, "a b", "", "#"))
			}
		}
		roundTrip(t, c)
	})
}

// TestDiff: changes by directive, paired by keyword.
func TestDiff(t *testing.T) {
	a, _ := Parse("a.cfg", []byte("global\n  daemon\nbackend web\n  balance roundrobin\n  timeout server 5s\n  server s1 h:1\n"), Options{})
	b, _ := Parse("b.cfg", []byte("global\n  daemon\nbackend web\n  balance leastconn\n  timeout server 5s\n  server s1 h:1 weight 2\n  option redispatch\nbackend api\n"), Options{})
	got := Diff(a, b)
	want := []string{
		"~ backend web: balance roundrobin → balance leastconn",
		"~ backend web: server s1 h:1 → server s1 h:1 weight 2",
		"+ backend web: option redispatch",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Diff = %q, want %q", got, want)
	}
	if d := Diff(a, a); len(d) != 0 {
		t.Errorf("Diff(a, a) = %q", d)
	}
}
