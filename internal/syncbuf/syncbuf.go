// Package syncbuf is a bytes.Buffer that a child process's output
// goroutine may write while another goroutine reads it.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer collects output written and read from different goroutines.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
