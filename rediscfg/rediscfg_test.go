package rediscfg

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/duckbench/duckbench/internal/testenv"
)

// TestSplit: expected words from redis.conf's own documentation and
// sdssplitargs' contract (sds.c's comment).
func TestSplit(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`save 900 1`, []string{"save", "900", "1"}},
		{`notify-keyspace-events ""`, []string{"notify-keyspace-events", ""}},
		{`proc-title-template "{title} {listen-addr} {server-mode}"`, []string{"proc-title-template", "{title} {listen-addr} {server-mode}"}},
		{`x "a\tb\n\x41\"\\" 'it\'s' '\n'`, []string{"x", "a\tb\nA\"\\", "it's", `\n`}},
		{`x foo"bar baz"`, []string{"x", "foobar baz"}},
		{"x\t a\\b", []string{"x", `a\b`}},
	}
	for _, tc := range tests {
		got, err := Split(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Split(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{`x "a`, `x 'a`, `x "a"b`, `x 'a'b`, `x "a\`} {
		if _, err := Split(bad); err != ErrUnbalanced {
			t.Errorf("Split(%q) error = %v, want %v", bad, err, ErrUnbalanced)
		}
	}
}

// TestInclude: an include is read in place; repeated directives keep order.
func TestInclude(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "extra.conf"), []byte("maxmemory 1mb\nsave 60 1\n"), 0o644)
	main := filepath.Join(dir, "redis.conf")
	os.WriteFile(main, []byte("save 900 1\nMaxMemory 2mb\ninclude extra.conf\n# c\n"), 0o644)
	c, err := Load(main, "")
	if err != nil {
		t.Fatal(err)
	}
	if l := c.Last("maxmemory"); l == nil || l.Args[1] != "1mb" || filepath.Base(l.File) != "extra.conf" {
		t.Errorf("Last(maxmemory) = %+v", l)
	}
	if n := len(c.All("save")); n != 2 {
		t.Errorf("save lines = %d, want 2", n)
	}
	os.WriteFile(main, []byte("include "+main+"\n"), 0o644)
	if _, err := Load(main, ""); err == nil {
		t.Error("a file including itself loaded")
	}
}

// TestDebianConfig reads Debian's redis.conf where it lies.
func TestDebianConfig(t *testing.T) {
	n := 0
	for _, p := range []string{"/etc/redis/redis.conf", "/usr/share/doc/redis-tools/examples/redis.conf"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		n++
		c, err := Parse(p, b)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if l := c.Last("port"); l == nil || l.Args[1] != "6379" {
			t.Errorf("%s: port = %+v", p, l)
		}
		roundTrip(t, c)
	}
	if n == 0 {
		testenv.Unavailable(t, "no Debian redis.conf on this machine (apt-get install redis-server)")
	}
}

func args(c *Config) [][]string {
	var out [][]string
	for _, l := range c.Lines {
		if l.Args != nil {
			out = append(out, l.Args)
		}
	}
	return out
}

func roundTrip(t *testing.T, c *Config) {
	t.Helper()
	back, err := Parse("back.conf", c.Write())
	if err != nil {
		t.Fatalf("parse written config: %v", err)
	}
	if a, b := args(c), args(back); !reflect.DeepEqual(a, b) {
		t.Fatalf("round trip changed the words:\n%q\n%q", a, b)
	}
}

// FuzzParse: no panic; written back it parses to the same words, also after
// every directive is rewritten with Set.
func FuzzParse(f *testing.F) {
	f.Add([]byte("save 900 1\n# c\nx \"a\\x41\" 'b\\'c'\n"))
	f.Add([]byte("\t\r\nrequirepass \"\\\"\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse("f.conf", b)
		if err != nil {
			return
		}
		roundTrip(t, c)
		for _, l := range c.Lines {
			if l.Args != nil {
				l.Set(append(l.Args, "a b", "", "#x", "\x00\xff'\""))
			}
		}
		roundTrip(t, c)
	})
}
