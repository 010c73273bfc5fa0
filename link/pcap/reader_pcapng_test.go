package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/teardown-lab/teardown/clock"
)

// ngBlock frames a pcapng block: block type (4), block total length (4),
// body padded to 4 bytes, block total length again (4).
func ngBlock(o byteOrder, typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	total := uint32(12 + len(body))
	b := o.AppendUint32(nil, typ)
	b = o.AppendUint32(b, total)
	b = append(b, body...)
	return o.AppendUint32(b, total)
}

// ngOpt encodes one option: code (2), value length (2), value padded to 4.
func ngOpt(o byteOrder, code uint16, val []byte) []byte {
	b := o.AppendUint16(nil, code)
	b = o.AppendUint16(b, uint16(len(val)))
	b = append(b, val...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// ngEnd is opt_endofopt: code 0, length 0.
var ngEnd = []byte{0, 0, 0, 0}

// ngSHB is a Section Header Block: byte-order magic 0x1A2B3C4D (written
// in the section's order, which is how a reader learns it), version 1.0,
// section length -1 (unknown), and an shb_userappl option (code 4).
func ngSHB(o byteOrder) []byte {
	body := o.AppendUint32(nil, ngByteOrderMagic)
	body = o.AppendUint16(body, 1) // major version
	body = o.AppendUint16(body, 0) // minor version
	body = o.AppendUint64(body, ^uint64(0))
	body = append(body, ngOpt(o, 4, []byte("teardown test"))...)
	body = append(body, ngEnd...)
	return ngBlock(o, ngBlockSHB, body)
}

// ngIDB is an Interface Description Block: link type (2), reserved (2),
// snapshot length (4), then options.
func ngIDB(o byteOrder, linkType uint16, snap uint32, opts ...[]byte) []byte {
	body := o.AppendUint16(nil, linkType)
	body = o.AppendUint16(body, 0)
	body = o.AppendUint32(body, snap)
	for _, op := range opts {
		body = append(body, op...)
	}
	return ngBlock(o, ngBlockIDB, append(body, ngEnd...))
}

// ngEPB is an Enhanced Packet Block: interface id (4), timestamp upper and
// lower 32 bits (4+4) in the interface's units, captured length (4),
// original length (4), packet data padded to 4, then an opt_comment
// (code 1) to show that options after the data are skipped.
func ngEPB(o byteOrder, ifID uint32, ts uint64, data []byte) []byte {
	body := o.AppendUint32(nil, ifID)
	body = o.AppendUint32(body, uint32(ts>>32))
	body = o.AppendUint32(body, uint32(ts))
	body = o.AppendUint32(body, uint32(len(data)))
	body = o.AppendUint32(body, uint32(len(data)))
	body = append(body, data...)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	body = append(body, ngOpt(o, 1, []byte("a comment"))...)
	return ngBlock(o, ngBlockEPB, append(body, ngEnd...))
}

// ngSPB is a Simple Packet Block: original length (4), packet data. It
// belongs to interface 0 and has no timestamp.
func ngSPB(o byteOrder, data []byte) []byte {
	return ngBlock(o, ngBlockSPB, append(o.AppendUint32(nil, uint32(len(data))), data...))
}

// handPcapNG builds a two-section capture:
//
//	section 1: SHB; IDB 0 RAW with if_tsresol 9 (nanoseconds); IDB 1
//	           Ethernet with if_tsresol 0x80|10 (units of 2^-10 s) and
//	           if_tsoffset 100 s; an unknown block (type 0x0BAD); EPB on 0
//	           at 1.5 s; EPB on 1 at 2048 units = 2 s (+100 s offset); a
//	           Name Resolution Block (type 4, skipped); SPB (interface 0).
//	section 2: SHB in the other byte order; IDB 0 RAW with the default
//	           resolution (microseconds); EPB at 3 000 000 µs.
func handPcapNG(t testing.TB, o byteOrder) []byte {
	other := byteOrder(binary.BigEndian)
	if o == binary.BigEndian {
		other = binary.LittleEndian
	}
	ip := synPacket(t, 11)
	eth := append(make([]byte, 12), 0x08, 0x00) // MACs, EtherType IPv4
	eth = append(eth, synPacket(t, 12)...)
	var f []byte
	f = append(f, ngSHB(o)...)
	f = append(f, ngIDB(o, LinkTypeRaw, 0, ngOpt(o, ngOptTSResol, []byte{9}))...)
	f = append(f, ngIDB(o, LinkTypeEthernet, 65535,
		ngOpt(o, ngOptTSResol, []byte{0x80 | 10}),
		ngOpt(o, ngOptTSOffset, o.AppendUint64(nil, 100)))...)
	f = append(f, ngBlock(o, 0x0BAD, []byte("unknown block body"))...)
	f = append(f, ngEPB(o, 0, 1_500_000_000, ip)...)
	f = append(f, ngEPB(o, 1, 2048, eth)...)
	f = append(f, ngBlock(o, 4, []byte{0, 0, 0, 0})...) // NRB with only nrb_record_end
	f = append(f, ngSPB(o, synPacket(t, 13))...)
	f = append(f, ngSHB(other)...)
	f = append(f, ngIDB(other, LinkTypeRaw, 0)...)
	f = append(f, ngEPB(other, 0, 3_000_000, synPacket(t, 14))...)
	return f
}

func TestReader_HandBuiltPcapNG(t *testing.T) {
	for _, o := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		t.Run(o.String(), func(t *testing.T) {
			r, got := readAll(t, handPcapNG(t, o))
			if r.Format() != FormatPcapNG {
				t.Errorf("format %q", r.Format())
			}
			want := []struct {
				port     uint16
				time     clock.Instant
				iface    int
				linkType int
			}{
				{11, 1_500_000_000, 0, LinkTypeRaw},
				{12, 102_000_000_000, 1, LinkTypeEthernet},
				{13, 0, 0, LinkTypeRaw}, // a Simple Packet Block has no time
				{14, 3_000_000_000, 0, LinkTypeRaw},
			}
			if len(got) != len(want) {
				t.Fatalf("%d packets, want %d", len(got), len(want))
			}
			for i, w := range want {
				p := got[i]
				if !bytes.Equal(p.IP, synPacket(t, w.port)) {
					t.Errorf("packet %d: not the SYN from port %d", i+1, w.port)
				}
				if p.Time != w.time || p.Interface != w.iface || p.LinkType != w.linkType || p.Number != i+1 {
					t.Errorf("packet %d: time %d iface %d link %d number %d, want %+v",
						i+1, p.Time, p.Interface, p.LinkType, p.Number, w)
				}
			}
		})
	}
}

func TestReader_PcapNGErrors(t *testing.T) {
	o := binary.LittleEndian
	shb, idb := ngSHB(o), ngIDB(o, LinkTypeRaw, 0)
	epb := ngEPB(o, 0, 1, synPacket(t, 1))
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	badTrailer := cat(shb, idb, epb)
	badTrailer[len(badTrailer)-1] ^= 0xff
	huge := cat(shb, idb, epb)
	o.PutUint32(huge[len(shb)+len(idb)+4:], 0x7ffffff0) // EPB total length
	capOver := cat(shb, idb, epb)
	o.PutUint32(capOver[len(shb)+len(idb)+20:], 4000) // EPB captured length
	odd := cat(shb, idb, epb)
	o.PutUint32(odd[len(shb)+len(idb)+4:], 13) // not a multiple of 4
	for _, c := range []struct {
		name string
		data []byte
		want error
	}{
		{"packet before any interface", cat(shb, epb), ErrBadBlock},
		{"packet on undescribed interface", cat(shb, idb, ngEPB(o, 3, 1, synPacket(t, 1))), ErrBadBlock},
		{"trailer disagrees", badTrailer, ErrBadBlock},
		{"huge block", huge, ErrTooLarge},
		{"captured length beyond block", capOver, ErrBadBlock},
		{"length not a multiple of 4", odd, ErrBadBlock},
		{"bad byte-order magic", append([]byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 1, 2, 3, 4}, make([]byte, 16)...), ErrNotCapture},
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

// A packet on an interface of a link type the Reader does not strip is
// skipped and counted, and the packets after it are still read.
func TestReader_PcapNGUnsupportedLinkTypeSkipped(t *testing.T) {
	o := binary.LittleEndian
	f := bytes.Join([][]byte{
		ngSHB(o),
		ngIDB(o, 147, 0), // LINKTYPE_USER0
		ngIDB(o, LinkTypeRaw, 0),
		ngEPB(o, 0, 1, []byte("private framing")),
		ngEPB(o, 1, 2, synPacket(t, 5)),
	}, nil)
	r, got := readAll(t, f)
	if len(got) != 1 || r.Skipped() != 1 || got[0].Number != 2 {
		t.Fatalf("want packet 2 read and packet 1 skipped, got %d packets (%d skipped)", len(got), r.Skipped())
	}
}

func TestInterfaceNanos(t *testing.T) {
	for _, c := range []struct {
		ifc  ngInterface
		ts   uint64
		want int64
	}{
		{ngInterface{exp: 6}, 1_000_001, 1_000_001_000},
		{ngInterface{exp: 9}, 7, 7},
		{ngInterface{exp: 12}, 5_000, 5},
		{ngInterface{exp: 0}, 3, 3_000_000_000},
		{ngInterface{pow2: true, exp: 1}, 3, 1_500_000_000},
		{ngInterface{pow2: true, exp: 32}, 5<<32 | 1<<31, 5_500_000_000},
		{ngInterface{pow2: true, exp: 0}, 2, 2_000_000_000},
		{ngInterface{pow2: true, exp: 100}, 2, 0}, // absurd: no panic
		{ngInterface{exp: 127}, 2, 0},
	} {
		if got := c.ifc.nanos(c.ts); got != c.want {
			t.Errorf("%+v nanos(%d) = %d, want %d", c.ifc, c.ts, got, c.want)
		}
	}
}
