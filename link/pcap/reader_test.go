package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"testing"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
)

// synPacket builds a real IPv4 TCP SYN with wire's builder.
func synPacket(t testing.TB, srcPort uint16) []byte {
	t.Helper()
	src, dst := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	h := wire.TCPHeader{SrcPort: srcPort, DstPort: 80, Seq: 1000, Flags: wire.SYN, Window: 65535}
	b := make([]byte, wire.TCPPacketLen(src, &h, 0))
	n, err := wire.EncodeTCPPacket(b, src, dst, &h, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b[:n]
}

// syn6Packet builds an IPv6 TCP SYN with a payload of n bytes.
func syn6Packet(t testing.TB, n int) []byte {
	t.Helper()
	src, dst := netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2")
	h := wire.TCPHeader{SrcPort: 4000, DstPort: 443, Seq: 7, Flags: wire.SYN}
	pay := bytes.Repeat([]byte{'x'}, n)
	b := make([]byte, wire.TCPPacketLen(src, &h, n))
	m, err := wire.EncodeTCPPacket(b, src, dst, &h, pay)
	if err != nil {
		t.Fatal(err)
	}
	return b[:m]
}

// readAll reads every packet, copying the IP bytes out of the Reader's
// buffer, and fails on any error but io.EOF.
func readAll(t *testing.T, data []byte) (*Reader, []Packet) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var out []Packet
	for {
		p, err := r.Next()
		if err == io.EOF {
			return r, out
		}
		if err != nil {
			t.Fatalf("Next after %d packets: %v", len(out), err)
		}
		p.IP = bytes.Clone(p.IP)
		out = append(out, p)
	}
}

func TestReader_RoundTripWithWriter(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, 0)
	if err != nil {
		t.Fatal(err)
	}
	pkts := [][]byte{synPacket(t, 1), syn6Packet(t, 100), synPacket(t, 3)}
	times := []clock.Instant{1_700_000_000_123_456_789, 1_700_000_001_000_000_001, 1_700_000_002_999_999_999}
	for i, p := range pkts {
		if err := w.WritePacket(times[i], p); err != nil {
			t.Fatal(err)
		}
	}
	r, got := readAll(t, buf.Bytes())
	if r.Format() != FormatPcap {
		t.Errorf("format %q, want pcap", r.Format())
	}
	if len(got) != len(pkts) {
		t.Fatalf("read %d packets, wrote %d", len(got), len(pkts))
	}
	for i, p := range got {
		if !bytes.Equal(p.IP, pkts[i]) {
			t.Errorf("packet %d: bytes differ", i+1)
		}
		if p.Time != times[i] {
			t.Errorf("packet %d: time %d, want %d (the Writer keeps nanoseconds)", i+1, p.Time, times[i])
		}
		if p.Number != i+1 || p.OrigLen != len(pkts[i]) || p.LinkType != LinkTypeRaw {
			t.Errorf("packet %d: number %d origlen %d linktype %d", i+1, p.Number, p.OrigLen, p.LinkType)
		}
	}
}

func TestReader_SnapLenCut(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, 60)
	full := syn6Packet(t, 100)
	w.WritePacket(1, full)
	_, got := readAll(t, buf.Bytes())
	if len(got) != 1 || len(got[0].IP) != 60 || got[0].OrigLen != len(full) {
		t.Fatalf("want one 60-byte record of a %d-byte packet, got %+v", len(full), got)
	}
}

// classicFile builds a classic pcap by hand in the given byte order and
// magic, with one record per frame at seconds i, fraction 5.
func classicFile(order byteOrder, magic uint32, linkType uint32, frames ...[]byte) []byte {
	var b []byte
	b = order.AppendUint32(b, magic)
	b = order.AppendUint16(b, 2) // version major
	b = order.AppendUint16(b, 4) // version minor
	b = order.AppendUint32(b, 0) // thiszone
	b = order.AppendUint32(b, 0) // sigfigs
	b = order.AppendUint32(b, 65535)
	b = order.AppendUint32(b, linkType)
	for i, f := range frames {
		b = order.AppendUint32(b, uint32(i+1))    // ts seconds
		b = order.AppendUint32(b, 5)              // ts micro- or nanoseconds
		b = order.AppendUint32(b, uint32(len(f))) // captured length
		b = order.AppendUint32(b, uint32(len(f))) // original length
		b = append(b, f...)
	}
	return b
}

func TestReader_ClassicByteOrdersAndResolutions(t *testing.T) {
	ip := synPacket(t, 9)
	for _, c := range []struct {
		name  string
		order byteOrder
		magic uint32
		frac  clock.Instant // what fraction 5 means
	}{
		{"little-endian micro", binary.LittleEndian, magicMicros, 5000},
		{"big-endian micro", binary.BigEndian, magicMicros, 5000},
		{"little-endian nano", binary.LittleEndian, magicNanos, 5},
		{"big-endian nano", binary.BigEndian, magicNanos, 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, got := readAll(t, classicFile(c.order, c.magic, LinkTypeRaw, ip, ip))
			if len(got) != 2 {
				t.Fatalf("%d packets, want 2", len(got))
			}
			if want := 2*clock.Instant(1e9) + c.frac; got[1].Time != want {
				t.Errorf("time %d, want %d", got[1].Time, want)
			}
			if !bytes.Equal(got[0].IP, ip) {
				t.Error("IP bytes differ")
			}
		})
	}
}

// Link-layer framings of the same IPv4 packet, each built by hand.
func TestReader_LinkTypes(t *testing.T) {
	ip := synPacket(t, 7)
	eth := func(types ...uint16) []byte {
		b := make([]byte, 12) // destination and source MAC
		for i, ty := range types {
			b = binary.BigEndian.AppendUint16(b, ty)
			if i < len(types)-1 {
				b = binary.BigEndian.AppendUint16(b, 42) // VLAN TCI
			}
		}
		return append(b, ip...)
	}
	sll := func() []byte {
		b := []byte{0, 0}                         // packet type: to us
		b = binary.BigEndian.AppendUint16(b, 772) // ARPHRD_LOOPBACK
		b = binary.BigEndian.AppendUint16(b, 6)   // address length
		b = append(b, make([]byte, 8)...)         // address, padded to 8
		b = binary.BigEndian.AppendUint16(b, etherTypeIPv4)
		return append(b, ip...)
	}
	sll2 := func(proto uint16) []byte {
		b := binary.BigEndian.AppendUint16(nil, proto) // protocol type
		b = append(b, 0, 0)                            // reserved
		b = binary.BigEndian.AppendUint32(b, 1)        // interface index
		b = binary.BigEndian.AppendUint16(b, 772)      // ARPHRD_LOOPBACK
		b = append(b, 4, 6)                            // packet type outgoing, address length
		b = append(b, make([]byte, 8)...)
		return append(b, ip...)
	}
	null := func(order byteOrder, fam uint32) []byte { return append(order.AppendUint32(nil, fam), ip...) }
	for _, c := range []struct {
		name     string
		linkType uint32
		frame    []byte
		keep     bool
	}{
		{"raw", LinkTypeRaw, ip, true},
		{"ipv4", LinkTypeIPv4, ip, true},
		{"ipv6 type with IPv4 inside is not IPv6", LinkTypeIPv6, ip, false},
		{"ethernet", LinkTypeEthernet, eth(etherTypeIPv4), true},
		{"ethernet 802.1Q", LinkTypeEthernet, eth(etherTypeVLAN, etherTypeIPv4), true},
		{"ethernet QinQ", LinkTypeEthernet, eth(etherTypeQinQ, etherTypeVLAN, etherTypeIPv4), true},
		{"ethernet ARP skipped", LinkTypeEthernet, eth(0x0806), false},
		{"ethernet runt skipped", LinkTypeEthernet, make([]byte, 10), false},
		{"sll", LinkTypeLinuxSLL, sll(), true},
		{"sll2", LinkTypeSLL2, sll2(etherTypeIPv4), true},
		{"sll2 ARP skipped", LinkTypeSLL2, sll2(0x0806), false},
		{"null little-endian AF_INET", LinkTypeNull, null(binary.LittleEndian, 2), true},
		{"null big-endian AF_INET", LinkTypeNull, null(binary.BigEndian, 2), true},
		{"null unknown family", LinkTypeNull, null(binary.LittleEndian, 99), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, got := readAll(t, classicFile(binary.LittleEndian, magicNanos, c.linkType, c.frame))
			if !c.keep {
				if len(got) != 0 || r.Skipped() != 1 {
					t.Fatalf("want the frame skipped, got %d packets, %d skipped", len(got), r.Skipped())
				}
				return
			}
			if len(got) != 1 || !bytes.Equal(got[0].IP, ip) {
				t.Fatalf("want the IPv4 packet back with the link header stripped, got %d packets", len(got))
			}
			if got[0].OrigLen != len(c.frame) {
				t.Errorf("OrigLen %d, want the frame's %d", got[0].OrigLen, len(c.frame))
			}
		})
	}
}

func TestReader_ClassicErrors(t *testing.T) {
	good := classicFile(binary.LittleEndian, magicNanos, LinkTypeRaw, synPacket(t, 1))
	hugeLen := bytes.Clone(good)
	binary.LittleEndian.PutUint32(hugeLen[24+8:], 0xfffffff0) // captured length of record 1
	for _, c := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrNotCapture},
		{"text", []byte("GET / HTTP/1.1\r\n\r\n and more than 24 bytes"), ErrNotCapture},
		{"unknown link type", classicFile(binary.LittleEndian, magicNanos, 147), ErrLinkType},
		{"huge captured length", hugeLen, ErrTooLarge},
		{"truncated record", good[:len(good)-1], ErrTruncated},
		{"truncated record header", good[:24+7], ErrTruncated},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := readErr(c.data)
			var fe *FormatError
			if !errors.Is(err, c.want) || !errors.As(err, &fe) {
				t.Fatalf("got %v, want a *FormatError wrapping %v", err, c.want)
			}
		})
	}
}

// readErr reads data to the end and returns the error that stopped it
// (nil for a clean io.EOF).
func readErr(data []byte) error {
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	for range 1 << 16 {
		_, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if _, again := r.Next(); again != err {
				return errors.New("the error is not sticky")
			}
			return err
		}
	}
	return errors.New("reader never ended")
}

// Every prefix of a good file either reads cleanly (ending at a record
// boundary) or fails with a FormatError; none panics.
func TestReader_EveryPrefix(t *testing.T) {
	files := map[string][]byte{
		"pcap":   classicFile(binary.BigEndian, magicMicros, LinkTypeRaw, synPacket(t, 1), synPacket(t, 2)),
		"pcapng": handPcapNG(t, binary.LittleEndian),
	}
	for name, data := range files {
		for n := range len(data) {
			err := readErr(data[:n])
			var fe *FormatError
			if err != nil && !errors.As(err, &fe) {
				t.Fatalf("%s prefix %d: error %v is not a *FormatError", name, n, err)
			}
		}
	}
}

// byteOrder is what the hand-built files need of binary.LittleEndian and
// binary.BigEndian: reading, writing and appending.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// NewFrameReader opens a file of a link type Next cannot strip and gives
// every frame back whole, with its link type.
func TestReader_FrameReaderAnyLinkType(t *testing.T) {
	frame := []byte{1, 2, 3, 4, 5}
	r, err := NewFrameReader(bytes.NewReader(classicFile(binary.LittleEndian, magicNanos, 147, frame, frame)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		p, err := r.NextFrame()
		if err != nil || p.Number != i+1 || p.LinkType != 147 || !bytes.Equal(p.IP, frame) {
			t.Fatalf("record %d: %+v, %v", i+1, p, err)
		}
	}
	if _, err := r.NextFrame(); err != io.EOF {
		t.Errorf("after the last record: %v, want io.EOF", err)
	}
}
