// Package capture is the outside observer of the timing suites: a packet
// capture (tcpdump) of loopback TCP traffic to and from a test's own ports,
// read back with gopacket's pcap reader into segments time-stamped by the
// kernel, and HTTP/1.1 exchanges put together from them. Nothing in it
// reads a duckbench figure: what it reports is what the wire carried.
package capture

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/duckbench/duckbench/internal/testenv"
)

// Segment is one captured TCP segment.
type Segment struct {
	// At is the kernel's timestamp of the packet (on loopback: when the
	// sender's write passed the interface).
	At       time.Time
	Src, Dst netip.AddrPort
	SYN, FIN bool
	// Payload is the TCP payload, cut at the capture's snap length.
	Payload []byte
}

// Capture is a running tcpdump.
type Capture struct {
	cmd    *exec.Cmd
	path   string
	cancel context.CancelFunc
	mu     sync.Mutex
	stderr bytes.Buffer
	exited chan struct{}
}

// Start runs tcpdump on the loopback interface for TCP segments to or from
// any of ports (at least one), keeping the first snap bytes of each packet,
// for at most limit (then it stops by itself); Stop ends it sooner. It
// returns once tcpdump listens. A host where tcpdump is missing or may not
// capture is Unavailable (a failure under DUCKBENCH_REQUIRE_ALL).
func Start(t testing.TB, limit time.Duration, snap int, ports ...int) *Capture {
	t.Helper()
	bin := testenv.RequireBinary(t, "tcpdump", "tcpdump")
	if len(ports) == 0 {
		t.Fatal("capture: no port to capture")
	}
	var f []string
	for _, p := range ports {
		f = append(f, "port "+strconv.Itoa(p))
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	c := &Capture{path: filepath.Join(t.TempDir(), "capture.pcap"), cancel: cancel, exited: make(chan struct{})}
	c.cmd = exec.CommandContext(ctx, bin, "-i", "lo", "-n", "-U", "--immediate-mode", "-B", "131072", "-s", strconv.Itoa(snap),
		"--time-stamp-precision=nano", "-w", c.path, "tcp and ("+strings.Join(f, " or ")+")")
	c.cmd.Cancel = func() error { return c.cmd.Process.Signal(syscall.SIGINT) }
	c.cmd.WaitDelay = 5 * time.Second
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	pr, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		cancel()
		testenv.Unavailable(t, fmt.Sprintf("start tcpdump: %v", err))
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		once := sync.Once{}
		for sc.Scan() {
			c.mu.Lock()
			c.stderr.WriteString(sc.Text() + "\n")
			c.mu.Unlock()
			if strings.Contains(sc.Text(), "listening on") {
				once.Do(func() { close(ready) })
			}
		}
		_ = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() { c.cancel(); <-c.exited })
	select {
	case <-ready:
		return c
	case <-c.exited:
		testenv.Unavailable(t, "tcpdump could not capture on lo: "+c.log())
	case <-time.After(10 * time.Second):
		t.Fatalf("tcpdump did not start listening in 10s: %s", c.log())
	}
	return nil
}

func (c *Capture) log() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.TrimSpace(c.stderr.String())
}

var droppedRE = regexp.MustCompile(`(\d+) packets? dropped by kernel`)

// Stop ends the capture and reads it back, with the count of packets the
// kernel dropped because tcpdump did not keep up (a busy host): a caller
// that needs every packet fails on any, one that matches pairs of packets
// loses only the pairs that lost one.
func (c *Capture) Stop() (segs []Segment, dropped int, err error) {
	// Packet-buffered (-U) and in immediate mode, tcpdump has written what
	// it saw; a short pause lets the last packets of the test through.
	time.Sleep(200 * time.Millisecond)
	c.cancel()
	<-c.exited
	m := droppedRE.FindStringSubmatch(c.log())
	if m == nil {
		return nil, 0, fmt.Errorf("tcpdump: no drop count in its report: %s", c.log())
	}
	dropped, _ = strconv.Atoi(m[1])
	f, err := os.Open(c.path)
	if err != nil {
		return nil, dropped, fmt.Errorf("open capture: %w", err)
	}
	defer f.Close()
	segs, err = Read(f)
	return segs, dropped, err
}

// maxSnap bounds the snap length of a pcap this package reads (tcpdump's
// largest is 262144): a packet buffer is sized from it.
const maxSnap = 262144

// Read decodes a pcap stream (Ethernet or raw IP link) into its TCP
// segments in file order; packets that are not TCP over IP are left out.
func Read(r io.Reader) ([]Segment, error) {
	pr, err := pcapgo.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("read pcap header: %w", err)
	}
	if pr.Snaplen() > maxSnap {
		return nil, fmt.Errorf("read pcap header: snap length %d over %d", pr.Snaplen(), maxSnap)
	}
	lt := pr.LinkType()
	var out []Segment
	for {
		data, ci, err := pr.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("read packet %d: %w", len(out)+1, err)
		}
		if s, ok := decode(data, lt, ci.Timestamp); ok {
			out = append(out, s)
		}
	}
}

func decode(data []byte, lt layers.LinkType, at time.Time) (Segment, bool) {
	p := gopacket.NewPacket(data, lt, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if !ok {
		return Segment{}, false
	}
	var src, dst netip.Addr
	switch ip := p.NetworkLayer().(type) {
	case *layers.IPv4:
		src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
		dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
	case *layers.IPv6:
		src, _ = netip.AddrFromSlice(ip.SrcIP)
		dst, _ = netip.AddrFromSlice(ip.DstIP)
	default:
		return Segment{}, false
	}
	return Segment{
		At: at, SYN: tcp.SYN && !tcp.ACK, FIN: tcp.FIN,
		Src:     netip.AddrPortFrom(src, uint16(tcp.SrcPort)),
		Dst:     netip.AddrPortFrom(dst, uint16(tcp.DstPort)),
		Payload: append([]byte(nil), tcp.Payload...),
	}, true
}
