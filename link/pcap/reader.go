package pcap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/teardown-lab/teardown/clock"
)

// Link types the Reader understands (besides LinkTypeRaw), from the
// tcpdump.org LINKTYPE_ registry.
const (
	LinkTypeNull     = 0   // BSD loopback: a 4-byte address family in the writer's byte order
	LinkTypeEthernet = 1   // Ethernet II, possibly with 802.1Q/802.1ad tags
	LinkTypeLinuxSLL = 113 // Linux "cooked" capture, version 1 (16-byte header)
	LinkTypeIPv4     = 228 // bare IPv4 packets
	LinkTypeIPv6     = 229 // bare IPv6 packets
	LinkTypeSLL2     = 276 // Linux "cooked" capture, version 2 (20-byte header)
)

// MaxRecordLen bounds the captured length of one record and the size of
// one pcapng block that the Reader will buffer. A larger length field is
// treated as a malformed file (ErrTooLarge) rather than an allocation: it
// is far above tcpdump's default snapshot length of 262144 bytes.
const MaxRecordLen = 1 << 20

// Sentinel errors a Reader wraps in a *FormatError; match with errors.Is.
var (
	// ErrNotCapture: the file starts with neither a pcap magic number nor
	// a pcapng Section Header Block.
	ErrNotCapture = errors.New("pcap: not a pcap or pcapng file")
	// ErrTruncated: the file ends inside a header, record or block.
	ErrTruncated = errors.New("pcap: truncated file")
	// ErrTooLarge: a length field exceeds MaxRecordLen.
	ErrTooLarge = errors.New("pcap: record or block too large")
	// ErrBadBlock: a pcapng block is malformed (bad length, trailer that
	// disagrees with the header, packet before any interface ...).
	ErrBadBlock = errors.New("pcap: malformed pcapng block")
	// ErrLinkType: a classic pcap file's link type is not one the Reader
	// can strip. (In pcapng, packets of such interfaces are skipped.)
	ErrLinkType = errors.New("pcap: unsupported link type")
)

// FormatError describes a malformed capture: where the Reader was and what
// it found. It wraps one of the sentinel errors above.
type FormatError struct {
	Offset int64  // byte offset of the record or block that is bad
	Record int    // 1-based record number, 0 for the file header
	Err    error  // the sentinel
	Detail string // what was wrong, for people
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("%v at byte %d (record %d): %s", e.Err, e.Offset, e.Record, e.Detail)
}

// Unwrap returns the sentinel.
func (e *FormatError) Unwrap() error { return e.Err }

// Packet is one IP packet read from a capture.
type Packet struct {
	// Number is the record's 1-based position in the file, counting
	// records the Reader skipped (non-IP frames): the frame number
	// Wireshark and tshark show.
	Number int
	// Time is the capture timestamp (zero for a pcapng Simple Packet
	// Block, which has none).
	Time clock.Instant
	// IP is the IP packet with the link-layer header removed. It aliases
	// the Reader's buffer and is valid until the next call to Next.
	IP []byte
	// OrigLen is the length of the frame on the wire, link header
	// included; it exceeds the captured length when the snapshot length
	// cut the frame short.
	OrigLen int
	// Interface is the pcapng interface index (0 for classic pcap).
	Interface int
	// LinkType is the link type of the record's interface.
	LinkType int
}

// Format names a capture file format.
type Format string

// The formats NewReader detects.
const (
	FormatPcap   Format = "pcap"
	FormatPcapNG Format = "pcapng"
)

// Reader reads IP packets from a classic pcap or a pcapng stream. Frames
// that do not carry IPv4 or IPv6 (ARP, for instance) are skipped and
// counted in Skipped. A Reader is not safe for concurrent use.
type Reader struct {
	br     *bufio.Reader
	format Format
	off    int64 // bytes consumed so far
	record int   // records (packets) seen so far, skipped ones included
	buf    []byte

	// classic pcap
	order    binary.ByteOrder
	nanos    bool
	linkType int

	// pcapng: the current section's byte order is in order
	ifaces []ngInterface

	skipped int
	err     error // sticky
	frames  bool  // NewFrameReader: frames of every link type, link header kept
}

// NewReader reads the file header of r, detects classic pcap (either byte
// order, microsecond or nanosecond timestamps) or pcapng, and returns a
// Reader positioned at the first record.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{br: bufio.NewReaderSize(r, 64<<10)}
	head, err := rd.br.Peek(4)
	if err != nil {
		return nil, rd.fail(ErrNotCapture, "%d bytes, need a 4-byte magic number", len(head))
	}
	switch {
	case binary.BigEndian.Uint32(head) == ngBlockSHB:
		rd.format = FormatPcapNG
		if err := rd.readSHB(); err != nil {
			return nil, err
		}
	default:
		rd.format = FormatPcap
		if err := rd.readFileHeader(); err != nil {
			return nil, err
		}
	}
	return rd, nil
}

// NewFrameReader is NewReader for callers that strip the link layer
// themselves: its NextFrame returns every record, whatever its link type,
// and a classic pcap file of a link type NewReader refuses opens.
func NewFrameReader(r io.Reader) (*Reader, error) {
	rd := &Reader{br: bufio.NewReaderSize(r, 64<<10), frames: true}
	head, err := rd.br.Peek(4)
	if err != nil {
		return nil, rd.fail(ErrNotCapture, "%d bytes, need a 4-byte magic number", len(head))
	}
	if binary.BigEndian.Uint32(head) == ngBlockSHB {
		rd.format = FormatPcapNG
		err = rd.readSHB()
	} else {
		rd.format = FormatPcap
		err = rd.readFileHeader()
	}
	if err != nil {
		return nil, err
	}
	return rd, nil
}

// NextFrame returns the next record with its link-layer header: the
// frame in Packet.IP (aliasing the Reader's buffer until the next call)
// and its link type in Packet.LinkType. Errors are those of Next.
func (r *Reader) NextFrame() (Packet, error) {
	p, frame, err := r.nextRecord()
	if err != nil {
		return Packet{}, err
	}
	p.IP = frame
	return p, nil
}

// nextRecord reads the next record of either format with its frame. Its
// first error sticks: every later call returns it.
func (r *Reader) nextRecord() (Packet, []byte, error) {
	if r.err != nil {
		return Packet{}, nil, r.err
	}
	var p Packet
	var frame []byte
	var err error
	if r.format == FormatPcapNG {
		p, frame, err = r.nextNG()
	} else {
		p, frame, err = r.nextPcap()
	}
	if err != nil {
		r.err = err
		return Packet{}, nil, err
	}
	return p, frame, nil
}

// Format returns the detected file format.
func (r *Reader) Format() Format { return r.format }

// Skipped returns how many records were skipped because their frame did
// not carry IPv4 or IPv6, or (pcapng) came from an interface whose link
// type the Reader does not support.
func (r *Reader) Skipped() int { return r.skipped }

// Next returns the next IP packet. At the end of the file it returns
// io.EOF; a malformed file returns a *FormatError, and every later call
// returns the same error.
func (r *Reader) Next() (Packet, error) {
	for {
		p, frame, err := r.nextRecord()
		if err != nil {
			return Packet{}, err
		}
		ip, ok, lerr := stripLink(p.LinkType, frame)
		if !ok || lerr != nil { // pcapng only: classic pcap checked its link type up front
			r.skipped++
			continue
		}
		p.IP = ip
		return p, nil
	}
}

// fail records a FormatError at the current position and returns it.
func (r *Reader) fail(sentinel error, format string, args ...any) error {
	r.err = &FormatError{Offset: r.off, Record: r.record, Err: sentinel, Detail: fmt.Sprintf(format, args...)}
	return r.err
}

// read reads exactly n bytes into the Reader's buffer (valid until the
// next read) and advances the offset. A clean end of file before the first
// byte returns io.EOF when atRecord is set; any other short read returns
// ErrTruncated.
func (r *Reader) read(n int, atRecord bool) ([]byte, error) {
	if n < 0 || n > MaxRecordLen {
		return nil, r.fail(ErrTooLarge, "length %d, limit %d", n, MaxRecordLen)
	}
	if cap(r.buf) < n {
		r.buf = make([]byte, n, max(n, 2*cap(r.buf)))
	}
	b := r.buf[:n]
	got, err := io.ReadFull(r.br, b)
	r.off += int64(got)
	if err == io.EOF && atRecord {
		r.err = io.EOF
		return nil, io.EOF
	}
	if err != nil {
		return nil, r.fail(ErrTruncated, "need %d bytes, got %d", n, got)
	}
	return b, nil
}

// discard skips n bytes.
func (r *Reader) discard(n int) error {
	got, err := r.br.Discard(n)
	r.off += int64(got)
	if err != nil {
		return r.fail(ErrTruncated, "skipping %d bytes, got %d", n, got)
	}
	return nil
}
