package hacfg

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// SectionKinds are the keywords that open a section (HAProxy 2.x and 3.x).
var SectionKinds = []string{
	"global", "defaults", "frontend", "backend", "listen", "userlist", "peers",
	"resolvers", "mailers", "program", "http-errors", "ring", "cache",
	"log-forward", "fcgi-app", "crt-store", "traces", "acme",
}

func isSection(word string) bool {
	for _, k := range SectionKinds {
		if word == k {
			return true
		}
	}
	return false
}

// Line is one line of a configuration file.
type Line struct {
	// File is the path the line was read from; Num its 1-based number.
	File string
	Num  int
	// Raw is the line's text as written (without its line feed).
	Raw string
	// Args are the line's words after quoting, escapes and variables; nil
	// for a blank or comment line.
	Args []string
	// Active is false inside a conditional block HAProxy skips, and for the
	// .if/.elif/.else/.endif lines themselves.
	Active bool
}

// Pos is the line's position, "file:line".
func (l *Line) Pos() string { return fmt.Sprintf("%s:%d", l.File, l.Num) }

// Keyword is the line's first word, or "" for a blank line.
func (l *Line) Keyword() string {
	if len(l.Args) == 0 {
		return ""
	}
	return l.Args[0]
}

// Section is a section of one file: its header line and the lines up to the
// next section or the end of the file. Lines before a file's first section
// form a section of kind "".
type Section struct {
	// Kind is the section keyword (frontend, backend, …) and Name its first
	// argument ("" for global and unnamed defaults).
	Kind, Name string
	// Header is the section's opening line; nil for kind "".
	Header *Line
	// Lines are the body lines, blank and inactive ones included.
	Lines []*Line
}

// Active returns the section's body lines HAProxy reads (active, not blank).
func (s *Section) Active() []*Line {
	var out []*Line
	for _, l := range s.Lines {
		if l.Active && len(l.Args) > 0 {
			out = append(out, l)
		}
	}
	return out
}

// Added is the File of a line a caller added (Write names no file for it).
const Added = "(added)"

// NewLine returns an added line of words, indented by four spaces, with a
// trailing comment why ("" for none).
func NewLine(words []string, why string) *Line {
	raw := "    " + Join(words)
	if why != "" {
		raw += "  # " + why
	}
	return &Line{File: Added, Raw: raw, Args: words, Active: true}
}

// Config is one or more files read in HAProxy's order.
type Config struct {
	// Files are the files read, in order.
	Files []string
	// Sections are every file's sections, in order.
	Sections []*Section
}

// Options say how to evaluate what depends on the running HAProxy.
type Options struct {
	// Env looks variables up (nil: none is set).
	Env Lookup
	// Version is the HAProxy version conditions compare with (e.g. "2.6.12").
	Version string
	// Features are the build features feature(...) finds (e.g. "OPENSSL").
	Features []string
}

// Error is a located configuration error.
type Error struct {
	// File and Line locate it.
	File string
	Line int
	// Msg says what is wrong.
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Expand lists the files HAProxy reads for the -f arguments paths, in its
// order: a file as given, a directory's regular files whose name ends in
// ".cfg" (and not starting with ".") in byte order.
func Expand(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("read haproxy config: %w", err)
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("read haproxy config: %w", err)
		}
		var names []string
		for _, e := range ents {
			n := e.Name()
			// HAProxy takes the first ".cfg" in the name and wants it last.
			if i := strings.Index(n, ".cfg"); n[0] == '.' || i < 0 || i+4 != len(n) {
				continue
			}
			if fi, err := os.Stat(filepath.Join(p, n)); err != nil || !fi.Mode().IsRegular() {
				continue
			}
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			out = append(out, filepath.Join(p, n))
		}
	}
	return out, nil
}

// Load reads the files and directories paths (as haproxy -f p1 -f p2 …).
func Load(paths []string, opt Options) (*Config, error) {
	files, err := Expand(paths)
	if err != nil {
		return nil, err
	}
	c := &Config{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read haproxy config: %w", err)
		}
		if err := c.Add(f, b, opt); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Parse reads one file's content, named name in errors.
func Parse(name string, content []byte, opt Options) (*Config, error) {
	c := &Config{}
	if err := c.Add(name, content, opt); err != nil {
		return nil, err
	}
	return c, nil
}

// Add appends one more file's sections, as a further -f would.
func (c *Config) Add(name string, content []byte, opt Options) error {
	if opt.Env == nil {
		opt.Env = NoEnv
	}
	c.Files = append(c.Files, name)
	cur := &Section{}
	c.Sections = append(c.Sections, cur)
	conds := &condStack{}
	text := string(content)
	text = strings.TrimSuffix(text, "\n")
	if len(content) == 0 {
		return nil
	}
	for i, raw := range strings.Split(text, "\n") {
		l := &Line{File: name, Num: i + 1, Raw: raw}
		args, err := Split(raw, opt.Env)
		if err != nil {
			return &Error{File: name, Line: l.Num, Msg: err.Error()}
		}
		l.Args = args
		if len(args) > 0 && strings.HasPrefix(args[0], ".") {
			handled, err := conds.line(args, opt)
			if err != nil {
				return &Error{File: name, Line: l.Num, Msg: err.Error()}
			}
			if handled {
				cur.Lines = append(cur.Lines, l)
				continue
			}
		}
		l.Active = conds.active()
		if l.Active && len(args) > 0 && isSection(args[0]) {
			cur = &Section{Kind: args[0], Header: l}
			if len(args) > 1 {
				cur.Name = args[1]
			}
			c.Sections = append(c.Sections, cur)
			continue
		}
		cur.Lines = append(cur.Lines, l)
	}
	if conds.depth() > 0 {
		return &Error{File: name, Line: strings.Count(text, "\n") + 1, Msg: "missing .endif at end of file"}
	}
	return nil
}

// Find returns the first section of kind named name, or nil.
func (c *Config) Find(kind, name string) *Section {
	for _, s := range c.Sections {
		if s.Kind == kind && s.Name == name {
			return s
		}
	}
	return nil
}

// Of returns every section of the given kinds, in order.
func (c *Config) Of(kinds ...string) []*Section {
	var out []*Section
	for _, s := range c.Sections {
		for _, k := range kinds {
			if s.Kind == k {
				out = append(out, s)
			}
		}
	}
	return out
}

// Write returns the configuration as one file: every line's Raw text, in
// order, with a comment naming each file where it starts.
func (c *Config) Write() []byte {
	b, _ := c.WriteMap(0)
	return b
}

// WriteMap is Write that also returns, for each written line, where it came
// from ("file:line", or "" for a line the writer or a caller added); the
// output is meant to follow offset lines of header.
func (c *Config) WriteMap(offset int) ([]byte, []string) {
	var b bytes.Buffer
	src := make([]string, offset)
	file := ""
	for _, s := range c.Sections {
		lines := s.Lines
		if s.Header != nil {
			lines = append([]*Line{s.Header}, lines...)
		}
		for _, l := range lines {
			if l.File != file && l.File != Added {
				file = l.File
				fmt.Fprintf(&b, "# ---- %s\n", Quote(file))
				src = append(src, "")
			}
			b.WriteString(l.Raw)
			b.WriteByte('\n')
			at := ""
			if l.File != Added {
				at = l.Pos()
			}
			for range strings.Count(l.Raw, "\n") + 1 {
				src = append(src, at)
			}
		}
	}
	return b.Bytes(), src
}

// Set replaces l's words with args and its text with them, indented as l was.
func (l *Line) Set(args []string) {
	indent := l.Raw[:len(l.Raw)-len(strings.TrimLeft(l.Raw, " \t"))]
	l.Args = args
	l.Raw = indent + Join(args)
}

// Comment turns l into a comment carrying its old text after why.
func (l *Line) Comment(why string) {
	indent := l.Raw[:len(l.Raw)-len(strings.TrimLeft(l.Raw, " \t"))]
	l.Raw = indent + "# " + why + ": " + strings.ReplaceAll(strings.TrimLeft(l.Raw, " \t"), "\r", "")
	l.Args = nil
}
