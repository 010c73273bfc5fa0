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

// FuzzCheck: Parse and Check never panic, whatever packet length Check is
// given, and what Check accepts keeps its checksum field inside the
// packet. (It was bench/gvtun's FuzzVnetHeader; its corpus came along.)
func FuzzCheck(f *testing.F) {
	f.Add([]byte{1, 1, 52, 0, 0xa8, 5, 20, 0, 16, 0}, 3000)
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 40)
	f.Add([]byte{1, 0x84, 0, 0, 0, 0, 40, 0, 16, 0}, 100)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		h, err := Parse(b)
		if err != nil {
			return
		}
		var e [Len]byte
		h.Encode(e[:])
		if string(e[:]) != string(b[:Len]) {
			t.Fatalf("re-encoded % x from % x", e, b[:Len])
		}
		if h.Check(n) == nil && h.Flags&NeedsCsum != 0 && int(h.CsumStart)+int(h.CsumOffset)+2 > n {
			t.Fatalf("accepted a checksum outside %d bytes: %+v", n, h)
		}
	})
}

// The fields are little-endian, in the order of the struct; fewer than
// Len bytes do not parse.
func TestHeader_EncodeThenParse(t *testing.T) {
	h := Header{Flags: 1, GSOType: 4, HdrLen: 0x0102, GSOSize: 0x0304, CsumStart: 0x0506, CsumOffset: 0x0708}
	var b [Len]byte
	h.Encode(b[:])
	if b != [10]byte{1, 4, 2, 1, 4, 3, 6, 5, 8, 7} {
		t.Fatalf("encoded % x", b)
	}
	got, err := Parse(b[:])
	if err != nil || got != h {
		t.Fatalf("parsed %+v, %v", got, err)
	}
	if _, err := Parse(b[:9]); !errors.Is(err, ErrTruncated) {
		t.Fatalf("9 bytes: %v, want ErrTruncated", err)
	}
}

// Check refuses what a TUN device with TUN_F_CSUM|TSO4|TSO6 never hands
// over, and accepts the header of a kernel TSO super-packet.
func TestHeader_CheckRefuses(t *testing.T) {
	for name, h := range map[string]Header{
		"RSC flag":           {Flags: RSCInfo},
		"UDP GSO":            {GSOType: GSOUDP, GSOSize: 1000},
		"GSO size 0":         {GSOType: GSOTCPv4},
		"checksum past end":  {Flags: NeedsCsum, CsumStart: 90, CsumOffset: 9},
		"offset on the edge": {Flags: NeedsCsum, CsumStart: 80, CsumOffset: 19},
	} {
		if h.Check(100) == nil {
			t.Errorf("%s: %+v accepted", name, h)
		}
	}
	kernelTSO := Header{Flags: NeedsCsum | DataValid, GSOType: GSOTCPv4 | GSOECN, GSOSize: 1448, CsumStart: 20, CsumOffset: 16}
	if err := kernelTSO.Check(100); err != nil {
		t.Errorf("a kernel TSO header refused: %v", err)
	}
}
