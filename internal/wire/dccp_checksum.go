package wire

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// DCCP checksum (RFC 4340 §9). The Internet checksum covers the IP
// pseudo-header (protocol 33, length = the whole DCCP packet), the whole
// DCCP header with its options, and as much of the application data as
// CsCov says (§9.2): CsCov 0 covers all of it, CsCov n covers the first
// (n-1)*4 bytes.

// ChecksumCoverage returns how many bytes from the start of the DCCP
// header the checksum covers. A coverage beyond the end of the packet is
// ErrBadCsCov: §9.2 makes such a packet invalid and the receiver drops it.
func (d DCCP) ChecksumCoverage() (int, error) {
	return dccpCoverage(d.HeaderLen(), len(d), d.CsCov())
}

func dccpCoverage(hdrLen, total int, cscov uint8) (int, error) {
	if cscov == 0 {
		return total, nil
	}
	n := hdrLen + (int(cscov)-1)*4
	if n > total {
		return 0, fmt.Errorf("%w: CsCov %d covers %d bytes, packet has %d", ErrBadCsCov, cscov, n, total)
	}
	return n, nil
}

// ComputeChecksum returns the value the Checksum field should hold, for a
// packet sent from src to dst (both IPv4 or both IPv6). The Checksum
// field's current content is left out of the sum.
func (d DCCP) ComputeChecksum(src, dst netip.Addr) (uint16, error) {
	n, err := d.ChecksumCoverage()
	if err != nil {
		return 0, err
	}
	acc := PseudoHeaderSum(src, dst, IPProtoDCCP, len(d))
	acc = Sum(acc, d[:6])
	acc = Sum(acc, d[8:n])
	return Fold(acc), nil
}

// SetChecksum computes the checksum and writes it into the header.
func (d DCCP) SetChecksum(src, dst netip.Addr) error {
	c, err := d.ComputeChecksum(src, dst)
	if err != nil {
		return err
	}
	binary.BigEndian.PutUint16(d[6:], c)
	return nil
}

// VerifyChecksum checks the packet's checksum for a packet sent from src
// to dst. It returns nil if it verifies, ErrBadCsCov if the coverage runs
// past the packet and ErrBadChecksum otherwise.
func (d DCCP) VerifyChecksum(src, dst netip.Addr) error {
	n, err := d.ChecksumCoverage()
	if err != nil {
		return err
	}
	acc := PseudoHeaderSum(src, dst, IPProtoDCCP, len(d))
	if c := Fold(Sum(acc, d[:n])); c != 0 {
		return fmt.Errorf("%w: DCCP checksum %#04x, off by %#04x", ErrBadChecksum, d.Checksum(), c)
	}
	return nil
}
