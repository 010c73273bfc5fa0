package tcp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

var (
	ckLocal  = netip.MustParseAddrPort("10.0.0.2:80")
	ckRemote = netip.MustParseAddrPort("10.0.0.1:40000")
	ckT0     = clock.Instant(946684800e9)
)

func cookieSYN(ts bool) *Segment {
	s := &Segment{Seq: 1000, Flags: wire.SYN, Window: 65535}
	s.Options = wire.TCPOptions{HasMSS: true, MSS: 1400, HasWScale: true, WScale: 9, SACKPermitted: true}
	if ts {
		s.Options.HasTimestamp, s.Options.TSVal = true, 777
	}
	return s
}

// cookieACK is the client's answer to the SYN-ACK of r, sent at now.
func cookieACK(r *Request, tsVal uint32, ts bool) *Segment {
	a := &Segment{Seq: r.IRS.Add(1), Ack: r.ISS.Add(1), Flags: wire.ACK, Window: 500}
	if ts {
		a.Options.HasTimestamp, a.Options.TSVal, a.Options.TSEcr = true, 778, tsVal
	}
	return a
}

// RFC 4987 §3.6: what the SYN offered comes back from the ACK alone. With
// timestamps the window scale and SACK-permitted ride in the TSval's low
// bits; the MSS is rounded down to the table (1400 -> 1300).
func TestCookieRoundTripWithTimestamps(t *testing.T) {
	j := NewCookieJar([32]byte{1})
	cfg := DefaultConfig()
	r, tsVal := j.Make(ckT0, &cfg, ckLocal, ckRemote, cookieSYN(true))
	got, ok := j.Check(ckT0.Add(30*time.Second), &cfg, ckLocal, ckRemote, cookieACK(&r, tsVal, true))
	if !ok {
		t.Fatal("a fresh cookie was rejected")
	}
	if got.ISS != r.ISS || got.IRS != 1000 || got.PeerMSS != 1300 || !got.WScaleOK || got.PeerWScale != 9 ||
		!got.SACKOK || !got.TSOK || got.TSRecent != 778 {
		t.Errorf("rebuilt request %+v, want ISS %v, IRS 1000, MSS 1300, wscale 9, SACK, timestamps", got, r.ISS)
	}
	if int32(tsVal-r.SYNACKTSVal(ckT0)) > 0 {
		t.Errorf("cookie TSval %d is ahead of the clock %d", tsVal, r.SYNACKTSVal(ckT0))
	}
}

// Without timestamps there is nowhere to keep window scale and SACK.
func TestCookieWithoutTimestampsDropsOptions(t *testing.T) {
	j := NewCookieJar([32]byte{2})
	cfg := DefaultConfig()
	r, _ := j.Make(ckT0, &cfg, ckLocal, ckRemote, cookieSYN(false))
	if r.WScaleOK || r.SACKOK {
		t.Errorf("SYN-ACK of a cookie without timestamps offers wscale %v SACK %v, want neither", r.WScaleOK, r.SACKOK)
	}
	got, ok := j.Check(ckT0, &cfg, ckLocal, ckRemote, cookieACK(&r, 0, false))
	if !ok || got.WScaleOK || got.SACKOK || got.TSOK || got.PeerMSS != 1300 {
		t.Errorf("Check = %+v, %v; want valid, MSS 1300, no options", got, ok)
	}
}

func TestCookieRejections(t *testing.T) {
	j := NewCookieJar([32]byte{3})
	cfg := DefaultConfig()
	r, tsVal := j.Make(ckT0, &cfg, ckLocal, ckRemote, cookieSYN(true))
	ack := cookieACK(&r, tsVal, true)
	cases := []struct {
		why           string
		now           clock.Instant
		local, remote netip.AddrPort
		mutate        func(*Segment)
	}{
		{"two minutes later the cookie is stale", ckT0.Add(2*time.Minute + time.Second), ckLocal, ckRemote, nil},
		{"another client port", ckT0, ckLocal, netip.MustParseAddrPort("10.0.0.1:40001"), nil},
		{"another sequence number", ckT0, ckLocal, ckRemote, func(s *Segment) { s.Seq += 1 << 20 }},
		{"another cookie", ckT0, ckLocal, ckRemote, func(s *Segment) { s.Ack += 1 << 20 }},
		{"an RST is no answer", ckT0, ckLocal, ckRemote, func(s *Segment) { s.Flags |= wire.RST }},
	}
	for _, c := range cases {
		a := *ack
		if c.mutate != nil {
			c.mutate(&a)
		}
		if _, ok := j.Check(c.now, &cfg, c.local, c.remote, &a); ok {
			t.Errorf("%s: accepted", c.why)
		}
	}
}

// Check reads network input: it must never panic, and anything it
// accepts must be a request NewFromRequest can turn into a Conn.
func FuzzCookieCheck(f *testing.F) {
	f.Add(uint32(1001), uint32(5), uint16(0x10), true, uint32(12345), int64(0))
	f.Add(uint32(0), uint32(0), uint16(0x04), false, uint32(0), int64(60e9))
	j := NewCookieJar([32]byte{4})
	cfg := DefaultConfig()
	f.Fuzz(func(t *testing.T, seq, ack uint32, flags uint16, ts bool, tsecr uint32, dt int64) {
		a := &Segment{Seq: seqnum.V32(seq), Ack: seqnum.V32(ack), Flags: wire.TCPFlags(flags)}
		a.Options.HasTimestamp, a.Options.TSEcr = ts, tsecr
		r, ok := j.Check(ckT0.Add(time.Duration(dt)), &cfg, ckLocal, ckRemote, a)
		if ok {
			c := NewFromRequest(ckT0, &cfg, &r)
			c.HandleSegment(ckT0, a)
			if r.PeerWScale > 14 {
				t.Fatalf("accepted window scale %d", r.PeerWScale)
			}
		}
	})
}

// TSval offsets are one per pair of addresses (RFC 7323 §5.4, Linux's
// secure_tcp_ts_off): the ports do not change them, the addresses do, and
// a listener's passive connections use the host's generator.
func TestISNGenerator_TSOffsetPerAddressPair(t *testing.T) {
	g := NewISNGenerator([32]byte{7})
	a, b, c := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.3")
	if g.TSOffset(a, b) == g.TSOffset(a, c) || g.TSOffset(a, b) == g.TSOffset(b, a) {
		t.Errorf("offsets do not depend on the addresses")
	}
	if NewISNGenerator([32]byte{8}).TSOffset(a, b) == g.TSOffset(a, b) {
		t.Errorf("offsets do not depend on the key")
	}
	j := CookieJar{key: [32]byte{1}, ts: g}
	for _, p := range []uint16{80, 443} {
		if got := j.TSOffset(netip.AddrPortFrom(a, p), netip.AddrPortFrom(b, 40000+p)); got != g.TSOffset(a, b) {
			t.Errorf("port %d: passive offset %#x, want the pair's %#x", p, got, g.TSOffset(a, b))
		}
	}
}
