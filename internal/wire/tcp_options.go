package wire

import (
	"encoding/binary"
	"fmt"

	"github.com/teardown-lab/teardown/internal/seqnum"
)

// TCP option kinds (RFC 9293 §3.2, RFC 7323, RFC 2018; IANA "TCP Option
// Kind Numbers").
const (
	TCPOptEOL           = 0 // End of Option List, RFC 9293 §3.2
	TCPOptNOP           = 1 // No-Operation, RFC 9293 §3.2
	TCPOptMSS           = 2 // Maximum Segment Size, RFC 9293 §3.7.1
	TCPOptWScale        = 3 // Window Scale, RFC 7323 §2
	TCPOptSACKPermitted = 4 // SACK-Permitted, RFC 2018 §2
	TCPOptSACK          = 5 // SACK, RFC 2018 §3
	TCPOptTimestamp     = 8 // Timestamps, RFC 7323 §3
)

// Fixed option lengths (kind and length bytes included).
const (
	tcpOptLenMSS    = 4
	tcpOptLenWScale = 3
	tcpOptLenSACKOK = 2
	tcpOptLenTS     = 10
	tcpOptLenSACK1  = 10 // one block; each more adds 8
)

// TCPOptionIter walks a TCP options area and yields every option, the
// ones teardown does not understand included. It checks only the
// generic layout (RFC 9293 §3.2): every kind other than EOL and NOP has a
// length byte of at least 2 that stays within the area. The zero value
// yields nothing.
//
//	it := wire.NewTCPOptionIter(seg.Options())
//	for kind, data, ok := it.Next(); ok; kind, data, ok = it.Next() { ... }
//	if err := it.Err(); err != nil { ... }
type TCPOptionIter struct {
	rest []byte
	err  error
}

// NewTCPOptionIter returns an iterator over the options area raw.
func NewTCPOptionIter(raw []byte) TCPOptionIter { return TCPOptionIter{rest: raw} }

// Next returns the next option's kind and its data (the bytes after the
// kind and length bytes; nil for EOL and NOP). ok is false at the end of
// the area, after EOL (which is yielded, then ends the list: RFC 9293
// §3.2, the bytes after it are padding) and after a malformed option
// (then Err says why).
func (it *TCPOptionIter) Next() (kind uint8, data []byte, ok bool) {
	if len(it.rest) == 0 {
		return 0, nil, false
	}
	kind = it.rest[0]
	switch kind {
	case TCPOptEOL:
		it.rest = nil
		return kind, nil, true
	case TCPOptNOP:
		it.rest = it.rest[1:]
		return kind, nil, true
	}
	if len(it.rest) < 2 {
		it.fail(fmt.Errorf("%w: option kind %d has no length byte", ErrBadOptionLen, kind))
		return 0, nil, false
	}
	n := int(it.rest[1])
	if n < 2 || n > len(it.rest) {
		it.fail(fmt.Errorf("%w: option kind %d length %d, %d bytes left", ErrBadOptionLen, kind, n, len(it.rest)))
		return 0, nil, false
	}
	data = it.rest[2:n:n]
	it.rest = it.rest[n:]
	return kind, data, true
}

// Err returns the reason the walk stopped early, or nil.
func (it *TCPOptionIter) Err() error { return it.err }

func (it *TCPOptionIter) fail(err error) {
	it.err = err
	it.rest = nil
}

// ParseTCPOptions decodes the options area raw into *o, which it resets
// first. It understands MSS, Window Scale, SACK-Permitted, SACK (1 to 4
// blocks) and Timestamps; it skips NOP and unknown kinds by their length
// and stops at EOL. A length that breaks the generic layout or differs
// from the fixed size of a known kind returns ErrBadOptionLen; *o then
// holds what was decoded before the bad option. When a kind repeats, the
// last one wins.
func ParseTCPOptions(raw []byte, o *TCPOptions) error {
	*o = TCPOptions{}
	it := NewTCPOptionIter(raw)
	for kind, data, ok := it.Next(); ok; kind, data, ok = it.Next() {
		if err := o.decode(kind, data); err != nil {
			return err
		}
	}
	return it.Err()
}

// decode records one option of a known kind; unknown kinds are ignored.
func (o *TCPOptions) decode(kind uint8, data []byte) error {
	want := -1
	switch kind {
	case TCPOptMSS:
		if want = tcpOptLenMSS; len(data)+2 == want {
			o.HasMSS, o.MSS = true, binary.BigEndian.Uint16(data)
		}
	case TCPOptWScale:
		if want = tcpOptLenWScale; len(data)+2 == want {
			o.HasWScale, o.WScale = true, data[0]
		}
	case TCPOptSACKPermitted:
		if want = tcpOptLenSACKOK; len(data)+2 == want {
			o.SACKPermitted = true
		}
	case TCPOptTimestamp:
		if want = tcpOptLenTS; len(data)+2 == want {
			o.HasTimestamp = true
			o.TSVal, o.TSEcr = binary.BigEndian.Uint32(data), binary.BigEndian.Uint32(data[4:])
		}
	case TCPOptSACK:
		// RFC 2018 §3: length 2+8n; at most 4 blocks fit in 40 bytes.
		if n := len(data) / 8; len(data)%8 != 0 || n < 1 || n > MaxSACKBlocks {
			return fmt.Errorf("%w: SACK option of %d bytes", ErrBadOptionLen, len(data)+2)
		}
		o.NumSACK = len(data) / 8
		for i := range o.NumSACK {
			o.SACK[i] = SACKBlock{
				Left:  seqnum.V32(binary.BigEndian.Uint32(data[8*i:])),
				Right: seqnum.V32(binary.BigEndian.Uint32(data[8*i+4:])),
			}
		}
		return nil
	default:
		return nil
	}
	if len(data)+2 != want {
		return fmt.Errorf("%w: option kind %d length %d, want %d", ErrBadOptionLen, kind, len(data)+2, want)
	}
	return nil
}
