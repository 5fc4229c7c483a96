package spec

import (
	"fmt"
	"sort"
	"strings"
)

// FieldError is one problem in a spec, located by field path and position.
// Its message reads "path: msg (file:line:col)".
type FieldError struct {
	// File is the spec's base name ("" for a spec built in code).
	File string
	// Path is the field path, e.g. "haproxy.backends[1].servers[0].port";
	// "" for the document itself.
	Path string
	// Line and Col are 1-based; 0 when the position is unknown.
	Line, Col int
	// Msg says what is wrong, e.g. "must be 1-65535 (got 0)".
	Msg string
}

// Error formats e as "path: msg (file:line:col)".
func (e FieldError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	switch {
	case e.Line > 0 && e.File != "":
		fmt.Fprintf(&b, " (%s:%d:%d)", e.File, e.Line, e.Col)
	case e.Line > 0:
		fmt.Fprintf(&b, " (line %d:%d)", e.Line, e.Col)
	case e.File != "":
		fmt.Fprintf(&b, " (%s)", e.File)
	}
	return b.String()
}

// Errors is every problem found in a spec, in file order. Parse and Validate
// return it (never empty) as their error.
type Errors []FieldError

// Error is one line per problem; a single problem reads like a FieldError.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sorted orders es by position (unknown positions last), then path.
func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if (a.Line == 0) != (b.Line == 0) {
			return b.Line == 0
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return es
}

// editDistance is the optimal-string-alignment distance between a and b:
// Levenshtein plus adjacent transpositions ("nmae" is 1 from "name").
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// suggest returns the candidate closest to s, or "" when none is close.
func suggest(s string, candidates []string) string {
	if len(s) > 64 {
		return ""
	}
	best, bestD := "", 0
	ls := strings.ToLower(s)
	prefixed := 0
	for _, c := range candidates {
		if strings.HasPrefix(c, ls) {
			prefixed++
		}
	}
	for _, c := range candidates {
		d := editDistance(ls, c)
		if prefixed == 1 && strings.HasPrefix(c, ls) && len(ls) >= 3 {
			d = min(d, 1) // a unique abbreviation
		}
		limit := max(1, min(3, len(c)/3))
		if d <= limit && (best == "" || d < bestD) {
			best, bestD = c, d
		}
	}
	return best
}

// didYouMean is " (did you mean "x"?)" or "".
func didYouMean(s string, candidates []string) string {
	if c := suggest(s, candidates); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}
