package vnethdr

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParse: any Len+ bytes parse; the decoded header re-encodes to the
// same bytes; Check, given the bytes after the header as the packet,
// accepts only what a read path can use safely. The corpus in testdata
// holds link/tun's device reads (a plain segment, a partial checksum,
// TSO super-packets v4/v6, UDP GSO, a truncated header).
func FuzzParse(f *testing.F) {
	f.Add([]byte{1, 2, 3})
	f.Add([]byte{NeedsCsum, GSOTCPv4, 52, 0, 0xa8, 5, 20, 0, 16, 0, 0x45, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := Parse(b)
		if err != nil {
			if len(b) >= Len || !errors.Is(err, ErrTruncated) {
				t.Fatalf("%d bytes: %v", len(b), err)
			}
			return
		}
		var enc [Len]byte
		h.Encode(enc[:])
		if !bytes.Equal(enc[:], b[:Len]) {
			t.Fatalf("re-encoded %x, want %x", enc, b[:Len])
		}
		n := len(b) - Len
		if err := h.Check(n); err != nil {
			for _, e := range []error{ErrFlags, ErrGSOType, ErrGSOSize, ErrCsum} {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("untyped error %v", err)
		}
		if h.Flags&NeedsCsum != 0 && int(h.CsumStart)+int(h.CsumOffset)+2 > n {
			t.Fatal("Check accepted a checksum field outside the packet")
		}
		if h.IsTCPGSO() && h.GSOSize == 0 {
			t.Fatal("Check accepted GSO with gso_size 0")
		}
	})
}
