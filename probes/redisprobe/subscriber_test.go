package redisprobe

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

// oneByte hands out one byte per Read, the worst split a socket can give.
type oneByte struct{ r io.Reader }

func (o oneByte) Read(b []byte) (int, error) { return o.r.Read(b[:min(len(b), 1)]) }

func TestSubConnReplies(t *testing.T) {
	in := "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n" +
		"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\n7 123\r\n" +
		"*2\r\n$4\r\npong\r\n$0\r\n\r\n" +
		"+OK\r\n-ERR nope\r\n$-1\r\n"
	want := []any{
		[]any{"subscribe", "ch", int64(1)},
		[]any{"message", "ch", "7 123"},
		[]any{"pong", ""},
		"OK", errors.New("redis: ERR nope"), nil,
	}
	for _, rd := range []io.Reader{bytes.NewReader([]byte(in)), oneByte{bytes.NewReader([]byte(in))}} {
		s := &subConn{rd: rd}
		for i, w := range want {
			v, err := s.reply()
			if we, ok := w.(error); ok {
				if err == nil || err.Error() != we.Error() {
					t.Errorf("reply %d: error %v; want %v", i, err, we)
				}
				continue
			}
			if err != nil || !reflect.DeepEqual(v, w) {
				t.Errorf("reply %d = %#v, %v; want %#v", i, v, err, w)
			}
		}
		if _, err := s.reply(); !errors.Is(err, io.EOF) {
			t.Errorf("after the last reply: %v; want EOF", err)
		}
	}
	if k, ch, p := push([]any{"message", "ch", "7 123"}); k != "message" || ch != "ch" || p != "7 123" {
		t.Errorf("push = %q %q %q", k, ch, p)
	}
}

// The reader never takes a byte past the reply it parses: what follows
// a message is still unread when the message is returned.
func TestSubConnReadsNoFurther(t *testing.T) {
	r := bytes.NewReader([]byte("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nx\r\nNEXT"))
	s := &subConn{rd: r}
	if _, err := s.reply(); err != nil {
		t.Fatal(err)
	}
	if r.Len() != 4 {
		t.Errorf("%d bytes left after the message; want 4 (NEXT)", r.Len())
	}
}

func FuzzSubConnReply(f *testing.F) {
	f.Add([]byte("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\n7 123\r\n"))
	f.Add([]byte("*2\r\n$4\r\npong\r\n$0\r\n\r\n:12\r\n-ERR x\r\n"))
	f.Add([]byte("$99999999999\r\n*-1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := &subConn{rd: bytes.NewReader(b)}
		for range 64 {
			if _, err := s.reply(); errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errProtocol) {
				return
			}
		}
	})
}
