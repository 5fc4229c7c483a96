// Package hacfg reads HAProxy's configuration language as HAProxy 2.x does:
// words split on unquoted blanks, single quotes (no escapes), double quotes
// (backslash escapes and environment variables), "#" comments, conditional
// blocks (.if/.elif/.else/.endif) and several files or directories loaded in
// HAProxy's order. It keeps every line's text, so a configuration can be
// written back unchanged except for the lines a caller replaces.
//
// The rules follow HAProxy's configuration manual, sections 2.2 (quoting and
// escaping), 2.3 (environment variables) and 2.4 (conditional blocks), and
// parse_line() in HAProxy's src/tools.c.
package hacfg

import (
	"fmt"
	"strings"
)

// Lookup returns an environment variable's value and whether it is set.
type Lookup func(name string) (string, bool)

// NoEnv is a Lookup in which no variable is set.
func NoEnv(string) (string, bool) { return "", false }

// SyntaxError is a line HAProxy would refuse to split into words.
type SyntaxError struct {
	// Col is the 1-based byte column of the offending character.
	Col int
	// Msg says what is wrong, in HAProxy's words.
	Msg string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s at position %d", e.Msg, e.Col) }

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\n' || c == '\r'
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isAlnum(c byte) bool { return isAlpha(c) || c >= '0' && c <= '9' }

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// splitter holds the state of one Split.
type splitter struct {
	in     string
	i      int
	env    Lookup
	words  []string
	cur    strings.Builder
	inWord bool
	// emptyQuote makes a closing quote a word even when nothing was
	// emitted (""), unless a ${NAME[*]} expansion happened in between.
	emptyQuote bool
}

// quote opens (open false) or closes a quoted run and returns the new state.
func (s *splitter) quote(open bool) bool {
	if open {
		if s.emptyQuote {
			s.inWord = true
		}
		return false
	}
	s.emptyQuote = true
	return true
}

// emit appends c to the current word, starting one if needed.
func (s *splitter) emit(c byte) {
	s.inWord = true
	s.cur.WriteByte(c)
}

// end closes the current word, if any.
func (s *splitter) end() {
	if s.inWord {
		s.words = append(s.words, s.cur.String())
		s.cur.Reset()
		s.inWord = false
	}
}

// Split cuts one configuration line into words as HAProxy's parse_line does
// for its configuration (environment variables, both quotes, backslash
// escapes, "#" comments, ${NAME[*]} word expansion). The line ends at the
// first NUL, CR or LF. Variables are read through env; an unset variable
// expands to nothing (but still makes a word, as in HAProxy).
func Split(line string, env Lookup) ([]string, error) {
	if env == nil {
		env = NoEnv
	}
	s := &splitter{in: line, env: env}
	squote, dquote := false, false
	quoteAt := 0
	s.emptyQuote = false
	for s.i < len(s.in) {
		c := s.in[s.i]
		switch {
		case c == 0 || c == '\n' || c == '\r':
			s.i = len(s.in)
			continue
		case c == '#' && !squote && !dquote:
			s.i = len(s.in)
			continue
		case c == '"' && !squote:
			dquote = s.quote(dquote)
			quoteAt = s.i
			s.i++
		case c == '\'' && !dquote:
			squote = s.quote(squote)
			quoteAt = s.i
			s.i++
		case c == '\\' && !squote:
			if err := s.escape(dquote); err != nil {
				return nil, err
			}
		case isSpace(c) && !squote && !dquote:
			s.end()
			s.i++
		case c == '$' && dquote:
			if err := s.variable(); err != nil {
				return nil, err
			}
		default:
			s.emit(c)
			s.i++
		}
	}
	if squote || dquote {
		return nil, &SyntaxError{Col: quoteAt + 1, Msg: "unmatched quote"}
	}
	s.end()
	return s.words, nil
}

// escape reads a backslash sequence at s.i. Only \<space>, \\, \t, \n, \r,
// \#, \', \", \$ (inside double quotes) and \xHH are escapes; any other
// backslash is kept as it is.
func (s *splitter) escape(dquote bool) error {
	next := byte(0)
	if s.i+1 < len(s.in) {
		next = s.in[s.i+1]
	}
	out := byte('\\')
	switch next {
	case ' ', '\\', '#', '\'', '"':
		out = next
		s.i++
	case '$':
		if dquote {
			out = next
			s.i++
		}
	case 't':
		out = '\t'
		s.i++
	case 'n':
		out = '\n'
		s.i++
	case 'r':
		out = '\r'
		s.i++
	case 'x':
		if s.i+3 >= len(s.in) || !isHex(s.in[s.i+2]) || !isHex(s.in[s.i+3]) {
			return &SyntaxError{Col: s.i + 1, Msg: "truncated or invalid hexadecimal sequence"}
		}
		out = unhex(s.in[s.i+2])<<4 | unhex(s.in[s.i+3])
		s.i += 3
	}
	s.i++
	s.emit(out)
	return nil
}

// variable expands $NAME, ${NAME}, ${NAME-default} or ${NAME[*]} at s.i
// (inside double quotes). ${NAME[*]} splits the value into words on blanks.
func (s *splitter) variable() error {
	s.i++ // '$'
	brace := -1
	if s.i < len(s.in) && s.in[s.i] == '{' {
		brace = s.i
		s.i++
	}
	start := s.i
	if s.i >= len(s.in) || !(isAlpha(s.in[s.i]) || s.in[s.i] == '_' || s.in[s.i] == '.') {
		return &SyntaxError{Col: s.i + 1, Msg: "forbidden first char in environment variable name"}
	}
	if s.in[s.i] == '.' {
		s.i++
	}
	for s.i < len(s.in) && (isAlnum(s.in[s.i]) || s.in[s.i] == '_') {
		s.i++
	}
	name := s.in[start:s.i]
	var value string
	var set bool
	if strings.HasPrefix(name, ".") {
		switch name {
		case ".LINE", ".FILE", ".SECTION":
			set = true // HAProxy's own position; not known to a standalone split
		default:
			return &SyntaxError{Col: start + 1, Msg: "forbidden first char in environment variable name"}
		}
	} else {
		value, set = s.env(name)
	}
	expand := false
	if brace >= 0 && s.i < len(s.in) && s.in[s.i] == '[' {
		if !strings.HasPrefix(s.in[s.i:], "[*]") {
			return &SyntaxError{Col: s.i + 1, Msg: "wrong word expansion"}
		}
		expand = true
		s.i += 3
	}
	if brace >= 0 {
		if s.i < len(s.in) && s.in[s.i] == '-' {
			end := strings.IndexByte(s.in[s.i:], '}')
			if end < 0 {
				return &SyntaxError{Col: brace + 1, Msg: "unmatched brace in environment variable name"}
			}
			if !set {
				value, set = s.in[s.i+1:s.i+end], true
			}
			s.i += end
		}
		if s.i >= len(s.in) || s.in[s.i] != '}' {
			return &SyntaxError{Col: brace + 1, Msg: "unmatched brace in environment variable name"}
		}
		s.i++
	}
	if expand {
		s.emptyQuote = false
	} else {
		s.inWord = true // an unset variable still makes a word
		s.cur.WriteString(value)
		return nil
	}
	for j := 0; j < len(value); j++ {
		if isSpace(value[j]) {
			s.end()
			continue
		}
		s.emit(value[j])
	}
	return nil
}

// Quote returns word written so that Split reads it back as word with any
// environment: bare when it holds only plain characters, else in single
// quotes, else in double quotes with escapes.
func Quote(word string) string {
	if word != "" && plain(word) {
		return word
	}
	if !strings.ContainsAny(word, "'\x00\n\r") {
		return "'" + word + "'"
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(word); i++ {
		switch c := word[i]; c {
		case '\\', '"', '$':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case 0:
			b.WriteString(`\x00`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// plain reports whether word needs no quoting.
func plain(word string) bool {
	for i := 0; i < len(word); i++ {
		c := word[i]
		if isSpace(c) || c == 0 || c == '#' || c == '"' || c == '\'' || c == '\\' {
			return false
		}
	}
	return true
}

// Join writes words as one configuration line (each word quoted as needed).
func Join(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = Quote(w)
	}
	return strings.Join(q, " ")
}
