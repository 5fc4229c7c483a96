package hacfg

import (
	"fmt"
	"strings"
)

// Diff lists the directives that differ between a and b, section by section
// (sections matched by kind and name; within one, lines by their words): "~
// backend web: balance roundrobin → balance leastconn" when one line with
// the same keyword changed, "-"/"+" otherwise. Only lines HAProxy reads count.
func Diff(a, b *Config) []string {
	var out []string
	as, bs := sectionLines(a), sectionLines(b)
	for _, key := range keysInOrder(a, b) {
		out = append(out, DiffLines(key, as[key], bs[key])...)
	}
	return out
}

func sectionKey(s *Section) string { return strings.TrimSpace(s.Kind + " " + s.Name) }

func sectionLines(c *Config) map[string][]string {
	out := map[string][]string{}
	for _, s := range c.Sections {
		key := sectionKey(s)
		if _, ok := out[key]; !ok && s.Header != nil {
			out[key] = []string{}
		}
		for _, l := range s.Active() {
			out[key] = append(out[key], strings.Join(l.Args, " "))
		}
	}
	return out
}

func keysInOrder(a, b *Config) []string {
	var keys []string
	seen := map[string]bool{}
	for _, c := range []*Config{a, b} {
		for _, s := range c.Sections {
			if k := sectionKey(s); !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// keyword is a line's keyword for pairing: two words for option, timeout,
// http-request and their kind, one otherwise.
func keyword(line string) string {
	f := strings.Fields(line)
	switch {
	case len(f) == 0:
		return ""
	case len(f) > 1 && (f[0] == "option" || f[0] == "timeout" || f[0] == "no" || f[0] == "stats" || f[0] == "server"):
		return f[0] + " " + f[1]
	}
	return f[0]
}

// DiffLines lists the changes between the lines a and b of one section
// (named section in the output), as Diff does.
func DiffLines(section string, a, b []string) []string {
	count := map[string]int{}
	for _, l := range b {
		count[l]++
	}
	var removed []string
	for _, l := range a {
		if count[l] > 0 {
			count[l]--
			continue
		}
		removed = append(removed, l)
	}
	count = map[string]int{}
	for _, l := range a {
		count[l]++
	}
	var added []string
	for _, l := range b {
		if count[l] > 0 {
			count[l]--
			continue
		}
		added = append(added, l)
	}
	name := section
	if name == "" {
		name = "(outside any section)"
	}
	var out []string
	for _, r := range removed {
		paired := -1
		for j, ad := range added {
			if keyword(ad) == keyword(r) {
				paired = j
				break
			}
		}
		if paired < 0 {
			out = append(out, fmt.Sprintf("- %s: %s", name, r))
			continue
		}
		out = append(out, fmt.Sprintf("~ %s: %s → %s", name, r, added[paired]))
		added = append(added[:paired], added[paired+1:]...)
	}
	for _, ad := range added {
		out = append(out, fmt.Sprintf("+ %s: %s", name, ad))
	}
	return out
}
