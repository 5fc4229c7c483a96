package hacfg

import (
	"reflect"
	"testing"
)

func env(vars map[string]string) Lookup {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

// TestSplit: expected words from the configuration manual's sections 2.2
// (quoting and escaping) and 2.3 (environment variables).
func TestSplit(t *testing.T) {
	vars := env(map[string]string{"HOST": "10.0.0.1", "LIST": "a  b c", "EMPTY": ""})
	one := []string{"log-format", "%{+Q}o %t %s %{-Q}r"}
	tests := []struct {
		name, in string
		want     []string
	}{
		{"backslash-space", `log-format %{+Q}o\ %t\ %s\ %{-Q}r`, one},
		{"double quotes", `log-format "%{+Q}o %t %s %{-Q}r"`, one},
		{"single quotes", `log-format '%{+Q}o %t %s %{-Q}r'`, one},
		{"glued quotes", `log-format "%{+Q}o %t"' %s %{-Q}r'`, one},
		{"glued quotes and escape", `log-format "%{+Q}o %t"' %s'\ %{-Q}r`, one},
		{"comment", "  bind :80 # public", []string{"bind", ":80"}},
		{"comment glued", "bind :80#x", []string{"bind", ":80"}},
		{"escaped sharp", `acl a path /a\#b`, []string{"acl", "a", "path", "/a#b"}},
		{"sharp in quotes", `x "a#b" 'c#d'`, []string{"x", "a#b", "c#d"}},
		{"no escapes in single quotes", `x 'a\nb'`, []string{"x", `a\nb`}},
		{"escapes in double quotes", `x "a\tb\"c\\d\x41"`, []string{"x", "a\tb\"c\\dA"}},
		{"unknown escape kept", `x \1 "\d"`, []string{"x", `\1`, `\d`}},
		{"escaped quote outside", `x \'a\"`, []string{"x", `'a"`}},
		{"empty quotes make a word", `x "" ''`, []string{"x", "", ""}},
		{"env in double quotes", `server s "${HOST}:80"`, []string{"server", "s", "10.0.0.1:80"}},
		{"env without braces", `x "$HOST"`, []string{"x", "10.0.0.1"}},
		{"env not expanded outside quotes", `x ${HOST} '$HOST'`, []string{"x", "${HOST}", "$HOST"}},
		{"escaped dollar", `x "\$HOST" \$HOST`, []string{"x", "$HOST", `\$HOST`}},
		{"unset env is an empty word", `x "${NOPE}" y`, []string{"x", "", "y"}},
		{"default value", `x "${NOPE-d e}" "${HOST-z}"`, []string{"x", "d e", "10.0.0.1"}},
		{"word expansion", `x "${LIST[*]}" y`, []string{"x", "a", "b", "c", "y"}},
		{"word expansion of nothing", `x "${NOPE[*]}" y`, []string{"x", "y"}},
		{"empty env", `x "$EMPTY"`, []string{"x", ""}},
		{"tabs and CR", "\tmode\thttp\r", []string{"mode", "http"}},
		{"blank", "   ", nil},
		{"comment only", "# hello", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Split(tc.in, vars)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Split(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestSplitErrors: HAProxy's messages and positions (1-based) for bad lines.
func TestSplitErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`x "abc`, "unmatched quote at position 3"},
		{`x 'abc`, "unmatched quote at position 3"},
		{`x "\x4"`, "truncated or invalid hexadecimal sequence at position 4"},
		{`x "${A"`, "unmatched brace in environment variable name at position 5"},
		{`x "$1"`, "forbidden first char in environment variable name at position 5"},
		{`x "${A[x]}"`, "wrong word expansion at position 7"},
	}
	for _, tc := range tests {
		_, err := Split(tc.in, NoEnv)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Split(%q) error = %v, want %q", tc.in, err, tc.want)
		}
	}
}

// TestQuote: a quoted word splits back to itself.
func TestQuote(t *testing.T) {
	for _, w := range []string{"", "plain", "a b", "it's", `"q"`, "a#b", `back\slash`, "$HOME", "${X}", "nl\nx", "nul\x00", "tab\t", "it's \"both\"\n"} {
		got, err := Split("k "+Quote(w), env(map[string]string{"HOME": "/h", "X": "x"}))
		if err != nil || len(got) != 2 || got[1] != w {
			t.Errorf("Split(Quote(%q)=%s) = %q, %v", w, Quote(w), got, err)
		}
	}
}

// FuzzSplit: Split never panics, and Join of its words splits back to the
// same words (the writer's round trip).
func FuzzSplit(f *testing.F) {
	for _, s := range []string{`log-format "%{+Q}o %t"' %s'\ %{-Q}r`, `x "${A[*]}" '${B}'`, `x "\x41\$" # c`, "\t\x00a", `"${A-}"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		vars := env(map[string]string{"A": "1 2", "B": ""})
		words, err := Split(line, vars)
		if err != nil {
			return
		}
		back, err := Split(Join(words), NoEnv)
		if err != nil {
			t.Fatalf("Split(Join(%q)) = %v", words, err)
		}
		if len(words) == 0 && len(back) == 0 {
			return
		}
		if !reflect.DeepEqual(back, words) {
			t.Fatalf("round trip %q → %q → %q", words, Join(words), back)
		}
	})
}
