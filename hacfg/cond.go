package hacfg

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxNested is HAProxy's MAXNESTEDCONDS.
const maxNested = 128

// branch is one open .if block.
type branch struct {
	taken   bool // some earlier branch of this block was true
	active  bool // the current branch is read
	inElse  bool
	outside bool // an enclosing block is skipped
}

// condStack tracks .if/.elif/.else/.endif blocks of one file.
type condStack struct{ open []branch }

func (c *condStack) depth() int { return len(c.open) }

// active reports whether lines at this point are read.
func (c *condStack) active() bool {
	if len(c.open) == 0 {
		return true
	}
	b := c.open[len(c.open)-1]
	return b.active && !b.outside
}

// line handles a line starting with "."; it reports false for a directive
// that is not a conditional (.diag, .notice, .warning, .alert are lines).
func (c *condStack) line(args []string, opt Options) (bool, error) {
	switch args[0] {
	case ".if":
		if len(c.open)+1 >= maxNested {
			return true, errors.New("too many nested '.if', max is 128")
		}
		outside := !c.active()
		ok := false
		if !outside {
			var err error
			if ok, err = evalCond(args[1:], opt); err != nil {
				return true, fmt.Errorf("%w in '.if'", err)
			}
		}
		c.open = append(c.open, branch{taken: ok, active: ok, outside: outside})
	case ".elif":
		if len(c.open) == 0 {
			return true, errors.New("lone '.elif' with no matching '.if'")
		}
		b := &c.open[len(c.open)-1]
		if b.inElse {
			return true, errors.New("'.elif' after '.else' is not permitted")
		}
		if b.taken || b.outside {
			b.active = false
			return true, nil
		}
		ok, err := evalCond(args[1:], opt)
		if err != nil {
			return true, fmt.Errorf("%w in '.elif'", err)
		}
		b.taken, b.active = ok, ok
	case ".else":
		if len(c.open) == 0 {
			return true, errors.New("lone '.else' with no matching '.if'")
		}
		b := &c.open[len(c.open)-1]
		if b.inElse {
			return true, errors.New("'.else' after '.else' is not permitted")
		}
		b.inElse, b.active = true, !b.taken
		b.taken = true
	case ".endif":
		if len(c.open) == 0 {
			return true, errors.New("lone '.endif' with no matching '.if'")
		}
		c.open = c.open[:len(c.open)-1]
	default:
		return false, nil
	}
	return true, nil
}

// evalCond evaluates a .if condition: predicates (defined, feature, streq,
// strneq, strstr, version_atleast, version_before), numbers, "!", "&&",
// "||" and parentheses, as in HAProxy's cfgcond.c. A predicate that depends
// on the TLS library is an error: it cannot be answered here.
func evalCond(args []string, opt Options) (bool, error) {
	p := &condParser{s: strings.Join(args, " "), opt: opt}
	if strings.TrimSpace(p.s) == "" {
		return false, nil
	}
	v, err := p.or()
	if err != nil {
		return false, err
	}
	p.blanks()
	if p.i < len(p.s) {
		return false, fmt.Errorf("unexpected %q in condition", p.s[p.i:])
	}
	return v, nil
}

type condParser struct {
	s   string
	i   int
	opt Options
}

func (p *condParser) blanks() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

func (p *condParser) eat(tok string) bool {
	p.blanks()
	if strings.HasPrefix(p.s[p.i:], tok) {
		p.i += len(tok)
		return true
	}
	return false
}

func (p *condParser) or() (bool, error) {
	v, err := p.and()
	for err == nil && p.eat("||") {
		var w bool
		w, err = p.and()
		v = v || w
	}
	return v, err
}

func (p *condParser) and() (bool, error) {
	v, err := p.term()
	for err == nil && p.eat("&&") {
		var w bool
		w, err = p.term()
		v = v && w
	}
	return v, err
}

func (p *condParser) term() (bool, error) {
	if p.eat("!") {
		v, err := p.term()
		return !v, err
	}
	if p.eat("(") {
		v, err := p.or()
		if err == nil && !p.eat(")") {
			err = errors.New("missing ')' in condition")
		}
		return v, err
	}
	p.blanks()
	start := p.i
	for p.i < len(p.s) && (isAlnum(p.s[p.i]) || p.s[p.i] == '_' || p.s[p.i] == '-') {
		p.i++
	}
	word := p.s[start:p.i]
	if !p.eat("(") {
		if n, err := strconv.ParseInt(word, 10, 64); err == nil {
			return n != 0, nil
		}
		return false, fmt.Errorf("unparsable term %q in condition", word)
	}
	var pargs []string
	for {
		p.blanks()
		end := strings.IndexAny(p.s[p.i:], ",)")
		if end < 0 {
			return false, fmt.Errorf("missing ')' after %s(", word)
		}
		pargs = append(pargs, strings.Trim(strings.TrimSpace(p.s[p.i:p.i+end]), `"`))
		p.i += end + 1
		if p.s[p.i-1] == ')' {
			break
		}
	}
	return p.predicate(word, pargs)
}

func (p *condParser) predicate(name string, a []string) (bool, error) {
	want := map[string]int{"defined": 1, "feature": 1, "streq": 2, "strneq": 2, "strstr": 2, "version_atleast": 1, "version_before": 1}
	n, known := want[name]
	if !known {
		return false, fmt.Errorf("unsupported predicate %q in condition", name)
	}
	if len(a) != n {
		return false, fmt.Errorf("%s() takes %d argument(s), got %d", name, n, len(a))
	}
	switch name {
	case "defined":
		_, ok := p.opt.Env(a[0])
		return ok, nil
	case "feature":
		for _, f := range p.opt.Features {
			if f == a[0] {
				return true, nil
			}
		}
		return false, nil
	case "streq":
		return a[0] == a[1], nil
	case "strneq":
		return a[0] != a[1], nil
	case "strstr":
		return strings.Contains(a[0], a[1]), nil
	case "version_atleast":
		return compareVersions(p.opt.Version, a[0]) >= 0, nil
	}
	return compareVersions(p.opt.Version, a[0]) < 0, nil
}

// compareVersions compares dotted versions numerically ("2.6.12" > "2.6.9");
// a missing part counts as 0 and a non-numeric suffix is ignored.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		x, y := versionPart(pa, i), versionPart(pb, i)
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func versionPart(parts []string, i int) int {
	if i >= len(parts) {
		return 0
	}
	s := parts[i]
	j := 0
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	n, _ := strconv.Atoi(s[:j])
	return n
}
