package load

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
)

// This file is the hot path's HTTP/1.x response reader: it frames responses
// exactly as net/http's client does (RFC 9112, with net/http's strictness:
// wire_test.go checks it against http.ReadResponse, case by case and under
// the fuzzer) but keeps only what a load generator needs, and allocates
// nothing per response. Headers are parsed in place in the bufio.Reader's
// buffer. A header line longer than the buffer is still read, streamed past
// without allocating when it is a field readResponse does not interpret
// (X-Served-By, Content-Length, Transfer-Encoding, Connection, Trailer: those
// are gathered, which allocates). The intended divergences from net/http:
// a header field's name with its colon, and the status line up to the end
// of its code, must fit in the buffer (errLineTooLong; net/http accepts up
// to its 10 MiB header limit), and at most maxInterim interim responses are
// skipped.

// maxInterim bounds the 1xx interim responses read before the final one.
// net/http bounds their total header bytes instead; 16 is far beyond what
// a server sends (100 Continue, 103 Early Hints).
const maxInterim = 16

var (
	errLineTooLong    = errors.New("http response: status code or header field name beyond the read buffer")
	errTooManyInterim = fmt.Errorf("http response: more than %d 1xx interim responses", maxInterim)
	errTrailerEOF     = errors.New("http response: unexpected EOF reading trailer")
)

// respInfo is what the hot path keeps of one response.
type respInfo struct {
	Code int // final status code (after any 1xx interim responses; 101 is final)
	// ServedBy is the value of the first X-Served-By header (name compared
	// case-insensitively), nil if none, empty but non-nil if present and
	// empty. It is interned (see servedByNames): read-only, and valid for
	// as long as it is kept, beyond the next read on the reader.
	ServedBy  []byte
	BodyBytes int64 // body bytes read and discarded (chunked: the decoded data bytes)
	// Close: the connection cannot carry another request: Connection:
	// close, HTTP/1.0 without keep-alive, a body delimited by EOF, a
	// request sent with Connection: close (reqClose), or a final status
	// below 200 (101 Switching Protocols; net/http's transport does not
	// reuse those connections either).
	Close bool
}

// readHooks are test-only observers; nil in the hot path (no cost then).
type readHooks struct {
	Header  func(name, value []byte) // every header line of the final response
	Trailer func(name, value []byte) // every trailer line after a chunked body
	Body    io.Writer                // receives the (decoded) body bytes
}

// readResponse reads one response for a request of the given method from
// br, skipping up to maxInterim 1xx interim responses, and consumes its
// body (HEAD: none, whatever Content-Length says) so that br is positioned
// at the next response. reqClose says the request carried Connection:
// close. A read that ends before the response does is io.ErrUnexpectedEOF,
// except that io.EOF means the peer closed before sending any byte (an idle
// keep-alive connection the server closed: safe to retry on a new one).
func readResponse(br *bufio.Reader, method string, reqClose bool, hooks *readHooks) (respInfo, error) {
	var info respInfo
	head := method == "HEAD"
	for interim := 0; ; interim++ {
		code, major, minor, err := readStatusLine(br, interim == 0)
		if err != nil {
			return info, err
		}
		final := code < 100 || code > 199 || code == 101
		if !final && interim == maxInterim {
			return info, errTooManyInterim
		}
		var h headerFields
		h.atLeast11 = major > 1 || major == 1 && minor >= 1
		var hh *readHooks
		if final {
			hh = hooks
		}
		if err := readHeaderBlock(br, &h, false, hh); err != nil {
			return info, err
		}
		if err := h.check(); err != nil {
			return info, err
		}
		if !final {
			continue // an interim response has no body
		}
		info.Code = code
		info.ServedBy = h.servedBy
		closing := major < 1 || h.connClose || major == 1 && minor == 0 && !h.connKeepAlive
		noBody := head || code/100 == 1 || code == 204 || code == 304
		switch {
		case noBody:
		case h.chunked:
			info.BodyBytes, err = readChunked(br, hooks)
		case h.clCount > 0:
			info.BodyBytes, err = discardN(br, h.cl, hooks)
		default:
			closing = true // delimited by EOF
			info.BodyBytes, err = discardAll(br, hooks)
		}
		info.Close = closing || reqClose || code <= 199
		return info, err
	}
}

// readStatusLine parses "HTTP/x.y NNN reason" as http.ReadResponse does
// (which is lax in places: the code may carry a sign, the version is any
// single-digit HTTP/x.y).
func readStatusLine(br *bufio.Reader, first bool) (code, major, minor int, err error) {
	line, end, err := peekLine(br, 0)
	long := err == errLineTooLong // the reason phrase runs past the buffer: parse what is in it
	if long {
		line, _ = br.Peek(br.Buffered())
	} else if err != nil {
		if err == io.EOF && (!first || br.Buffered() > 0) {
			err = io.ErrUnexpectedEOF
		}
		return 0, 0, 0, err
	}
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return 0, 0, 0, badLine("malformed HTTP response", line)
	}
	proto, status := line[:sp], line[sp+1:]
	for len(status) > 0 && status[0] == ' ' {
		status = status[1:]
	}
	if i := bytes.IndexByte(status, ' '); i >= 0 {
		status = status[:i]
	} else if long && len(status) <= 3 {
		return 0, 0, 0, errLineTooLong // the code itself may run past the buffer
	}
	code, ok := parseStatusCode(status)
	if !ok {
		return 0, 0, 0, badLine("malformed HTTP status code", status)
	}
	major, minor, ok = parseVersion(proto)
	if !ok {
		return 0, 0, 0, badLine("malformed HTTP version", proto)
	}
	if !long {
		br.Discard(end)
		return code, major, minor, nil
	}
	for { // skip the rest of the reason phrase
		buf, _ := br.Peek(br.Buffered())
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			br.Discard(i + 1)
			return code, major, minor, nil
		}
		br.Discard(len(buf))
		if _, err := br.Peek(1); err != nil {
			return 0, 0, 0, eofIsUnexpected(err)
		}
	}
}

// parseStatusCode accepts what strconv.Atoi accepts in three bytes and is
// not negative: "200", "+99", "-00".
func parseStatusCode(b []byte) (int, bool) {
	if len(b) != 3 {
		return 0, false
	}
	digits, neg := b, false
	if b[0] == '+' || b[0] == '-' {
		digits, neg = b[1:], b[0] == '-'
	}
	n := 0
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg && n != 0 {
		return 0, false
	}
	return n, true
}

// parseVersion is http.ParseHTTPVersion on bytes.
func parseVersion(b []byte) (major, minor int, ok bool) {
	if len(b) != len("HTTP/x.y") || string(b[:5]) != "HTTP/" || b[6] != '.' ||
		!isDigit(b[5]) || !isDigit(b[7]) {
		return 0, 0, false
	}
	return int(b[5] - '0'), int(b[7] - '0'), true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// headerFields is what one header block says about framing.
type headerFields struct {
	atLeast11 bool // HTTP/1.1 or later: Transfer-Encoding counts

	clCount int   // Content-Length lines
	cl      int64 // the first one's value
	clLen   int   // the first one's length in digits (duplicates must match it byte for byte)
	clBad   bool

	teCount int // Transfer-Encoding lines (HTTP/1.1 and later)
	chunked bool

	trailerBad bool // a Trailer header names a field that cannot be a trailer

	connClose, connKeepAlive bool
	servedBy                 []byte
	seenServedBy             bool
}

func (h *headerFields) check() error {
	if h.teCount > 1 {
		return errors.New("http response: too many transfer encodings")
	}
	if h.teCount == 1 && !h.chunked {
		return errors.New("http response: unsupported transfer encoding")
	}
	if h.clBad {
		return errors.New("http response: bad or conflicting Content-Length")
	}
	if h.chunked && h.trailerBad {
		return errors.New("http response: bad trailer key")
	}
	return nil
}

// field interprets one header field (value already unfolded and trimmed).
func (h *headerFields) field(name, value []byte) {
	switch {
	case equalFold(name, "content-length"):
		n, ok := parseContentLength(value)
		if h.clCount == 0 {
			h.cl, h.clLen, h.clBad = n, len(trimOWS(value)), !ok
		} else if !ok || n != h.cl || len(trimOWS(value)) != h.clLen {
			h.clBad = true
		}
		h.clCount++
	case equalFold(name, "transfer-encoding"):
		if h.atLeast11 {
			h.teCount++
			h.chunked = equalFold(value, "chunked")
		}
	case equalFold(name, "connection"):
		for v := value; len(v) > 0; {
			var el []byte
			el, v = nextElement(v)
			h.connClose = h.connClose || equalFold(el, "close")
			h.connKeepAlive = h.connKeepAlive || equalFold(el, "keep-alive")
		}
	case equalFold(name, "trailer"):
		for v := value; len(v) > 0; {
			var el []byte
			el, v = nextElement(v)
			if equalFold(el, "transfer-encoding") || equalFold(el, "trailer") || equalFold(el, "content-length") {
				h.trailerBad = true
			}
		}
	case equalFold(name, "x-served-by"):
		if !h.seenServedBy {
			h.seenServedBy = true
			h.servedBy = servedByNames.intern(value)
		}
	}
}

// readHeaderBlock reads header (or trailer) lines up to and including the
// blank line, validating them as textproto.ReadMIMEHeader does. Each
// logical line (with its obs-fold continuations) is parsed where it lies
// in br's buffer, then discarded.
func readHeaderBlock(br *bufio.Reader, h *headerFields, trailer bool, hooks *readHooks) error {
	for first := true; ; first = false {
		line, end, err := peekLine(br, 0)
		if err == errLineTooLong {
			if err := readLongHeader(br, first, h, trailer, hooks); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return eofIsUnexpected(err)
		}
		if len(line) == 0 {
			br.Discard(end)
			return nil
		}
		if first && (line[0] == ' ' || line[0] == '\t') {
			return badLine("malformed MIME header initial line", line)
		}
		// Continuation lines start with SP or HT; a blank line never continues.
		folded, long := false, false
		for {
			next, err := br.Peek(br.Buffered())
			if len(next) <= end {
				if next, err = br.Peek(end + 1); err != nil {
					if err == bufio.ErrBufferFull {
						long = true
						break
					}
					return eofIsUnexpected(err)
				}
			}
			if c := next[end]; c != ' ' && c != '\t' {
				break
			}
			if _, end, err = peekLine(br, end); err != nil {
				if err == errLineTooLong {
					long = true
					break
				}
				return eofIsUnexpected(err)
			}
			folded = true
		}
		if long {
			if err := readLongHeader(br, first, h, trailer, hooks); err != nil {
				return err
			}
			continue
		}
		block, _ := br.Peek(end) // stable until the Discard below
		if err := headerLine(block, folded, h, trailer, hooks); err != nil {
			return err
		}
		br.Discard(end)
	}
}

// readLongHeader reads a logical header line (with its continuation lines)
// that does not fit in br's buffer. The fields readResponse interprets,
// and any line when hooks are set, are gathered (this allocates) and
// parsed by headerLine; other lines are validated as they stream past,
// without allocating.
func readLongHeader(br *bufio.Reader, first bool, h *headerFields, trailer bool, hooks *readHooks) error {
	buf, _ := br.Peek(br.Buffered())
	if first && (buf[0] == ' ' || buf[0] == '\t') {
		return badLine("malformed MIME header initial line", buf)
	}
	firstLine, _ := cutLine(buf)
	colon := bytes.IndexByte(firstLine, ':')
	if colon < 0 {
		if len(firstLine) == len(buf) {
			return errLineTooLong // a field name longer than the buffer
		}
		return badLine("malformed MIME header: missing colon", firstLine)
	}
	name := firstLine[:colon]
	gather := hooks != nil || !trailer && isFramingName(name)
	var block []byte
	start := 0 // where the bytes to validate begin in buf
	if !gather {
		if len(name) == 0 {
			return badLine("malformed MIME header line", firstLine)
		}
		for _, c := range name {
			if !isTchar[c] && c != ' ' {
				return badLine("malformed MIME header line", firstLine)
			}
		}
		start = colon + 1
	}
	pendingCR := false // the last byte streamed past was a CR: valid only before LF
	for {
		buf, _ = br.Peek(br.Buffered())
		chunk := buf
		nl := bytes.IndexByte(buf, '\n')
		if nl >= 0 {
			chunk = buf[:nl+1]
		}
		if gather {
			block = append(block, chunk...)
		} else {
			for j, c := range chunk[start:] {
				if pendingCR && c != '\n' {
					return badLine("malformed MIME header line", chunk)
				}
				pendingCR = false
				switch {
				case c == '\r':
					pendingCR = true
				case c == '\n' || isValueByte[c]:
				default:
					return badLine("malformed MIME header line", chunk[start+j:])
				}
			}
			start = 0
		}
		br.Discard(len(chunk))
		next, err := br.Peek(1)
		if err != nil {
			return eofIsUnexpected(err)
		}
		if nl >= 0 && next[0] != ' ' && next[0] != '\t' {
			break
		}
	}
	if !gather {
		return nil
	}
	return headerLine(block, bytes.Count(block, []byte("\n")) > 1, h, trailer, hooks)
}

// isFramingName: the fields headerFields.field interprets.
func isFramingName(name []byte) bool {
	return equalFold(name, "content-length") || equalFold(name, "transfer-encoding") ||
		equalFold(name, "connection") || equalFold(name, "trailer") || equalFold(name, "x-served-by")
}

// headerLine validates and interprets one logical header line: block holds
// its physical lines, terminators included.
func headerLine(block []byte, folded bool, h *headerFields, trailer bool, hooks *readHooks) error {
	first, rest := cutLine(block)
	colon := bytes.IndexByte(first, ':')
	if colon < 0 {
		return badLine("malformed MIME header: missing colon", first)
	}
	name := first[:colon]
	if len(name) == 0 {
		return badLine("malformed MIME header line", first)
	}
	canonical := true // net/http files names with a space under the name as is: no field we read
	for _, c := range name {
		if !isTchar[c] {
			if c != ' ' {
				return badLine("malformed MIME header line", first)
			}
			canonical = false
		}
	}
	if !validValue(first[colon+1:]) {
		return badLine("malformed MIME header line", first)
	}
	for r := rest; len(r) > 0; {
		var l []byte
		l, r = cutLine(r)
		if !validValue(l) {
			return badLine("malformed MIME header line", l)
		}
	}
	needValue := hooks != nil && (hooks.Header != nil && !trailer || hooks.Trailer != nil && trailer)
	if !trailer && canonical && isFramingField(name) {
		needValue = true
	}
	if !needValue {
		return nil
	}
	value := trimOWS(first[colon+1:])
	if folded {
		value = unfold(first[colon+1:], rest)
	}
	if !trailer && canonical {
		h.field(name, value)
	}
	if hooks != nil {
		if trailer && hooks.Trailer != nil {
			hooks.Trailer(name, value)
		} else if !trailer && hooks.Header != nil {
			hooks.Header(name, value)
		}
	}
	return nil
}

// isFramingField: the fields readResponse looks at (cheap first-byte test
// before the comparisons in field).
func isFramingField(name []byte) bool {
	switch name[0] | 0x20 {
	case 'c', 't', 'x':
		return true
	}
	return false
}

// unfold joins a folded value as textproto does: the first line's value
// trimmed at the end, then a space and each continuation line trimmed, the
// whole trimmed at the start. Folding is obsolete (RFC 9112 §5.2) and rare:
// this allocates unless the value is short.
func unfold(firstValue, rest []byte) []byte {
	var scratch [256]byte
	v := append(scratch[:0], trimRightOWS(firstValue)...)
	for len(rest) > 0 {
		var l []byte
		l, rest = cutLine(rest)
		v = append(v, ' ')
		v = append(v, trimOWS(l)...)
	}
	return bytes.Clone(trimLeftOWS(v))
}

// cutLine splits off the first line of b (terminated by LF or CRLF, or by
// the end of b) and returns it without its terminator.
func cutLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, nil
	}
	line, rest = b[:i], b[i+1:]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, rest
}

// peekLine finds the line starting at offset off of br's unread bytes,
// filling the buffer as needed, and returns it without its LF or CRLF and
// the offset just past its terminator. The line stays unread, valid until
// the next read or peek.
func peekLine(br *bufio.Reader, off int) (line []byte, end int, err error) {
	scanned := off
	for {
		buf, _ := br.Peek(br.Buffered())
		if i := bytes.IndexByte(buf[scanned:], '\n'); i >= 0 {
			end = scanned + i + 1
			line = buf[off : end-1]
			if len(line) > 0 && line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
			}
			return line, end, nil
		}
		scanned = len(buf)
		if len(buf) >= br.Size() {
			return nil, 0, errLineTooLong
		}
		if _, err := br.Peek(len(buf) + 1); err != nil {
			return nil, 0, err
		}
	}
}

// discardN consumes a body of n bytes.
func discardN(br *bufio.Reader, n int64, hooks *readHooks) (int64, error) {
	if hooks != nil && hooks.Body != nil {
		got, err := io.CopyN(hooks.Body, br, n)
		return got, eofIsUnexpected(err)
	}
	var got int64
	for got < n {
		d, err := br.Discard(int(min(n-got, math.MaxInt32)))
		got += int64(d)
		if err != nil {
			return got, eofIsUnexpected(err)
		}
	}
	return got, nil
}

// discardAll consumes a body delimited by the end of the connection.
func discardAll(br *bufio.Reader, hooks *readHooks) (int64, error) {
	if hooks != nil && hooks.Body != nil {
		return io.Copy(hooks.Body, br)
	}
	var got int64
	for {
		d, err := br.Discard(math.MaxInt32)
		got += int64(d)
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
	}
}

// Chunked coding limits, as net/http's (internal/chunked.go): a chunk-size
// line must be shorter than maxChunkLine, and the overhead beyond 16 bytes
// plus twice the data per chunk may not exceed maxChunkExcess in total.
const (
	maxChunkLine   = 4096
	maxChunkExcess = 16 * 1024
)

// readChunked consumes a chunked body and its trailer section.
func readChunked(br *bufio.Reader, hooks *readHooks) (int64, error) {
	var total, excess int64
	for {
		p, err := br.ReadSlice('\n')
		if err != nil {
			if err == bufio.ErrBufferFull {
				return total, errors.New("http response: chunk-size line too long")
			}
			return total, eofIsUnexpected(err)
		}
		if i := bytes.IndexByte(p, '\r'); i < 0 || i != len(p)-2 {
			return total, errors.New("http response: chunk-size line not ended by CRLF alone")
		}
		p = p[:len(p)-2]
		if len(p) >= maxChunkLine {
			return total, errors.New("http response: chunk-size line too long")
		}
		excess += int64(len(p)) + 2
		p = trimRightOWS(p)
		if i := bytes.IndexByte(p, ';'); i >= 0 {
			p = p[:i] // chunk extensions are ignored
		}
		n, ok := parseHex(p)
		if !ok {
			return total, errors.New("http response: bad chunk size")
		}
		excess -= 16 + (2 * int64(n)) // wraps as net/http's does for sizes ≥ 2^63
		excess = max(excess, 0)
		if excess > maxChunkExcess {
			return total, errors.New("http response: chunked encoding contains too much non-data")
		}
		if n == 0 {
			return total, readTrailer(br, hooks)
		}
		for n > 0 {
			step := int64(min(n, math.MaxInt32))
			got, err := discardN(br, step, hooks)
			total += got
			if err != nil {
				return total, err
			}
			n -= uint64(step)
		}
		crlf, err := br.Peek(2)
		if err != nil {
			return total, eofIsUnexpected(err)
		}
		if crlf[0] != '\r' || crlf[1] != '\n' {
			return total, errors.New("http response: malformed chunked encoding")
		}
		br.Discard(2)
	}
}

// parseHex parses a chunk size: 1 to 16 hex digits.
func parseHex(p []byte) (uint64, bool) {
	if len(p) == 0 || len(p) > 16 {
		return 0, false
	}
	var n uint64
	for _, c := range p {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		n = n<<4 | uint64(c)
	}
	return n, true
}

var crlfcrlf = []byte("\r\n\r\n")

// readTrailer reads the trailer section after the last chunk. Like
// net/http, it insists on seeing CRLF CRLF within the buffer before parsing
// (which bounds the trailer to the buffer).
func readTrailer(br *bufio.Reader, hooks *readHooks) error {
	p, _ := br.Peek(2)
	if len(p) == 2 && p[0] == '\r' && p[1] == '\n' {
		br.Discard(2)
		return nil
	}
	if len(p) < 2 {
		return errTrailerEOF
	}
	for {
		buf, _ := br.Peek(br.Buffered())
		if bytes.Contains(buf, crlfcrlf) {
			break
		}
		if len(buf) >= br.Size() {
			return errors.New("http response: suspiciously long trailer after chunked body")
		}
		if _, err := br.Peek(len(buf) + 1); err != nil {
			return errors.New("http response: suspiciously long trailer after chunked body")
		}
	}
	var h headerFields
	err := readHeaderBlock(br, &h, true, hooks)
	if err == io.ErrUnexpectedEOF {
		return errTrailerEOF
	}
	return err
}

// parseContentLength: decimal digits only, at most 2^63-1, after trimming
// OWS (strconv.ParseUint(s, 10, 63) on textproto.TrimString).
func parseContentLength(b []byte) (int64, bool) {
	b = trimOWS(b)
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return int64(n), true
}

// nextElement splits off the first element of a comma-separated list,
// OWS-trimmed (possibly empty).
func nextElement(v []byte) (el, rest []byte) {
	if i := bytes.IndexByte(v, ','); i >= 0 {
		return trimOWS(v[:i]), v[i+1:]
	}
	return trimOWS(v), nil
}

// equalFold compares b with the lower-case ASCII s, ASCII case-insensitively.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func trimOWS(b []byte) []byte { return trimLeftOWS(trimRightOWS(b)) }

func trimLeftOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

func trimRightOWS(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func validValue(b []byte) bool {
	for _, c := range b {
		if !isValueByte[c] {
			return false
		}
	}
	return true
}

// isTchar: RFC 9110 token characters (header field names).
// isValueByte: field-content bytes: VCHAR, SP, HTAB, obs-text.
var isTchar, isValueByte = func() (t, v [256]bool) {
	for c := 0; c < 256; c++ {
		v[c] = c == '\t' || c >= 0x20 && c != 0x7f
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	}
	for _, c := range []byte("!#$%&'*+-.^_`|~") {
		t[c] = true
	}
	return t, v
}()

func eofIsUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func badLine(what string, line []byte) error {
	const quoteMax = 80
	if len(line) > quoteMax {
		line = line[:quoteMax]
	}
	return fmt.Errorf("http response: %s: %q", what, line)
}

// servedByNames interns X-Served-By values: a response's value lies in the
// reader's buffer, which reading its body overwrites, and the set of server
// names is small. A lookup does not allocate; a new name costs one copy of
// the table. Past maxServedByNames distinct values (a server that puts
// something else there) each response's value is copied instead.
var servedByNames internTable

const maxServedByNames = 1024

type internTable struct {
	mu sync.Mutex
	m  atomic.Pointer[map[string][]byte]
}

func (t *internTable) intern(b []byte) []byte {
	if m := t.m.Load(); m != nil {
		if v, ok := (*m)[string(b)]; ok {
			return v
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var old map[string][]byte
	if m := t.m.Load(); m != nil {
		old = *m
	}
	if v, ok := old[string(b)]; ok {
		return v
	}
	v := append(make([]byte, 0, len(b)), b...)
	if len(old) >= maxServedByNames {
		return v
	}
	m := make(map[string][]byte, len(old)+1)
	for k, x := range old {
		m[k] = x
	}
	m[string(b)] = v
	t.m.Store(&m)
	return v
}
