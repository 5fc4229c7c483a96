package load

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/duckbench/duckbench/spec"
)

// Key distributions.
const (
	KeysUniform    = "uniform"
	KeysZipf       = "zipf"
	KeysSequential = "sequential"
)

// Defaults of the target mix and keys (spec.ApplyDefaults sets the same).
const (
	DefaultKeyCount = 1000
	DefaultKeyPref  = "k"
	DefaultZipfS    = 1.1
	DefaultZipfV    = 1.0
	DefaultPath     = "/kv/{key}"
)

// target is one entry of the mix, compiled.
type target struct {
	name   string
	method string
	parts  []string // the path split around {key}
	lit    int      // length of the literal parts
	header http.Header
	body   []byte
	// wire is the request as HTTP/1.1 bytes, split where each key goes
	// (len(parts) pieces): the key prefix ends every piece but the last.
	// The hot path appends the pieces and the key numbers: no string is
	// built per request.
	wire [][]byte
}

// targeter hands out the request sequence of a workload. The n-th call
// returns the n-th request of a sequence fixed by the seed, whichever worker
// calls; vegeta calls it from many goroutines, hence the mutex.
type targeter struct {
	base    string
	targets []target
	cum     []int // cumulative weights
	keyPref string
	count   int
	keyOff  int // added to every key number

	mu   sync.Mutex
	rng  *rand.Rand
	zipf *rand.Zipf
	seq  uint64
	buf  []byte
	next func() int
}

func newTargeter(w spec.Workload, baseURL string) (*targeter, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("parse base url %q: must be like http://127.0.0.1:6301", baseURL)
	}
	k := w.Keys
	t := &targeter{
		base:    strings.TrimSuffix(baseURL, "/"),
		keyPref: k.Prefix,
		count:   k.Count,
	}
	if t.keyPref == "" {
		t.keyPref = DefaultKeyPref
	}
	if t.count == 0 {
		t.count = DefaultKeyCount
	}
	if t.count < 0 {
		return nil, fmt.Errorf("load.keys.count: must be > 0 (got %d)", k.Count)
	}
	seed := uint64(w.Seed)
	if w.Seed == 0 {
		seed = 1
	}
	t.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	switch k.Distribution {
	case "", KeysUniform:
		t.next = func() int { return t.rng.IntN(t.count) }
	case KeysSequential:
		t.next = func() int { n := int(t.seq % uint64(t.count)); t.seq++; return n }
	case KeysZipf:
		s, v := k.ZipfS, k.ZipfV
		if s == 0 {
			s = DefaultZipfS
		}
		if v == 0 {
			v = DefaultZipfV
		}
		if s <= 1 || v < 1 {
			return nil, fmt.Errorf("load.keys: zipf needs zipf_s > 1 and zipf_v >= 1 (got %v, %v)", s, v)
		}
		t.zipf = rand.NewZipf(t.rng, s, v, uint64(t.count-1))
		t.next = func() int { return int(t.zipf.Uint64()) }
	default:
		return nil, fmt.Errorf("load.keys.distribution: must be uniform, zipf or sequential (got %q)", k.Distribution)
	}

	tgts := w.Targets
	if len(tgts) == 0 {
		tgts = []spec.Target{{Path: DefaultPath}}
	}
	total := 0
	for i, st := range tgts {
		m := strings.ToUpper(st.Method)
		if m == "" {
			m = http.MethodGet
		}
		p := st.Path
		if p == "" {
			p = "/"
		}
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		if _, err := url.Parse(t.base + strings.ReplaceAll(p, "{key}", "k")); err != nil {
			return nil, fmt.Errorf("load.targets[%d].path: %w", i, err)
		}
		wt := st.Weight
		if wt == 0 {
			wt = 1
		}
		if wt < 0 {
			return nil, fmt.Errorf("load.targets[%d].weight: must be >= 0 (got %d)", i, st.Weight)
		}
		name := st.Name
		if name == "" {
			name = m + " " + p
		}
		var h http.Header
		if len(st.Headers) > 0 {
			h = make(http.Header, len(st.Headers))
			for k, v := range st.Headers {
				h.Set(k, v)
			}
		}
		var body []byte
		if st.Body != "" {
			body = []byte(st.Body)
		}
		total += wt
		parts := strings.Split(p, "{key}")
		wire, err := wireRequest(t.base, m, p, t.keyPref, h, body, w.KeepAlive == nil || *w.KeepAlive)
		if err != nil {
			return nil, fmt.Errorf("load.targets[%d].path: %w", i, err)
		}
		t.targets = append(t.targets, target{name: name, method: m, parts: parts, lit: len(strings.Join(parts, "")), header: h, body: body, wire: wire})
		t.cum = append(t.cum, total)
	}
	if total == 0 {
		return nil, fmt.Errorf("load.targets: every weight is 0")
	}
	return t, nil
}

// keyMark stands for a key while a target's request is serialised: letters
// and digits only, so URL parsing leaves it as it is.
const keyMark = "duckbenchkeymark0"

// wireRequest serialises a target's request as net/http's Request.Write
// would (request URI escaped as URL.RequestURI gives it, Host, then the
// headers sorted by name, Content-Length for a body or a POST, PUT or
// PATCH without one), with User-Agent duckbench and, without keep-alive,
// Connection: close. The pieces split at each key (see target.wire).
func wireRequest(base, method, path, keyPref string, h http.Header, body []byte, keepAlive bool) ([][]byte, error) {
	u, err := url.Parse(base + strings.ReplaceAll(path, "{key}", keyPref+keyMark))
	if err != nil {
		return nil, err
	}
	host := u.Host
	if v := h.Get("Host"); v != "" {
		host = v
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, u.RequestURI(), host)
	hdr := h.Clone()
	if hdr == nil {
		hdr = http.Header{}
	}
	hdr.Del("Host")
	if hdr.Get("User-Agent") == "" {
		hdr.Set("User-Agent", "duckbench")
	}
	if len(body) > 0 || method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
		hdr.Set("Content-Length", strconv.Itoa(len(body)))
	}
	if !keepAlive {
		hdr.Set("Connection", "close")
	}
	if err := hdr.Write(&b); err != nil {
		return nil, err
	}
	b.WriteString("\r\n")
	b.Write(body)
	var out [][]byte
	for _, piece := range strings.Split(b.String(), keyMark) {
		out = append(out, []byte(piece))
	}
	return out, nil
}

// appendWire appends target i's request for key as HTTP/1.1 bytes to dst,
// without building a string.
func (t *targeter) appendWire(dst []byte, i, key int) []byte {
	tg := &t.targets[i]
	for j, piece := range tg.wire {
		if j > 0 {
			dst = strconv.AppendInt(dst, int64(key+t.keyOff), 10)
		}
		dst = append(dst, piece...)
	}
	return dst
}

// appendURL appends the URL of target i's request for key to dst.
func (t *targeter) appendURL(dst []byte, i, key int) []byte {
	dst = append(dst, t.base...)
	for j, part := range t.targets[i].parts {
		if j > 0 {
			dst = append(dst, t.keyPref...)
			dst = strconv.AppendInt(dst, int64(key+t.keyOff), 10)
		}
		dst = append(dst, part...)
	}
	return dst
}

// names lists the targets' names in spec order.
func (t *targeter) names() []string {
	out := make([]string, len(t.targets))
	for i, tg := range t.targets {
		out[i] = tg.name
	}
	return out
}

// pick returns the index of the next target and the key to use.
func (t *targeter) pick() (int, int) {
	i := 0
	if len(t.targets) > 1 {
		n := t.rng.IntN(t.cum[len(t.cum)-1])
		for t.cum[i] <= n {
			i++
		}
	}
	key := -1
	if len(t.targets[i].parts) > 1 {
		key = t.next()
	}
	return i, key
}

// Next is the vegeta.Targeter.
func (t *targeter) Next(tgt *vegeta.Target) error {
	t.mu.Lock()
	i, key := t.pick()
	t.buf = t.appendURL(t.buf[:0], i, key)
	u := string(t.buf)
	t.mu.Unlock()
	*tgt = vegetaTarget(&t.targets[i], u)
	return nil
}

// draw returns the next request of the sequence: its target's index and
// key (-1: the target has none).
func (t *targeter) draw() (int, int) {
	t.mu.Lock()
	i, key := t.pick()
	t.mu.Unlock()
	return i, key
}

// vegetaTarget is tg's request for url as a vegeta.Target.
func vegetaTarget(tg *target, url string) vegeta.Target {
	return vegeta.Target{Method: tg.method, URL: url, Header: tg.header, Body: tg.body}
}

// index finds which target a result came from, by method and URL. Targets
// that share both are told apart by nothing: the first one gets the result.
func (t *targeter) index(method, u string) int {
	if len(t.targets) == 1 {
		return 0
	}
	p := strings.TrimPrefix(u, t.base)
	best, bestLen := 0, -1
	for i := range t.targets {
		tg := &t.targets[i]
		if tg.method != method || !t.match(tg.parts, p) {
			continue
		}
		if tg.lit > bestLen {
			best, bestLen = i, tg.lit
		}
	}
	return best
}

// match reports whether path p is parts joined by generated keys.
func (t *targeter) match(parts []string, p string) bool {
	if len(parts) == 1 {
		return p == parts[0]
	}
	for j, part := range parts {
		if j == 0 {
			if !strings.HasPrefix(p, part) {
				return false
			}
			p = p[len(part):]
			continue
		}
		// a key: prefix then digits, then the next literal part.
		if !strings.HasPrefix(p, t.keyPref) {
			return false
		}
		p = p[len(t.keyPref):]
		d := 0
		for d < len(p) && p[d] >= '0' && p[d] <= '9' {
			d++
		}
		if d == 0 || !strings.HasPrefix(p[d:], part) {
			return false
		}
		p = p[d+len(part):]
	}
	return p == ""
}
