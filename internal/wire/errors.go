package wire

import "errors"

// Sentinel errors for malformed packets. Parse functions wrap them with
// context (fmt.Errorf("%w: ...")); match them with errors.Is.
var (
	// ErrTruncated: the buffer ends before a header, option or length
	// field says it should.
	ErrTruncated = errors.New("wire: truncated packet")
	// ErrBadVersion: the IP version nibble is neither 4 nor 6, or does not
	// match the parser used.
	ErrBadVersion = errors.New("wire: bad IP version")
	// ErrBadHeaderLen: a header-length or data-offset field is smaller than
	// the fixed header or larger than the packet.
	ErrBadHeaderLen = errors.New("wire: bad header length or data offset")
	// ErrBadTotalLen: an IP total/payload length disagrees with the buffer.
	ErrBadTotalLen = errors.New("wire: bad total length")
	// ErrBadOptionLen: an option's length byte is too small, too large for
	// the option's kind, or runs past the options area.
	ErrBadOptionLen = errors.New("wire: bad option length")
	// ErrBadOption: an option's value is invalid for its kind (for example
	// a Mandatory option that is last, or a feature value of wrong size).
	ErrBadOption = errors.New("wire: bad option")
	// ErrBadChecksum: the checksum does not verify.
	ErrBadChecksum = errors.New("wire: bad checksum")
	// ErrFragment: an IPv4 fragment or IPv6 Fragment header; the stack
	// reassembles IPv4 fragments and counts and drops IPv6 ones.
	ErrFragment = errors.New("wire: IP fragment")
	// ErrBadExtHeader: an IPv6 extension header that cannot be walked.
	ErrBadExtHeader = errors.New("wire: bad IPv6 extension header")
	// ErrBadPacketType: a DCCP packet type that is reserved, or a header
	// shape that its type forbids (RFC 4340 §5.1).
	ErrBadPacketType = errors.New("wire: bad packet type")
	// ErrBadCsCov: a DCCP checksum coverage beyond the packet (§9.2).
	ErrBadCsCov = errors.New("wire: bad checksum coverage")
	// ErrNoSpace: a builder's destination buffer is too small.
	ErrNoSpace = errors.New("wire: buffer too small")
)
