package load

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/duckbench/duckbench/results"
)

// Progress is the state of a running attack, reported once a second.
type Progress struct {
	Elapsed, Total time.Duration
	// Sent counts requests handed to workers; Responses those answered.
	Sent, Responses uint64
	Errors          uint64
	// TargetRate and AchievedRate are req/s over the last second
	// (TargetRate is 0 for rate max).
	TargetRate, AchievedRate float64
	P99                      time.Duration // so far
	ScheduleLag              time.Duration
	InFlight                 uint64
	Saturated                bool
	// Events noticed since the previous report (saturation start/end, …).
	Events []results.Event
}

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// Printer renders progress: on a terminal one line redrawn in place, else
// one plain line every Every. Events always get a line of their own.
type Printer struct {
	w     io.Writer
	tty   bool
	every time.Duration
	next  time.Duration
	drawn bool
}

// NewPrinter returns a Printer writing to w; tty selects the redrawn bar.
func NewPrinter(w io.Writer, tty bool) *Printer {
	return &Printer{w: w, tty: tty, every: 5 * time.Second, next: 5 * time.Second}
}

// Update draws p; pass it to WithProgress.
func (pr *Printer) Update(p Progress) {
	for _, e := range p.Events {
		pr.clear()
		fmt.Fprintf(pr.w, "%s at %.0fs: %s\n", eventLabel(e), e.AtSeconds, e.Message)
	}
	if pr.tty {
		fmt.Fprintf(pr.w, "\r%s\x1b[K", line(p, true))
		pr.drawn = true
		return
	}
	if p.Elapsed >= pr.next {
		fmt.Fprintln(pr.w, line(p, false))
		for pr.next <= p.Elapsed {
			pr.next += pr.every
		}
	}
}

// Close ends the in-place line.
func (pr *Printer) Close() { pr.clear() }

func (pr *Printer) clear() {
	if pr.tty && pr.drawn {
		fmt.Fprint(pr.w, "\r\x1b[K")
		pr.drawn = false
	}
}

func eventLabel(e results.Event) string {
	if e.Kind == "saturation" && e.Action == "start" {
		return "warning"
	}
	return e.Kind
}

func line(p Progress, bar bool) string {
	var b strings.Builder
	if bar {
		const width = 20
		n := 0
		if p.Total > 0 {
			n = int(float64(width) * float64(p.Elapsed) / float64(p.Total))
		}
		n = min(max(n, 0), width)
		b.WriteString("[" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "] ")
	}
	fmt.Fprintf(&b, "%s/%s  %.0f req/s", p.Elapsed.Round(time.Second), p.Total.Round(time.Second), p.AchievedRate)
	if p.TargetRate > 0 {
		fmt.Fprintf(&b, " (target %.0f)", p.TargetRate)
	}
	fmt.Fprintf(&b, "  p99 %s  errors %d", p.P99, p.Errors)
	if p.Saturated {
		fmt.Fprintf(&b, "  SATURATED (lag %s)", p.ScheduleLag.Round(time.Millisecond))
	}
	return b.String()
}
