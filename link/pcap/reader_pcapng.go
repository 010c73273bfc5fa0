package pcap

import (
	"encoding/binary"
	"io"
	"math/bits"

	"github.com/teardown-lab/teardown/clock"
)

// pcapng block types and constants (draft-ietf-opsawg-pcapng, "PCAP Next
// Generation Dump File Format", sections 4.1-4.4 and 11.1).
const (
	ngBlockSHB = 0x0A0D0D0A // Section Header Block: the same in both byte orders
	ngBlockIDB = 0x00000001 // Interface Description Block
	ngBlockOPB = 0x00000002 // Packet Block (obsolete, still written by old tools)
	ngBlockSPB = 0x00000003 // Simple Packet Block
	ngBlockEPB = 0x00000006 // Enhanced Packet Block

	ngByteOrderMagic = 0x1A2B3C4D
	ngMinBlock       = 12 // type, total length, trailing total length

	ngOptEnd      = 0  // opt_endofopt
	ngOptTSResol  = 9  // if_tsresol: timestamp resolution
	ngOptTSOffset = 14 // if_tsoffset: seconds added to every timestamp
)

// ngInterface is what the Reader keeps of an Interface Description Block.
type ngInterface struct {
	linkType int
	snapLen  int
	// resolution is if_tsresol: units of 10^-exp seconds, or of 2^-exp
	// seconds when pow2 is set. The default is microseconds.
	exp      uint8
	pow2     bool
	offsetNs int64 // if_tsoffset, in nanoseconds
}

// readSHB reads a Section Header Block: type, total length, byte-order
// magic (which sets the section's byte order), version 1.x, section length
// and options. A new section forgets the previous section's interfaces.
func (r *Reader) readSHB() error {
	head, err := r.br.Peek(12)
	if err != nil {
		return r.fail(ErrTruncated, "section header needs 12 bytes, have %d", len(head))
	}
	switch {
	case binary.LittleEndian.Uint32(head[8:]) == ngByteOrderMagic:
		r.order = binary.LittleEndian
	case binary.BigEndian.Uint32(head[8:]) == ngByteOrderMagic:
		r.order = binary.BigEndian
	default:
		return r.fail(ErrNotCapture, "pcapng byte-order magic %#08x", binary.BigEndian.Uint32(head[8:]))
	}
	_, body, err := r.readBlock()
	if err != nil {
		return err
	}
	if len(body) < 16 {
		return r.fail(ErrBadBlock, "section header body of %d bytes", len(body))
	}
	if major := r.order.Uint16(body[4:]); major != 1 {
		return r.fail(ErrNotCapture, "pcapng version %d.%d", major, r.order.Uint16(body[6:]))
	}
	r.ifaces = r.ifaces[:0]
	return nil
}

// readBlock reads one whole block and returns its type and body (the bytes
// between the leading total length and the trailing one). Block lengths
// are multiples of 4 and at least 12; the trailing length must repeat the
// leading one.
func (r *Reader) readBlock() (uint32, []byte, error) {
	start := r.off
	h, err := r.read(8, true)
	if err != nil {
		return 0, nil, err
	}
	typ, total := r.order.Uint32(h), r.order.Uint32(h[4:])
	if total < ngMinBlock || total%4 != 0 {
		r.off = start
		return 0, nil, r.fail(ErrBadBlock, "block type %#x of total length %d", typ, total)
	}
	if total > MaxRecordLen {
		if typ == ngBlockSHB || typ == ngBlockIDB || typ == ngBlockEPB || typ == ngBlockSPB || typ == ngBlockOPB {
			r.off = start
			return 0, nil, r.fail(ErrTooLarge, "block type %#x of %d bytes", typ, total)
		}
		// Unknown and large (a name resolution or custom block): skip it
		// without buffering it.
		if err := r.discard(int(total) - 8); err != nil {
			return 0, nil, err
		}
		return typ, nil, nil
	}
	rest, err := r.read(int(total)-8, false)
	if err != nil {
		return 0, nil, err
	}
	if trail := r.order.Uint32(rest[len(rest)-4:]); trail != total {
		r.off = start
		return 0, nil, r.fail(ErrBadBlock, "block type %#x: length %d, trailer %d", typ, total, trail)
	}
	return typ, rest[:len(rest)-4], nil
}

// nextNG reads blocks until one carries a packet, handling interface
// descriptions and new sections on the way and skipping unknown blocks.
func (r *Reader) nextNG() (Packet, []byte, error) {
	for {
		head, err := r.br.Peek(4)
		if len(head) == 4 && binary.BigEndian.Uint32(head) == ngBlockSHB {
			if err := r.readSHB(); err != nil {
				return Packet{}, nil, err
			}
			continue
		}
		if len(head) == 0 && err == io.EOF {
			r.err = io.EOF
			return Packet{}, nil, io.EOF
		}
		typ, body, err := r.readBlock()
		if err != nil {
			return Packet{}, nil, err
		}
		switch typ {
		case ngBlockIDB:
			if err := r.addInterface(body); err != nil {
				return Packet{}, nil, err
			}
		case ngBlockEPB, ngBlockOPB, ngBlockSPB:
			r.record++
			return r.ngPacket(typ, body)
		}
	}
}

// addInterface decodes an Interface Description Block: link type (2),
// reserved (2), snapshot length (4), options.
func (r *Reader) addInterface(body []byte) error {
	if len(body) < 8 {
		return r.fail(ErrBadBlock, "interface description of %d bytes", len(body))
	}
	ifc := ngInterface{linkType: int(r.order.Uint16(body)), snapLen: int(r.order.Uint32(body[4:])), exp: 6}
	opts := body[8:]
	for len(opts) >= 4 {
		code, n := r.order.Uint16(opts), int(r.order.Uint16(opts[2:]))
		if code == ngOptEnd {
			break
		}
		padded := (n + 3) &^ 3
		if 4+padded > len(opts) {
			return r.fail(ErrBadBlock, "interface option %d of %d bytes overruns the block", code, n)
		}
		val := opts[4 : 4+n]
		switch {
		case code == ngOptTSResol && n == 1:
			ifc.pow2, ifc.exp = val[0]&0x80 != 0, val[0]&0x7f
		case code == ngOptTSOffset && n == 8:
			ifc.offsetNs = int64(r.order.Uint64(val)) * 1e9
		}
		opts = opts[4+padded:]
	}
	r.ifaces = append(r.ifaces, ifc)
	return nil
}

// ngPacket decodes an Enhanced Packet Block (interface (4), timestamp high
// and low (4+4), captured length (4), original length (4), data, options),
// an obsolete Packet Block (interface (2), drops (2), then the same) or a
// Simple Packet Block (original length (4), data; interface 0, no time).
func (r *Reader) ngPacket(typ uint32, body []byte) (Packet, []byte, error) {
	var ifID, capLen, origLen int
	var ts uint64
	var data []byte
	switch typ {
	case ngBlockSPB:
		if len(body) < 4 {
			return Packet{}, nil, r.fail(ErrBadBlock, "simple packet block of %d bytes", len(body))
		}
		origLen = int(r.order.Uint32(body))
		capLen = min(origLen, len(body)-4)
		if len(r.ifaces) > 0 && r.ifaces[0].snapLen > 0 {
			capLen = min(capLen, r.ifaces[0].snapLen)
		}
		data = body[4:]
	default:
		if len(body) < 20 {
			return Packet{}, nil, r.fail(ErrBadBlock, "packet block of %d bytes", len(body))
		}
		if typ == ngBlockEPB {
			ifID = int(r.order.Uint32(body))
		} else {
			ifID = int(r.order.Uint16(body))
		}
		ts = uint64(r.order.Uint32(body[4:]))<<32 | uint64(r.order.Uint32(body[8:]))
		capLen, origLen = int(r.order.Uint32(body[12:])), int(r.order.Uint32(body[16:]))
		data = body[20:]
	}
	if capLen < 0 || capLen > len(data) {
		return Packet{}, nil, r.fail(ErrBadBlock, "captured length %d, block holds %d", capLen, len(data))
	}
	if ifID >= len(r.ifaces) {
		return Packet{}, nil, r.fail(ErrBadBlock, "packet on interface %d, %d described", ifID, len(r.ifaces))
	}
	ifc := r.ifaces[ifID]
	p := Packet{Number: r.record, OrigLen: origLen, Interface: ifID, LinkType: ifc.linkType}
	if typ != ngBlockSPB {
		p.Time = clock.Instant(ifc.nanos(ts) + ifc.offsetNs)
	}
	return p, data[:capLen], nil
}

// nanos converts a timestamp in the interface's units to nanoseconds.
// Absurd resolutions give absurd but harmless times, never a panic.
func (ifc ngInterface) nanos(ts uint64) int64 {
	if ifc.pow2 {
		if ifc.exp >= 64 {
			return 0
		}
		sec := ts >> ifc.exp
		frac := ts & (1<<ifc.exp - 1)
		hi, lo := bits.Mul64(frac, 1e9)
		fracNs := lo >> ifc.exp
		if ifc.exp > 0 {
			fracNs |= hi << (64 - ifc.exp)
		}
		return int64(sec)*1e9 + int64(fracNs)
	}
	e := int(ifc.exp)
	switch {
	case e <= 9:
		return int64(ts) * pow10(9-e)
	case e-9 <= 18:
		return int64(ts / uint64(pow10(e-9)))
	}
	return 0
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}
