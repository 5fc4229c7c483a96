package capture

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// pcapOf writes segments as an Ethernet pcap with nanosecond timestamps,
// as tcpdump -i lo --time-stamp-precision=nano does.
func pcapOf(t testing.TB, segs []Segment) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, s := range segs {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{0, 0, 0, 0, 0, 0}, DstMAC: net.HardwareAddr{0, 0, 0, 0, 0, 0}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: s.Src.Addr().AsSlice(), DstIP: s.Dst.Addr().AsSlice()}
		tcp := &layers.TCP{SrcPort: layers.TCPPort(s.Src.Port()), DstPort: layers.TCPPort(s.Dst.Port()), SYN: s.SYN, FIN: s.FIN, ACK: !s.SYN, Window: 100}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		sb := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(s.Payload)); err != nil {
			t.Fatal(err)
		}
		b := sb.Bytes()
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: s.At, CaptureLength: len(b), Length: len(b)}, b); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestReadAndExchanges(t *testing.T) {
	srv := netip.MustParseAddrPort("127.0.0.1:8080")
	c1 := netip.MustParseAddrPort("127.0.0.1:40001")
	c2 := netip.MustParseAddrPort("127.0.0.1:40002")
	t0 := time.Unix(1_700_000_000, 123_456_789)
	at := func(us int) time.Time { return t0.Add(time.Duration(us) * time.Microsecond) }
	in := []Segment{
		{At: at(0), Src: c1, Dst: srv, SYN: true},
		{At: at(40), Src: c1, Dst: srv, Payload: []byte("GET /kv/k0 HTTP/1.1\r\nHost: x\r\n\r\n")},
		{At: at(90), Src: c2, Dst: srv, Payload: []byte("GET /kv/k1 HTTP/1.1\r\n\r\n")}, // connection opened before the capture
		{At: at(5100), Src: srv, Dst: c1, Payload: []byte("HTTP/1.1 200 OK\r\n\r\n")},
		{At: at(5150), Src: srv, Dst: c1, Payload: []byte("ok")}, // the body in a second segment
		{At: at(5200), Src: srv, Dst: c2, Payload: []byte("HTTP/1.1 200 OK\r\n\r\nok")},
		{At: at(6000), Src: c1, Dst: srv, Payload: []byte("POST /kv/k2 HTTP/1.1\r\n\r\n")},
		{At: at(6010), Src: c1, Dst: srv, Payload: []byte("body")},
		{At: at(7000), Src: srv, Dst: c1, Payload: nil}, // a bare ACK
	}
	segs, err := Read(bytes.NewReader(pcapOf(t, in)))
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != len(in) {
		t.Fatalf("read %d segments; want %d", len(segs), len(in))
	}
	for i := range in {
		if g, w := segs[i], in[i]; !g.At.Equal(w.At) || g.Src != w.Src || g.Dst != w.Dst || g.SYN != w.SYN || !bytes.Equal(g.Payload, w.Payload) {
			t.Errorf("segment %d = %+v; want %+v", i, g, w)
		}
	}
	want := []Exchange{
		{Client: c1, Path: "/kv/k0", Sent: at(0), Received: at(5150)},
		{Client: c2, Path: "/kv/k1", Sent: at(90), Received: at(5200)},
		{Client: c1, Path: "/kv/k2", Sent: at(6000)},
	}
	got := Exchanges(segs, srv)
	if len(got) != len(want) {
		t.Fatalf("exchanges = %+v; want %+v", got, want)
	}
	for i := range want {
		if g, w := got[i], want[i]; g.Client != w.Client || g.Path != w.Path || !g.Sent.Equal(w.Sent) || !g.Received.Equal(w.Received) {
			t.Errorf("exchange %d = %+v; want %+v", i, g, w)
		}
	}
}

func FuzzRead(f *testing.F) {
	srv := netip.MustParseAddrPort("127.0.0.1:8080")
	c := netip.MustParseAddrPort("127.0.0.1:40001")
	f.Add(pcapOf(f, []Segment{{At: time.Unix(1, 0), Src: c, Dst: srv, Payload: []byte("GET / HTTP/1.1\r\n\r\n")}}))
	f.Add([]byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		segs, _ := Read(bytes.NewReader(b))
		Exchanges(segs, srv)
	})
}
