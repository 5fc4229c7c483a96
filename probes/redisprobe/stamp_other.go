//go:build !linux

package redisprobe

import (
	"net"
	"time"
)

// stampReader is Linux only: elsewhere arrival is the clock when the read
// returns.
type stampReader struct{}

func newStampReader(net.Conn) *stampReader { return nil }

func (*stampReader) read([]byte) (int, time.Time, error) { panic("unreachable") }
