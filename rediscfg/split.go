package rediscfg

import (
	"errors"
	"strings"
)

// ErrUnbalanced is redis-server's complaint about a line it cannot split.
var ErrUnbalanced = errors.New("unbalanced quotes in configuration line")

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// Split cuts a line into words as redis-server's sdssplitargs does.
func Split(line string) ([]string, error) {
	if i := strings.IndexByte(line, 0); i >= 0 {
		line = line[:i] // the C string ends there
	}
	var words []string
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			return words, nil
		}
		var cur strings.Builder
		inq, insq := false, false
	word:
		for {
			if i >= len(line) {
				if inq || insq {
					return nil, ErrUnbalanced
				}
				break
			}
			c := line[i]
			switch {
			case inq:
				switch {
				case c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					cur.WriteByte(unhex(line[i+2])<<4 | unhex(line[i+3]))
					i += 3
				case c == '\\' && i+1 < len(line):
					i++
					cur.WriteByte(unescape(line[i]))
				case c == '"':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, ErrUnbalanced // a closing quote must end the word
					}
					i++
					break word
				default:
					cur.WriteByte(c)
				}
			case insq:
				switch {
				case c == '\\' && i+1 < len(line) && line[i+1] == '\'':
					i++
					cur.WriteByte('\'')
				case c == '\'':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, ErrUnbalanced
					}
					i++
					break word
				default:
					cur.WriteByte(c)
				}
			default:
				switch {
				case isSpace(c):
					break word
				case c == '"':
					inq = true
				case c == '\'':
					insq = true
				default:
					cur.WriteByte(c)
				}
			}
			i++
		}
		words = append(words, cur.String())
	}
}

func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'a':
		return '\a'
	}
	return c
}

// Quote writes word so that Split reads it back: bare when it holds no
// blank, quote, backslash or control character, else in double quotes.
func Quote(word string) string {
	safe := word != "" && word[0] != '#'
	for i := 0; i < len(word) && safe; i++ {
		c := word[i]
		safe = c > ' ' && c < 0x7f && c != '"' && c != '\'' && c != '\\'
	}
	if safe {
		return word
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(word); i++ {
		switch c := word[i]; {
		case c == '\\' || c == '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < ' ' || c >= 0x7f:
			const hex = "0123456789abcdef"
			b.WriteString(`\x`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Join writes words as one line.
func Join(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = Quote(w)
	}
	return strings.Join(q, " ")
}
