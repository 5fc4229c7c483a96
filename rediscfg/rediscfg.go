// Package rediscfg reads redis.conf as redis-server 7 does: one directive per
// line, words split as sdssplitargs splits them (double quotes with \n \r \t
// \b \a \\ \" \xHH escapes, single quotes with \' only, a closing quote must
// end the word), lines starting with "#" ignored, "include" files read in
// place. It keeps every line's text, so a file can be written back unchanged
// except for the directives a caller replaces.
package rediscfg

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Line is one line of a redis.conf.
type Line struct {
	// File and Num locate it (Num is 1-based).
	File string
	Num  int
	// Raw is the line as written.
	Raw string
	// Args are the words; nil for a blank or comment line. Args[0] is the
	// directive in lower case.
	Args []string
}

// Pos is "file:line".
func (l *Line) Pos() string { return fmt.Sprintf("%s:%d", l.File, l.Num) }

// Directive is the line's directive in lower case, or "".
func (l *Line) Directive() string {
	if len(l.Args) == 0 {
		return ""
	}
	return l.Args[0]
}

// Set replaces the line with args.
func (l *Line) Set(args []string) {
	l.Args = args
	l.Raw = Join(args)
}

// Comment turns the line into a comment carrying its old text after why.
func (l *Line) Comment(why string) {
	l.Raw = "# " + why + ": " + strings.TrimSpace(l.Raw)
	l.Args = nil
}

// Config is a redis.conf with its includes read in place.
type Config struct {
	// Lines in the order redis-server reads them.
	Lines []*Line
}

// Error is a located error.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// maxIncludeDepth bounds include chains (a file including itself).
const maxIncludeDepth = 16

// Load reads path and every file it includes. A relative include is taken
// from base (redis-server reads it from its working directory; "" means the
// including file's directory).
func Load(path, base string) (*Config, error) {
	c := &Config{}
	return c, c.load(path, base, 0)
}

func (c *Config) load(path, base string, depth int) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read redis config: %w", err)
	}
	return c.add(path, b, base, depth)
}

// Parse reads one file's content (an include is an error: nothing to read it from).
func Parse(name string, content []byte) (*Config, error) {
	c := &Config{}
	return c, c.add(name, content, "\x00", 0)
}

func (c *Config) add(name string, content []byte, base string, depth int) error {
	text := strings.TrimSuffix(string(content), "\n")
	if len(content) == 0 {
		return nil
	}
	for i, raw := range strings.Split(text, "\n") {
		l := &Line{File: name, Num: i + 1, Raw: raw}
		trimmed := strings.Trim(raw, " \t\r\n")
		if trimmed == "" || trimmed[0] == '#' {
			c.Lines = append(c.Lines, l)
			continue
		}
		args, err := Split(trimmed)
		if err != nil {
			return &Error{File: name, Line: l.Num, Msg: err.Error()}
		}
		if len(args) == 0 {
			c.Lines = append(c.Lines, l)
			continue
		}
		args[0] = strings.ToLower(args[0])
		l.Args = args
		if args[0] != "include" {
			c.Lines = append(c.Lines, l)
			continue
		}
		if err := c.include(l, base, depth); err != nil {
			return err
		}
	}
	return nil
}

// include reads an include line's files (a glob, as redis-server 7 allows)
// in place of the line, which is kept as a comment.
func (c *Config) include(l *Line, base string, depth int) error {
	if len(l.Args) != 2 {
		return &Error{File: l.File, Line: l.Num, Msg: "include takes one file"}
	}
	if base == "\x00" || depth >= maxIncludeDepth {
		return &Error{File: l.File, Line: l.Num, Msg: "include cannot be followed here (nested too deep or no file system)"}
	}
	pattern := l.Args[1]
	if !filepath.IsAbs(pattern) {
		dir := base
		if dir == "" {
			dir = filepath.Dir(l.File)
		}
		pattern = filepath.Join(dir, pattern)
	}
	files, err := filepath.Glob(pattern)
	if err == nil && len(files) == 0 {
		err = errors.New("no such file")
	}
	if err != nil {
		return &Error{File: l.File, Line: l.Num, Msg: fmt.Sprintf("include %s: %v", l.Args[1], err)}
	}
	l.Comment("included below")
	c.Lines = append(c.Lines, l)
	for _, f := range files {
		if err := c.load(f, base, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// Last returns the last line setting directive (the one redis-server keeps
// for a single-valued setting), or nil.
func (c *Config) Last(directive string) *Line {
	for i := len(c.Lines) - 1; i >= 0; i-- {
		if c.Lines[i].Directive() == directive {
			return c.Lines[i]
		}
	}
	return nil
}

// All returns every line setting directive, in order (save, rename-command,
// client-output-buffer-limit and loadmodule add up).
func (c *Config) All(directive string) []*Line {
	var out []*Line
	for _, l := range c.Lines {
		if l.Directive() == directive {
			out = append(out, l)
		}
	}
	return out
}

// Write returns the configuration as one file, line by line.
func (c *Config) Write() []byte {
	var b bytes.Buffer
	for _, l := range c.Lines {
		b.WriteString(l.Raw)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Added is the File of a line a caller added.
const Added = "(added)"

// Append adds a directive at the end.
func (c *Config) Append(file string, args []string) *Line {
	l := &Line{File: file, Raw: Join(args), Args: args}
	c.Lines = append(c.Lines, l)
	return l
}
