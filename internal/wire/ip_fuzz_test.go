package wire

import (
	"errors"
	"testing"
)

// ipFuzzErrors are the sentinels an IP or TCP decoder may return.
var ipFuzzErrors = []error{ErrTruncated, ErrBadVersion, ErrBadHeaderLen, ErrBadTotalLen,
	ErrBadChecksum, ErrFragment, ErrBadExtHeader, ErrBadOptionLen}

// ipFuzzKnown fails the test unless err wraps one of the sentinels.
func ipFuzzKnown(t *testing.T, err error) {
	t.Helper()
	for _, s := range ipFuzzErrors {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error %v wraps no sentinel", err)
}

// ipFuzzSeeds adds a packet of each case built in code; the committed
// corpus under testdata/fuzz adds fragments, extension headers and junk.
func ipFuzzSeeds(f *testing.F) {
	for _, c := range tcpCases() {
		f.Add(c.build(f))
	}
}

func FuzzIPv4(f *testing.F) {
	ipFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseIPv4(b)
		if err != nil {
			ipFuzzKnown(t, err)
			return
		}
		hl := v.HeaderLen()
		if v.Version() != 4 || hl < IPv4MinLen || hl > len(v) || len(v) != v.TotalLen() || len(v) > len(b) {
			t.Fatalf("version %d hl %d total %d view %d input %d", v.Version(), hl, v.TotalLen(), len(v), len(b))
		}
		if !tcpTestWithin(b, v.Payload()) || !tcpTestWithin(b, v.Options()) || len(v.Options())+len(v.Payload()) != len(v)-IPv4MinLen {
			t.Fatal("options and payload are not the view past the fixed header")
		}
		if v.Flags()&IPv4FlagMF != 0 || v.FragmentOffset() != 0 || Checksum(v[:hl]) != 0 {
			t.Fatal("a fragment or a bad checksum parsed")
		}
		// Without options or the reserved flag, the header is exactly what
		// the builder writes for the decoded fields (the checksum compared
		// by verification, as 0x0000 and 0xffff can both be right).
		if hl == IPv4MinLen && v.Flags()&4 == 0 {
			h := IPv4Header{Src: v.Src(), Dst: v.Dst(), Protocol: v.Protocol(), TTL: v.TTL(), TOS: v.TOS(), ID: v.ID(), DontFragment: v.DontFragment()}
			out := make([]byte, IPv4MinLen)
			if _, err := h.Encode(out, len(v.Payload())); err != nil {
				t.Fatal(err)
			}
			if string(out[:10]) != string(v[:10]) || string(out[12:20]) != string(v[12:20]) || Checksum(out) != 0 {
				t.Fatalf("re-encoded\n% x\nfrom\n% x", out, v[:20])
			}
		}
		p, err := ParseIP(b)
		if err != nil || p.Version != 4 || p.Src != v.Src() || p.Dst != v.Dst() || p.Protocol != v.Protocol() ||
			p.TTL != v.TTL() || string(p.Payload) != string(v.Payload()) || len(p.Header) != hl {
			t.Fatalf("ParseIP disagrees: %+v, %v", p, err)
		}
	})
}

func FuzzIPv6(f *testing.F) {
	ipFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseIPv6(b)
		if err != nil {
			ipFuzzKnown(t, err)
			return
		}
		if v.Version() != 6 || len(v) != IPv6HeaderLen+v.PayloadLen() || len(v) > len(b) {
			t.Fatalf("version %d plen %d view %d input %d", v.Version(), v.PayloadLen(), len(v), len(b))
		}
		pay := v.Payload()
		if !tcpTestWithin(v, pay) || v.Protocol() == IPProtoNoNext && len(pay) != 0 {
			t.Fatalf("payload of %d bytes for protocol %d", len(pay), v.Protocol())
		}
		// Every bit of the fixed header is a field: it re-encodes exactly.
		h := IPv6Header{Src: v.Src(), Dst: v.Dst(), NextHeader: v.NextHeader(), HopLimit: v.HopLimit(),
			TrafficClass: v.TrafficClass(), FlowLabel: v.FlowLabel()}
		out := make([]byte, IPv6HeaderLen)
		if _, err := h.Encode(out, v.PayloadLen()); err != nil || string(out) != string(v[:IPv6HeaderLen]) {
			t.Fatalf("re-encoded\n% x\nfrom\n% x (%v)", out, v[:IPv6HeaderLen], err)
		}
		p, err := ParseIP(b)
		if err != nil || p.Version != 6 || p.Src != v.Src() || p.Dst != v.Dst() || p.Protocol != v.Protocol() ||
			p.TTL != v.HopLimit() || string(p.Payload) != string(pay) || len(p.Header) < IPv6HeaderLen {
			t.Fatalf("ParseIP disagrees: %+v, %v", p, err)
		}
	})
}

func FuzzIP(f *testing.F) {
	ipFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseIP(b)
		if err != nil {
			ipFuzzKnown(t, err)
			if len(b) > 0 && b[0]>>4 != 4 && b[0]>>4 != 6 && !errors.Is(err, ErrBadVersion) {
				t.Fatalf("version %d: %v", b[0]>>4, err)
			}
			return
		}
		if p.Version != b[0]>>4 || !tcpTestWithin(b, p.Header) || !tcpTestWithin(b, p.Payload) || &p.Header[0] != &b[0] {
			t.Fatalf("summary %+v does not lie in the input", p)
		}
		if p.Protocol != IPProtoNoNext && len(p.Header)+len(p.Payload) > len(b) {
			t.Fatalf("header %d + payload %d > input %d", len(p.Header), len(p.Payload), len(b))
		}
		if p.Protocol != IPProtoTCP {
			return
		}
		// Down the stack: a TCP segment parses or fails with a sentinel,
		// and its checksum, once set, verifies.
		seg, err := ParseTCP(p.Payload)
		if err != nil {
			ipFuzzKnown(t, err)
			return
		}
		fixed := TCP(append([]byte(nil), seg...))
		fixed.SetChecksum(p.Src, p.Dst)
		if !fixed.VerifyChecksum(p.Src, p.Dst) {
			t.Fatal("SetChecksum result does not verify")
		}
		// A verifying checksum is the computed one, or its other zero
		// (0xffff for 0x0000) in one's complement.
		if c, want := seg.Checksum(), fixed.Checksum(); seg.VerifyChecksum(p.Src, p.Dst) && c != want && !(c == 0xffff && want == 0) {
			t.Fatalf("verified checksum %#04x, recomputed %#04x", seg.Checksum(), fixed.Checksum())
		}
	})
}
