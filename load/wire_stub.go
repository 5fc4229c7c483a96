package load

// TEMPORARY stand-in for the wire branch's readResponse (replaced at merge).

import (
	"bufio"
	"io"
	"net/http"
	"strings"
)

type respInfo struct {
	Code      int
	ServedBy  []byte
	BodyBytes int64
	Close     bool
}

type readHooks struct {
	Header  func(name, value []byte)
	Trailer func(name, value []byte)
	Body    io.Writer
}

func readResponse(br *bufio.Reader, method string, reqClose bool, hooks *readHooks) (respInfo, error) {
	req := &http.Request{Method: method}
	for n := 0; ; n++ {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return respInfo{}, err
		}
		if resp.StatusCode >= 100 && resp.StatusCode <= 199 && resp.StatusCode != 101 {
			continue
		}
		var w io.Writer = io.Discard
		if hooks != nil && hooks.Body != nil {
			w = hooks.Body
		}
		nb, err := io.Copy(w, resp.Body)
		resp.Body.Close()
		if err != nil {
			return respInfo{}, err
		}
		if hooks != nil && hooks.Header != nil {
			for k, vs := range resp.Header {
				for _, v := range vs {
					hooks.Header([]byte(k), []byte(v))
				}
			}
		}
		if hooks != nil && hooks.Trailer != nil {
			for k, vs := range resp.Trailer {
				for _, v := range vs {
					hooks.Trailer([]byte(k), []byte(v))
				}
			}
		}
		info := respInfo{Code: resp.StatusCode, BodyBytes: nb, Close: resp.Close || reqClose}
		if v := resp.Header.Get("X-Served-By"); v != "" {
			info.ServedBy = []byte(v)
		}
		_ = strings.ToLower
		return info, nil
	}
}
