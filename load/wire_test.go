package load

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// wireBuf is the read buffer of the differential tests: the hot path's
// size, and the same on both sides (net/http's trailer and chunk-line
// limits are the buffer's).
const wireBuf = 4096

// wireResult is what both readers make of one response.
type wireResult struct {
	Code        int
	ServedBy    string
	HasServedBy bool
	Header      http.Header // less the framing fields net/http rewrites
	Body        string
	Trailer     http.Header
	Close       bool // the connection cannot be reused
	Consumed    int  // bytes of the input read up to the end of the response
}

// framingFields are deleted, merged or added by net/http's ReadResponse
// (Transfer-Encoding, Content-Length, Connection, Trailer; Cache-Control
// from Pragma), so headers are compared without them.
var framingFields = []string{"Transfer-Encoding", "Content-Length", "Connection", "Trailer", "Cache-Control"}

// netHTTPRead is the oracle: http.ReadResponse, skipping 1xx interim
// responses as net/http's Transport does (101 is final), and reading the
// body to its end. Reusable as the Transport decides: not resp.Close, not a
// request with Connection: close, not a status below 200.
func netHTTPRead(data []byte, method string, reqClose bool, size int) (wireResult, error) {
	rd := bytes.NewReader(data)
	br := bufio.NewReaderSize(rd, size)
	req := &http.Request{Method: method}
	var resp *http.Response
	for {
		var err error
		resp, err = http.ReadResponse(br, req)
		if err != nil {
			return wireResult{}, err
		}
		if resp.StatusCode < 100 || resp.StatusCode > 199 || resp.StatusCode == 101 {
			break
		}
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return wireResult{}, err
	}
	resp.Body.Close()
	r := wireResult{
		Code:        resp.StatusCode,
		ServedBy:    resp.Header.Get("X-Served-By"),
		HasServedBy: len(resp.Header.Values("X-Served-By")) > 0,
		Header:      resp.Header.Clone(),
		Body:        string(body),
		Close:       resp.Close || reqClose || resp.StatusCode <= 199,
		Consumed:    len(data) - rd.Len() - br.Buffered(),
	}
	for _, k := range framingFields {
		r.Header.Del(k)
	}
	for k, v := range resp.Trailer {
		if v != nil { // declared in Trailer, never sent
			if r.Trailer == nil {
				r.Trailer = http.Header{}
			}
			r.Trailer[k] = v
		}
	}
	return r, nil
}

// wireRead runs readResponse with hooks recording what it saw.
func wireRead(data []byte, method string, reqClose bool, size int) (wireResult, error) {
	rd := bytes.NewReader(data)
	br := bufio.NewReaderSize(rd, size)
	var body bytes.Buffer
	hdr, trl := http.Header{}, http.Header(nil)
	hooks := &readHooks{
		Header: func(name, value []byte) {
			k := http.CanonicalHeaderKey(string(name))
			hdr[k] = append(hdr[k], string(value))
		},
		Trailer: func(name, value []byte) {
			if trl == nil {
				trl = http.Header{}
			}
			k := http.CanonicalHeaderKey(string(name))
			trl[k] = append(trl[k], string(value))
		},
		Body: &body,
	}
	info, err := readResponse(br, method, reqClose, hooks)
	if err != nil {
		return wireResult{}, err
	}
	if info.BodyBytes != int64(body.Len()) {
		return wireResult{}, fmt.Errorf("BodyBytes = %d, hooks.Body got %d", info.BodyBytes, body.Len())
	}
	for _, k := range framingFields {
		hdr.Del(k)
	}
	return wireResult{
		Code:        info.Code,
		ServedBy:    string(info.ServedBy),
		HasServedBy: info.ServedBy != nil,
		Header:      hdr,
		Body:        body.String(),
		Trailer:     trl,
		Close:       info.Close,
		Consumed:    len(data) - rd.Len() - br.Buffered(),
	}, nil
}

// intendedDivergence reports the errors readResponse returns by design
// where net/http reads on (see wire.go): a header line longer than the
// buffer, more than maxInterim interim responses.
func intendedDivergence(err error) bool {
	return errors.Is(err, errLineTooLong) || errors.Is(err, errTooManyInterim)
}

// diffNetHTTP compares readResponse with net/http on one input, both
// reading through a buffer of the given size; "" when they agree.
func diffNetHTTP(data []byte, method string, reqClose bool, size int) string {
	want, wantErr := netHTTPRead(data, method, reqClose, size)
	got, gotErr := wireRead(data, method, reqClose, size)
	switch {
	case wantErr != nil && gotErr != nil:
		return ""
	case wantErr != nil:
		return fmt.Sprintf("readResponse = %+v, nil; net/http: %v", got, wantErr)
	case gotErr != nil:
		if intendedDivergence(gotErr) {
			return ""
		}
		return fmt.Sprintf("readResponse: %v; net/http = %+v", gotErr, want)
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Sprintf("readResponse = %+v\n    net/http = %+v", got, want)
	}
	return ""
}

// wireCase is one response stream as a server might send it.
type wireCase struct {
	name     string
	method   string // "" = GET
	reqClose bool
	raw      string
	wantErr  bool // what net/http does: a check that the case tests what it says
}

var wireCases = []wireCase{
	// Framing by Content-Length.
	{name: "content-length", raw: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Served-By: app1\r\n\r\nhello"},
	{name: "content-length then next response", raw: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
	{name: "content-length zero", raw: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Served-By: app1\r\n\r\n"},
	{name: "lower-case names", raw: "HTTP/1.1 200 OK\r\ncontent-length: 3\r\nx-served-by: app2\r\n\r\nabc"},
	{name: "upper-case names", raw: "HTTP/1.1 200 OK\r\nCONTENT-LENGTH: 3\r\nX-SERVED-BY: app2\r\n\r\nabc"},
	{name: "content-length with OWS", raw: "HTTP/1.1 200 OK\r\nContent-Length: \t 3 \t\r\n\r\nabc"},
	{name: "content-length leading zeros", raw: "HTTP/1.1 200 OK\r\nContent-Length: 003\r\n\r\nabc"},
	{name: "content-length duplicates agree", raw: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length:  3\r\n\r\nabc"},
	{name: "content-length duplicates differ", raw: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", wantErr: true},
	{name: "content-length duplicates differ in zeros", raw: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 03\r\n\r\nabc", wantErr: true},
	{name: "content-length list", raw: "HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc", wantErr: true},
	{name: "content-length empty", raw: "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", wantErr: true},
	{name: "content-length sign", raw: "HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc", wantErr: true},
	{name: "content-length negative", raw: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", wantErr: true},
	{name: "content-length hex", raw: "HTTP/1.1 200 OK\r\nContent-Length: 0x3\r\n\r\nabc", wantErr: true},
	{name: "content-length overflow", raw: "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n", wantErr: true},
	{name: "content-length max truncated", raw: "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\nabc", wantErr: true},
	{name: "body truncated", raw: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", wantErr: true},
	{name: "body larger than buffer", raw: "HTTP/1.1 200 OK\r\nContent-Length: 10000\r\nX-Served-By: big\r\n\r\n" + strings.Repeat("0123456789", 1000)},
	{name: "content-length folded", raw: "HTTP/1.1 200 OK\r\nContent-Length:\r\n 3\r\n\r\nabc"},
	{name: "content-length folded blank", raw: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n \r\n\r\nabc"},
	{name: "content-length folded twice", raw: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n 4\r\n\r\nabc", wantErr: true},
	{name: "content-length name with space", raw: "HTTP/1.1 200 OK\r\nContent-Length : 3\r\n\r\nabc"},

	// X-Served-By.
	{name: "served-by twice", raw: "HTTP/1.1 200 OK\r\nX-Served-By: first\r\nX-Served-By: second\r\nContent-Length: 0\r\n\r\n"},
	{name: "served-by empty", raw: "HTTP/1.1 200 OK\r\nX-Served-By:\r\nContent-Length: 0\r\n\r\n"},
	{name: "served-by OWS", raw: "HTTP/1.1 200 OK\r\nX-Served-By: \t app 3 \t\r\nContent-Length: 0\r\n\r\n"},
	{name: "served-by folded", raw: "HTTP/1.1 200 OK\r\nX-Served-By: app\r\n \t3\r\nContent-Length: 0\r\n\r\n"},
	{name: "served-by name with space", raw: "HTTP/1.1 200 OK\r\nX-Served-By : app\r\nContent-Length: 0\r\n\r\n"},
	{name: "served-by obs-text", raw: "HTTP/1.1 200 OK\r\nX-Served-By: \xc3\xa9t\xc3\xa9\r\nContent-Length: 0\r\n\r\n"},
	{name: "served-by on interim only", raw: "HTTP/1.1 103 Early Hints\r\nX-Served-By: early\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},

	// Chunked.
	{name: "chunked", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Served-By: app1\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"},
	{name: "chunked then next response", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"},
	{name: "chunked upper-case", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n"},
	{name: "chunked extensions", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;name=value;x\r\nabc\r\n0;last\r\n\r\n"},
	{name: "chunked size OWS", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3 \t\r\nabc\r\n0\r\n\r\n"},
	{name: "chunked size leading space", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n 3\r\nabc\r\n0\r\n\r\n", wantErr: true},
	{name: "chunked space before extension", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3 ;x\r\nabc\r\n0\r\n\r\n", wantErr: true},
	{name: "chunked size 16 digits", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0000000000000003\r\nabc\r\n0\r\n\r\n"},
	{name: "chunked size 17 digits", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000003\r\nabc\r\n0\r\n\r\n", wantErr: true},
	{name: "chunked size huge", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc\r\n0\r\n\r\n", wantErr: true},
	{name: "chunked size not hex", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3g\r\nabc\r\n0\r\n\r\n", wantErr: true},
	{name: "chunked size empty", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", wantErr: true},
	{name: "chunked bare LF", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", wantErr: true},
	{name: "chunked stray CR", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r;\r\nabc\r\n0\r\n\r\n", wantErr: true},
	{name: "chunked data not followed by CRLF", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n", wantErr: true},
	{name: "chunked truncated data", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nabc", wantErr: true},
	{name: "chunked truncated before last chunk", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", wantErr: true},
	{name: "chunked no final CRLF", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n", wantErr: true},
	{name: "chunked trailers", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum, X-Undeclared-Not-Sent\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 42\r\nx-other: a\r\nX-Sum: 43\r\n\r\n"},
	{name: "chunked trailer folded", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Sum: 4\r\n 2\r\n\r\n"},
	{name: "chunked trailer no colon", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Sum\r\n\r\n", wantErr: true},
	{name: "chunked trailer bare LF", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Sum: 1\n\n", wantErr: true},
	{name: "chunked trailer truncated", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Sum: 1\r\n", wantErr: true},
	{name: "chunked trailer ends early", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Sum: 1\n\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
	{name: "chunked trailer declares content-length", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: a, content-length\r\n\r\n0\r\n\r\n", wantErr: true},
	{name: "trailer declared without chunked", raw: "HTTP/1.1 200 OK\r\nTrailer: Content-Length\r\nContent-Length: 0\r\n\r\n"},
	{name: "chunked body larger than buffer", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Served-By: big\r\n\r\n2710\r\n" + strings.Repeat("0123456789", 1000) + "\r\n0\r\n\r\n"},
	{name: "chunked long extension", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;" + strings.Repeat("x", 4100) + "\r\nabc\r\n0\r\n\r\n", wantErr: true},
	{name: "chunked too much overhead", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + strings.Repeat("1;"+strings.Repeat("e", 500)+"\r\nx\r\n", 40) + "0\r\n\r\n", wantErr: true},
	{name: "chunked with content-length", raw: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
	{name: "chunked with bad content-length", raw: "HTTP/1.1 200 OK\r\nContent-Length: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", wantErr: true},
	{name: "chunked on HTTP/1.0 ignored", raw: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nabc"},
	{name: "gzip on HTTP/1.0 ignored", raw: "HTTP/1.0 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc"},
	{name: "transfer-encoding gzip", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc", wantErr: true},
	{name: "transfer-encoding identity", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 3\r\n\r\nabc", wantErr: true},
	{name: "transfer-encoding list", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", wantErr: true},
	{name: "transfer-encoding twice", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", wantErr: true},
	{name: "transfer-encoding empty", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n", wantErr: true},
	{name: "transfer-encoding gzip on 204", raw: "HTTP/1.1 204 No Content\r\nTransfer-Encoding: gzip\r\n\r\n", wantErr: true},

	// Responses without a body.
	{name: "HEAD with content-length", method: "HEAD", raw: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nX-Served-By: app1\r\n\r\n"},
	{name: "HEAD chunked", method: "HEAD", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"},
	{name: "HEAD no length", method: "HEAD", raw: "HTTP/1.1 200 OK\r\n\r\n"},
	{name: "HEAD bad content-length", method: "HEAD", raw: "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", wantErr: true},
	{name: "204 with content-length", raw: "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\n"},
	{name: "304 chunked", raw: "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"},
	{name: "304 no length", raw: "HTTP/1.1 304 Not Modified\r\n\r\n"},

	// Interim responses.
	{name: "100 continue", raw: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{name: "103 early hints", raw: "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{name: "interim with connection close", raw: "HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{name: "interim with bad content-length", raw: "HTTP/1.1 100 Continue\r\nContent-Length: x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", wantErr: true},
	{name: "interim then EOF", raw: "HTTP/1.1 100 Continue\r\n\r\n", wantErr: true},
	{name: "101 switching protocols", raw: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello"},
	{name: "status below 100", raw: "HTTP/1.1 099 Odd\r\nContent-Length: 1\r\n\r\nx"},

	// Connection reuse.
	{name: "connection close", raw: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"},
	{name: "connection close among tokens", raw: "HTTP/1.1 200 OK\r\nConnection: Upgrade ,\tCLOSE\r\nContent-Length: 2\r\n\r\nok"},
	{name: "connection close on second line", raw: "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"},
	{name: "connection closed not a token", raw: "HTTP/1.1 200 OK\r\nConnection: closed, x-close\r\nContent-Length: 2\r\n\r\nok"},
	{name: "request connection close", reqClose: true, raw: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{name: "HTTP/1.0 keep-alive", raw: "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok"},
	{name: "HTTP/1.0 default close", raw: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{name: "HTTP/1.0 keep-alive and close", raw: "HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 2\r\n\r\nok"},
	{name: "HTTP/1.0 body to EOF", raw: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nuntil the end"},
	{name: "HTTP/1.1 body to EOF", raw: "HTTP/1.1 200 OK\r\nX-Served-By: app1\r\n\r\nuntil the end" + strings.Repeat(".", 9000)},
	{name: "HTTP/1.1 empty body to EOF", raw: "HTTP/1.1 200 OK\r\n\r\n"},
	{name: "HTTP/0.9 version", raw: "HTTP/0.9 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"},
	{name: "HTTP/2.0 version chunked", raw: "HTTP/2.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
	{name: "HTTP/1.5 version", raw: "HTTP/1.5 200 OK\r\nContent-Length: 2\r\n\r\nok"},

	// Status line.
	{name: "no reason", raw: "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"},
	{name: "empty reason", raw: "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"},
	{name: "extra spaces", raw: "HTTP/1.1   404   Not  Found \r\nContent-Length: 0\r\n\r\n"},
	{name: "code with plus", raw: "HTTP/1.1 +99 x\r\nContent-Length: 0\r\n\r\n"},
	{name: "code minus zero", raw: "HTTP/1.1 -00 x\r\nContent-Length: 0\r\n\r\n"},
	{name: "code negative", raw: "HTTP/1.1 -10 x\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "code four digits", raw: "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "code two digits", raw: "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "code letters", raw: "HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "code tab", raw: "HTTP/1.1 200\tOK\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "no code", raw: "HTTP/1.1\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "bad version", raw: "HTTP/1.x 200 OK\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "lower-case version", raw: "http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "long version", raw: "HTTP/1.10 200 OK\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "blank line first", raw: "\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "reason longer than buffer", raw: "HTTP/1.1 200 " + strings.Repeat("r", 3*wireBuf) + "\r\nContent-Length: 1\r\n\r\nx"},
	{name: "reason longer than buffer truncated", raw: "HTTP/1.1 200 " + strings.Repeat("r", 3*wireBuf), wantErr: true},
	{name: "long status line bad code", raw: "HTTP/1.1 2000" + strings.Repeat("r", wireBuf) + "\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "long status line bad version", raw: "HTTP/1.x 200 " + strings.Repeat("r", wireBuf) + "\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "long status line no space", raw: strings.Repeat("H", wireBuf+10) + "\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "reason with control bytes", raw: "HTTP/1.1 200 O\x00K\r\r\nContent-Length: 0\r\n\r\n"},

	// Header lines.
	{name: "bare LF", raw: "HTTP/1.1 200 OK\nContent-Length: 2\nX-Served-By: lf\n\nok"},
	{name: "header without colon", raw: "HTTP/1.1 200 OK\r\nContent-Length 2\r\n\r\nok", wantErr: true},
	{name: "first header folded", raw: "HTTP/1.1 200 OK\r\n Content-Length: 2\r\n\r\nok", wantErr: true},
	{name: "whitespace line continues", raw: "HTTP/1.1 200 OK\r\nA: b\r\n \t \r\nContent-Length: 2\r\n\r\nok"},
	{name: "empty name", raw: "HTTP/1.1 200 OK\r\n: x\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "bad name byte", raw: "HTTP/1.1 200 OK\r\nX@Y: 1\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "tab before colon", raw: "HTTP/1.1 200 OK\r\nX\t: 1\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "control byte in value", raw: "HTTP/1.1 200 OK\r\nX: a\x01b\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "DEL in value", raw: "HTTP/1.1 200 OK\r\nX: a\x7fb\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "CR in value", raw: "HTTP/1.1 200 OK\r\nX: a\r\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "control byte in continuation", raw: "HTTP/1.1 200 OK\r\nX: a\r\n b\x00\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "colon in value", raw: "HTTP/1.1 200 OK\r\nX-Served-By: a:b\r\nContent-Length: 0\r\n\r\n"},
	{name: "pragma no-cache", raw: "HTTP/1.1 200 OK\r\nPragma: no-cache\r\nContent-Length: 0\r\n\r\n"},
	{name: "long header line fits", raw: "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("v", 3000) + "\r\nContent-Length: 0\r\n\r\n"},
	{name: "header line longer than buffer", raw: "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("v", 5000) + "\r\nX-Served-By: after\r\nContent-Length: 0\r\n\r\n"},
	{name: "header line of buffer size", raw: "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("v", wireBuf-len("HTTP/1.1 200 OK\r\nX-Long: \r")) + "\r\nContent-Length: 0\r\n\r\n"},
	{name: "header line CRLF across buffer end", raw: "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("v", wireBuf-len("HTTP/1.1 200 OK\r\nX-Long: ")) + "\r\nContent-Length: 0\r\n\r\n"},
	{name: "header line CR at buffer end", raw: "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("v", wireBuf-len("HTTP/1.1 200 OK\r\nX-Long: \r")) + "\rv\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "long header line bad byte late", raw: "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("v", 6000) + "\x01\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "long header line CR late", raw: "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("v", 6000) + "\rx\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "long header line bare LF", raw: "HTTP/1.1 200 OK\nX-Long: " + strings.Repeat("v", 6000) + "\nContent-Length: 1\n\nx"},
	{name: "long header line truncated", raw: "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("v", 6000), wantErr: true},
	{name: "long header with long continuation", raw: "HTTP/1.1 200 OK\r\nX-Long: a\r\n " + strings.Repeat("w", 6000) + "\r\n\t" + strings.Repeat("x", 3000) + "\r\nContent-Length: 0\r\n\r\n"},
	{name: "long folded header of short lines", raw: "HTTP/1.1 200 OK\r\nX-Long: a\r\n" + strings.Repeat(" folded\r\n", wireBuf/8) + "Content-Length: 0\r\n\r\n"},
	{name: "long served-by", raw: "HTTP/1.1 200 OK\r\nX-Served-By: " + strings.Repeat("s", 5000) + " \r\nContent-Length: 1\r\n\r\nx"},
	{name: "long connection", raw: "HTTP/1.1 200 OK\r\nConnection: " + strings.Repeat("x, ", 2000) + "close\r\nContent-Length: 1\r\n\r\nx"},
	{name: "long content-length", raw: "HTTP/1.1 200 OK\r\nContent-Length: " + strings.Repeat(" ", 5000) + "1\r\n\r\nx"},
	{name: "long first header folded", raw: "HTTP/1.1 200 OK\r\n X-Long: " + strings.Repeat("v", 5000) + "\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "long header without colon", raw: "HTTP/1.1 200 OK\r\nX-Long\r\n " + strings.Repeat("v", 5000) + "\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "long header bad name", raw: "HTTP/1.1 200 OK\r\nX@Long: " + strings.Repeat("v", 5000) + "\r\nContent-Length: 0\r\n\r\n", wantErr: true},
	{name: "headers longer than buffer", raw: "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("p", 100)+"\r\n", 100) + "X-Served-By: late\r\nContent-Length: 3\r\n\r\nabc"},

	// Truncation.
	{name: "empty input", raw: "", wantErr: true},
	{name: "status line only", raw: "HTTP/1.1 200 OK\r\n", wantErr: true},
	{name: "status line unterminated", raw: "HTTP/1.1 200 OK", wantErr: true},
	{name: "headers truncated", raw: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n", wantErr: true},
	{name: "header line unterminated", raw: "HTTP/1.1 200 OK\r\nContent-Length: 0", wantErr: true},
	{name: "blank line CR only", raw: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r", wantErr: true},
}

// TestReadResponseMatchesNetHTTP: every case reads as net/http's client
// reads it (status, X-Served-By, headers, body, trailers, reuse, where the
// next response starts, or an error), and net/http agrees with wantErr.
func TestReadResponseMatchesNetHTTP(t *testing.T) {
	for _, tc := range wireCases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "GET"
			}
			_, err := netHTTPRead([]byte(tc.raw), method, tc.reqClose, wireBuf)
			if (err != nil) != tc.wantErr {
				t.Fatalf("net/http: err = %v; the case expects error %v", err, tc.wantErr)
			}
			for _, size := range []int{wireBuf, fuzzSmallBuf} {
				if d := diffNetHTTP([]byte(tc.raw), method, tc.reqClose, size); d != "" {
					t.Errorf("buffer %d: %s", size, d)
				}
			}
			if _, err := wireRead([]byte(tc.raw), method, tc.reqClose, wireBuf); intendedDivergence(err) {
				t.Errorf("readResponse: %v; no case here should reach the intended divergences", err)
			}
		})
	}
}

// TestReadResponseWithoutHooks: the hot path (nil hooks) frames and
// reports as the hooked path does.
func TestReadResponseWithoutHooks(t *testing.T) {
	for _, tc := range wireCases {
		method := tc.method
		if method == "" {
			method = "GET"
		}
		want, wantErr := wireRead([]byte(tc.raw), method, tc.reqClose, wireBuf)
		rd := bytes.NewReader([]byte(tc.raw))
		br := bufio.NewReaderSize(rd, wireBuf)
		info, err := readResponse(br, method, tc.reqClose, nil)
		if (err != nil) != (wantErr != nil) {
			t.Errorf("%s: readResponse(nil hooks) err = %v; with hooks %v", tc.name, err, wantErr)
			continue
		}
		if err != nil {
			continue
		}
		consumed := len(tc.raw) - rd.Len() - br.Buffered()
		if info.Code != want.Code || string(info.ServedBy) != want.ServedBy || (info.ServedBy != nil) != want.HasServedBy ||
			info.BodyBytes != int64(len(want.Body)) || info.Close != want.Close || consumed != want.Consumed {
			t.Errorf("%s: readResponse(nil hooks) = %+v, consumed %d; with hooks %+v", tc.name, info, consumed, want)
		}
	}
}

// TestReadResponseDivergences: the two documented ways readResponse is
// stricter than net/http.
func TestReadResponseDivergences(t *testing.T) {
	interim := strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", maxInterim)
	final := "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
	for _, tc := range []struct {
		name, raw string
		want      error
	}{
		{"field name longer than the buffer", "HTTP/1.1 200 OK\r\nX-" + strings.Repeat("n", wireBuf) + ": v\r\nContent-Length: 0\r\n\r\n", errLineTooLong},
		{"status code beyond the buffer", "HTTP/1.1" + strings.Repeat(" ", wireBuf) + "200 OK\r\nContent-Length: 0\r\n\r\n", errLineTooLong},
		{"too many interim responses", interim + "HTTP/1.1 103 Early Hints\r\n\r\n" + final, errTooManyInterim},
		{"as many interim responses as allowed", interim + final, nil},
	} {
		if _, err := netHTTPRead([]byte(tc.raw), "GET", false, wireBuf); err != nil {
			t.Errorf("%s: net/http: %v; the case expects success", tc.name, err)
		}
		_, err := wireRead([]byte(tc.raw), "GET", false, wireBuf)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: readResponse err = %v; want %v", tc.name, err, tc.want)
		}
	}
}

// TestReadResponseEOF: a connection closed before any byte is io.EOF (an
// idle connection the server closed), one closed mid-response
// io.ErrUnexpectedEOF.
func TestReadResponseEOF(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want error
	}{
		{"", io.EOF},
		{"HTTP/1.1 2", io.ErrUnexpectedEOF},
		{"HTTP/1.1 200 OK\r\nContent-Le", io.ErrUnexpectedEOF},
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab", io.ErrUnexpectedEOF},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab", io.ErrUnexpectedEOF},
		{"HTTP/1.1 100 Continue\r\n\r\n", io.ErrUnexpectedEOF},
	} {
		br := bufio.NewReaderSize(strings.NewReader(tc.raw), wireBuf)
		if _, err := readResponse(br, "GET", false, nil); err != tc.want {
			t.Errorf("readResponse(%q) err = %v; want %v", tc.raw, err, tc.want)
		}
	}
}

// TestReadResponseServedByOutlivesBody: ServedBy stays intact after the
// body (larger than the buffer) has been read over the bytes it came from.
func TestReadResponseServedByOutlivesBody(t *testing.T) {
	raw := "HTTP/1.1 200 OK\r\nX-Served-By: app-7\r\nContent-Length: 20000\r\n\r\n" + strings.Repeat("z", 20000) +
		"HTTP/1.1 200 OK\r\nX-Served-By: app-8\r\nTransfer-Encoding: chunked\r\n\r\n4e20\r\n" + strings.Repeat("y", 20000) + "\r\n0\r\n\r\n"
	br := bufio.NewReaderSize(strings.NewReader(raw), wireBuf)
	for _, want := range []string{"app-7", "app-8"} {
		info, err := readResponse(br, "GET", false, nil)
		if err != nil {
			t.Fatalf("readResponse: %v", err)
		}
		if got := string(info.ServedBy); got != want || info.BodyBytes != 20000 {
			t.Errorf("readResponse = ServedBy %q, BodyBytes %d; want %q, 20000", got, info.BodyBytes, want)
		}
	}
}

// allocStream is n copies of a keep-alive response.
func allocStream(resp string, n int) []byte {
	return []byte(strings.Repeat(resp, n))
}

const (
	benchResp        = "HTTP/1.1 200 OK\r\ncontent-length: 12\r\nx-served-by: app1\r\ncache-control: no-cache\r\ncontent-type: text/plain\r\n\r\nhello world\n"
	benchChunkedResp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Served-By: app2\r\nContent-Type: text/plain\r\n\r\n5\r\nhello\r\n7\r\n world\n\r\n0\r\n\r\n"
)

// TestReadResponseAllocs: no allocation per response in the steady state,
// for small and large Content-Length bodies and for chunked ones.
func TestReadResponseAllocs(t *testing.T) {
	for _, tc := range []struct{ name, resp string }{
		{"content-length", benchResp},
		{"chunked", benchChunkedResp},
		{"body larger than buffer", "HTTP/1.1 200 OK\r\nContent-Length: 10000\r\nX-Served-By: app3\r\n\r\n" + strings.Repeat("b", 10000)},
		{"interim then final", "HTTP/1.1 100 Continue\r\n\r\n" + benchResp},
		{"header line longer than buffer", "HTTP/1.1 200 OK\r\nContent-Security-Policy: " + strings.Repeat("p", 3*wireBuf) + "\r\n" + benchResp[len("HTTP/1.1 200 OK\r\n"):]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const perRun = 8
			stream := allocStream(tc.resp, perRun)
			rd := bytes.NewReader(stream)
			br := bufio.NewReaderSize(rd, wireBuf)
			var err error
			var info respInfo
			allocs := testing.AllocsPerRun(100, func() {
				rd.Reset(stream)
				br.Reset(rd)
				for range perRun {
					if info, err = readResponse(br, "GET", false, nil); err != nil {
						return
					}
				}
			})
			if err != nil {
				t.Fatalf("readResponse: %v", err)
			}
			if info.Code != 200 || info.ServedBy == nil || info.Close {
				t.Fatalf("readResponse = %+v; want a 200 with X-Served-By, reusable", info)
			}
			if allocs != 0 {
				t.Errorf("readResponse: %v allocations per %d responses; want 0", allocs, perRun)
			}
		})
	}
}

// fuzzSmallBuf is the second buffer size the fuzz target reads through:
// small enough that short inputs reach the paths for lines longer than the
// buffer (long inputs make the fuzzer slow: it minimises each new one).
const fuzzSmallBuf = 48

// FuzzReadResponse: on any input readResponse agrees with net/http's
// client (see diffNetHTTP) through the hot path's buffer size and a small
// one, and the hot path (nil hooks) with the hooked one. The intended
// divergences (intendedDivergence) are skipped.
func FuzzReadResponse(f *testing.F) {
	for _, tc := range wireCases {
		if len(tc.raw) <= 1024 {
			f.Add([]byte(tc.raw), tc.method == "HEAD", tc.reqClose)
		}
	}
	f.Add([]byte(benchResp+benchChunkedResp), false, false)
	f.Add([]byte("HTTP/1.1 200 OK\r\nX-Long: "+strings.Repeat("v", 100)+"\r\n \t"+strings.Repeat("w", 60)+"\r\nX-Served-By: "+strings.Repeat("s", 70)+"\r\nContent-Length: 1\r\n\r\nx"), false, false)
	f.Add([]byte("HTTP/1.1 200 "+strings.Repeat("r", 100)+"\r\nTransfer-Encoding: chunked\r\n\r\n1;"+strings.Repeat("e", 50)+"\r\nx\r\n0\r\nX-T: 1\r\n\r\n"), false, false)
	f.Fuzz(func(t *testing.T, raw []byte, head, reqClose bool) {
		method := "GET"
		if head {
			method = "HEAD"
		}
		for _, size := range []int{wireBuf, fuzzSmallBuf} {
			if d := diffNetHTTP(raw, method, reqClose, size); d != "" {
				t.Fatalf("input %q (%s, reqClose %v, buffer %d):\n%s", raw, method, reqClose, size, d)
			}
			want, wantErr := wireRead(raw, method, reqClose, size)
			br := bufio.NewReaderSize(bytes.NewReader(raw), size)
			info, err := readResponse(br, method, reqClose, nil)
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("input %q (buffer %d): readResponse(nil hooks) err = %v; with hooks %v", raw, size, err, wantErr)
			}
			if err == nil && (info.Code != want.Code || string(info.ServedBy) != want.ServedBy ||
				info.BodyBytes != int64(len(want.Body)) || info.Close != want.Close) {
				t.Fatalf("input %q (buffer %d): readResponse(nil hooks) = %+v; with hooks %+v", raw, size, info, want)
			}
		}
	})
}

func BenchmarkReadResponse(b *testing.B) {
	stream := allocStream(benchResp, 64)
	rd := bytes.NewReader(stream)
	br := bufio.NewReaderSize(rd, wireBuf)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchResp)))
	for i := 0; b.Loop(); i++ {
		if i%64 == 0 {
			rd.Reset(stream)
			br.Reset(rd)
		}
		if _, err := readResponse(br, "GET", false, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadResponseNetHTTP is the same stream through http.ReadResponse
// and io.Copy(io.Discard, resp.Body), for comparison.
func BenchmarkReadResponseNetHTTP(b *testing.B) {
	stream := allocStream(benchResp, 64)
	rd := bytes.NewReader(stream)
	br := bufio.NewReaderSize(rd, wireBuf)
	req := &http.Request{Method: "GET"}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchResp)))
	for i := 0; b.Loop(); i++ {
		if i%64 == 0 {
			rd.Reset(stream)
			br.Reset(rd)
		}
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		_ = resp.Header.Get("X-Served-By")
	}
}

// TestReadResponseServedByConcurrent: workers reading their own
// connections intern X-Served-By values side by side (run with -race).
func TestReadResponseServedByConcurrent(t *testing.T) {
	const workers, names = 4, 20
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := range names {
				want := fmt.Sprintf("concurrent-%d-%d", w, i)
				raw := "HTTP/1.1 200 OK\r\nX-Served-By: " + want + "\r\nContent-Length: 0\r\n\r\n"
				info, err := readResponse(bufio.NewReaderSize(strings.NewReader(raw), wireBuf), "GET", false, nil)
				if err != nil || string(info.ServedBy) != want {
					errs <- fmt.Errorf("readResponse = %q, %v; want %q", info.ServedBy, err, want)
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestInternTableFull: past its capacity the table still returns the
// value (a copy), and keeps returning the interned ones.
func TestInternTableFull(t *testing.T) {
	var tab internTable
	first := tab.intern([]byte("name-0"))
	for i := 1; i < maxServedByNames+10; i++ {
		want := fmt.Sprintf("name-%d", i)
		if got := tab.intern([]byte(want)); string(got) != want {
			t.Fatalf("intern(%q) = %q", want, got)
		}
	}
	if again := tab.intern([]byte("name-0")); &again[0] != &first[0] {
		t.Errorf("intern(%q) after the table filled up is a new copy; want the interned one", "name-0")
	}
	if n := len(*tab.m.Load()); n != maxServedByNames {
		t.Errorf("table holds %d names; want %d", n, maxServedByNames)
	}
}
