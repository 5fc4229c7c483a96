package redisprobe

import (
	"net"
	"syscall"
	"time"
	"unsafe"
)

// stampReader reads a TCP connection with recvmsg and the kernel's receive
// timestamp (SO_TIMESTAMPNS): the time the bytes reached the socket, on
// the host's real-time clock, however late the reading goroutine ran.
type stampReader struct {
	raw syscall.RawConn
	oob [128]byte
}

// newStampReader turns on receive timestamps on c; nil when c is not TCP
// or the kernel refuses (arrival is then the clock when the read returns).
func newStampReader(c net.Conn) *stampReader {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	}); err != nil || serr != nil {
		return nil
	}
	return &stampReader{raw: raw}
}

// read reads at most len(b) bytes (the connection's read deadline holds)
// and returns the timestamp of the segment that held the last byte read;
// zero when the kernel gave none.
func (s *stampReader) read(b []byte) (int, time.Time, error) {
	var (
		n, oobn int
		rerr    error
	)
	err := s.raw.Read(func(fd uintptr) bool {
		n, oobn, _, _, rerr = syscall.Recvmsg(int(fd), b, s.oob[:], 0)
		return rerr != syscall.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return 0, time.Time{}, err
	}
	return n, kernelStamp(s.oob[:oobn]), nil
}

// kernelStamp finds SCM_TIMESTAMPNS in control messages.
func kernelStamp(oob []byte) time.Time {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}
	}
	for _, m := range msgs {
		if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SCM_TIMESTAMPNS &&
			len(m.Data) >= int(unsafe.Sizeof(syscall.Timespec{})) {
			ts := (*syscall.Timespec)(unsafe.Pointer(&m.Data[0]))
			return time.Unix(int64(ts.Sec), int64(ts.Nsec))
		}
	}
	return time.Time{}
}
