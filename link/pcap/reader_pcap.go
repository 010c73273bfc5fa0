package pcap

import (
	"encoding/binary"

	"github.com/teardown-lab/teardown/clock"
)

// Classic pcap magic numbers as read in the file's own byte order: the
// original format counts microseconds, the variant nanoseconds.
const (
	magicMicros = 0xa1b2c3d4
	// magicNanos (0xa1b23c4d) is declared with the Writer.
)

// readFileHeader reads the 24-byte classic pcap header: magic (whose byte
// order decides the file's), version 2.4, thiszone, sigfigs, snaplen and
// the link type, whose upper 16 bits carry FCS information we ignore.
func (r *Reader) readFileHeader() error {
	h, err := r.read(fileHeader, false)
	if err != nil {
		return r.fail(ErrNotCapture, "file header: %d bytes", r.off)
	}
	switch {
	case binary.LittleEndian.Uint32(h) == magicMicros:
		r.order = binary.LittleEndian
	case binary.BigEndian.Uint32(h) == magicMicros:
		r.order = binary.BigEndian
	case binary.LittleEndian.Uint32(h) == magicNanos:
		r.order, r.nanos = binary.LittleEndian, true
	case binary.BigEndian.Uint32(h) == magicNanos:
		r.order, r.nanos = binary.BigEndian, true
	default:
		return r.fail(ErrNotCapture, "magic %#08x", binary.BigEndian.Uint32(h))
	}
	if major := r.order.Uint16(h[4:]); major != 2 {
		return r.fail(ErrNotCapture, "pcap version %d.%d", major, r.order.Uint16(h[6:]))
	}
	r.linkType = int(r.order.Uint32(h[20:]) & 0xffff)
	if _, _, err := stripLink(r.linkType, nil); err != nil && !r.frames {
		return r.fail(ErrLinkType, "%v", err)
	}
	return nil
}

// nextPcap reads one record: a 16-byte header (seconds, micro- or
// nanoseconds, captured length, original length) and the captured bytes.
func (r *Reader) nextPcap() (Packet, []byte, error) {
	start := r.off
	h, err := r.read(recHeader, true)
	if err != nil {
		return Packet{}, nil, err
	}
	r.record++
	sec, frac := r.order.Uint32(h[0:]), r.order.Uint32(h[4:])
	capLen, origLen := r.order.Uint32(h[8:]), r.order.Uint32(h[12:])
	if capLen > MaxRecordLen {
		r.off = start
		return Packet{}, nil, r.fail(ErrTooLarge, "captured length %d, limit %d", capLen, MaxRecordLen)
	}
	ns := int64(frac)
	if !r.nanos {
		ns *= 1000
	}
	p := Packet{
		Number:   r.record,
		Time:     clock.Instant(int64(sec)*1e9 + ns),
		OrigLen:  int(origLen),
		LinkType: r.linkType,
	}
	frame, err := r.read(int(capLen), false)
	if err != nil {
		return Packet{}, nil, err
	}
	return p, frame, nil
}
