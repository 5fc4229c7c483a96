// Package lines holds the small text helpers the runtimes share for the
// output of the programs they run.
package lines

import "strings"

// Tail returns the last n lines of s, surrounding blank space trimmed.
func Tail(s string, n int) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}
