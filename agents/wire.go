package agents

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
	"time"
)

// LinePrefix starts every line of an agent's protocol on its output.
const LinePrefix = "duckbench-agent "

// Line prefixes of the agent's output; anything else in the log stream
// (progress, the runtime's own lines) is ignored.
const (
	helloPrefix = LinePrefix + "hello "
	shardPrefix = LinePrefix + "shard "
	clockPrefix = LinePrefix + "clock "
)

// MaxChunks bounds the lines one result may claim to span (a line from the
// log stream saying 10¹³ would otherwise size the reassembly buffer): far
// above what an agent writes, raw results of a short run included.
const MaxChunks = 1 << 20

// ChunkSize is the most payload characters per line: well below the 16 KiB
// at which Docker's log drivers split a line.
const ChunkSize = 4096

// WriteHello announces agent index with its clock reading now: the
// coordinator compares it with its own clock (MaxClockSkew).
func WriteHello(w io.Writer, index int, now time.Time) error {
	_, err := fmt.Fprintf(w, "%s%d %d\n", helloPrefix, index, now.UnixNano())
	return err
}

// WriteShard prints s as lines: the JSON, gzipped, base64, in chunks of
// ChunkSize, each line with its index, chunk number, chunk count and the
// CRC-32 of the whole payload, so that a lost or garbled line shows.
func WriteShard(w io.Writer, s *Shard) error {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(s); err != nil {
		return fmt.Errorf("encode shard: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("encode shard: %w", err)
	}
	data := base64.StdEncoding.EncodeToString(buf.Bytes())
	sum := crc32.ChecksumIEEE([]byte(data))
	n := (len(data) + ChunkSize - 1) / ChunkSize
	for k := range n {
		chunk := data[k*ChunkSize : min((k+1)*ChunkSize, len(data))]
		if _, err := fmt.Fprintf(w, "%s%d %d %d %08x %s\n", shardPrefix, s.Index, k, n, sum, chunk); err != nil {
			return err
		}
	}
	return nil
}

// Collector reassembles the agents' lines from a log stream, in any order
// and with repeats (a log re-read after a reconnect).
type Collector struct {
	n      int
	hello  map[int]time.Duration // agent clock − arrival
	helloT map[int]time.Time     // agent clock at hello
	chunks map[int]*parts
	shards map[int]*Shard
	errs   map[int]error
	clocks map[int]ClockReading
	noClk  map[int]string // why an agent's offset could not be bounded
}

type parts struct {
	sum  string
	data []string
	got  int
}

// NewCollector collects the output of n agents.
func NewCollector(n int) *Collector {
	return &Collector{n: n, hello: map[int]time.Duration{}, helloT: map[int]time.Time{}, chunks: map[int]*parts{},
		shards: map[int]*Shard{}, errs: map[int]error{}, clocks: map[int]ClockReading{}, noClk: map[int]string{}}
}

// Line takes one line of output that arrived at arrival (the
// coordinator's clock).
func (c *Collector) Line(line string, arrival time.Time) {
	line = strings.TrimRight(line, "\r\n")
	if i := strings.Index(line, LinePrefix); i > 0 {
		line = line[i:] // a runtime's "task@node | " prefix
	}
	switch {
	case strings.HasPrefix(line, helloPrefix):
		f := strings.Fields(strings.TrimPrefix(line, helloPrefix))
		if len(f) != 2 {
			return
		}
		idx, err1 := strconv.Atoi(f[0])
		ns, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil || idx < 1 || idx > c.n {
			return
		}
		if _, ok := c.hello[idx]; !ok {
			c.hello[idx] = time.Unix(0, ns).Sub(arrival)
			c.helloT[idx] = time.Unix(0, ns)
		}
	case strings.HasPrefix(line, clockPrefix):
		idx, r, reason, ok := parseClock(strings.TrimPrefix(line, clockPrefix))
		if !ok || idx < 1 || idx > c.n {
			return
		}
		if reason != "" {
			c.noClk[idx] = reason
		} else {
			c.clocks[idx] = r
		}
	case strings.HasPrefix(line, shardPrefix):
		c.chunk(strings.Fields(strings.TrimPrefix(line, shardPrefix)))
	}
}

func (c *Collector) chunk(f []string) {
	if len(f) != 5 {
		return
	}
	idx, err1 := strconv.Atoi(f[0])
	k, err2 := strconv.Atoi(f[1])
	n, err3 := strconv.Atoi(f[2])
	if err1 != nil || err2 != nil || err3 != nil || idx < 1 || idx > c.n || n < 1 || n > MaxChunks || k < 0 || k >= n || c.shards[idx] != nil {
		return
	}
	p := c.chunks[idx]
	if p == nil || p.sum != f[3] || len(p.data) != n {
		p = &parts{sum: f[3], data: make([]string, n)}
		c.chunks[idx] = p
	}
	if p.data[k] == "" {
		p.data[k] = f[4]
		p.got++
	}
	if p.got < n {
		return
	}
	data := strings.Join(p.data, "")
	delete(c.chunks, idx)
	if fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(data))) != p.sum {
		c.errs[idx] = fmt.Errorf("agent %d: result garbled in transit (checksum mismatch)", idx)
		return
	}
	s, err := decodeShard(data)
	if err == nil && s.Index != idx {
		err = fmt.Errorf("result labelled agent %d", s.Index)
	}
	if err != nil {
		c.errs[idx] = fmt.Errorf("agent %d: %w", idx, err)
		return
	}
	delete(c.errs, idx)
	c.shards[idx] = s
}

func decodeShard(data string) (*Shard, error) {
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, fmt.Errorf("decode result: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decode result: %w", err)
	}
	var s Shard
	if err := json.NewDecoder(zr).Decode(&s); err != nil {
		return nil, fmt.Errorf("decode result: %w", err)
	}
	if s.Report == nil {
		return nil, fmt.Errorf("decode result: no report")
	}
	return &s, nil
}

// Done reports whether every agent's result arrived.
func (c *Collector) Done() bool { return len(c.shards) == c.n }

// Has reports whether agent index's result arrived.
func (c *Collector) Has(index int) bool { return c.shards[index] != nil }

// Received is what arrived of agent index (1-based): its shard (nil when
// none), the clock offset it announced (ok false without a hello), and
// why a result that arrived could not be read.
func (c *Collector) Received(index int) (s *Shard, offset time.Duration, hello bool, err error) {
	offset, hello = c.hello[index]
	return c.shards[index], offset, hello, c.errs[index]
}

// HelloAt is agent index's clock reading in its hello (ok false: none).
func (c *Collector) HelloAt(index int) (t time.Time, ok bool) {
	t, ok = c.helloT[index]
	return t, ok
}

// Clock is agent index's measured clock offset (ok false: none arrived)
// or why it could not be bounded (reason).
func (c *Collector) Clock(index int) (r ClockReading, reason string, ok bool) {
	if reason, bad := c.noClk[index]; bad {
		return r, reason, true
	}
	r, ok = c.clocks[index]
	return r, "", ok
}
