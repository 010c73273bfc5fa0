package tcp

import (
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full it
// answers a SYN with a SYN-ACK whose initial sequence number encodes what
// it would have kept, keeps nothing, and rebuilds the half-open connection
// from the ACK that returns ISS+1. The layout is Linux's:
//
//	ISS = H1(tuple) + IRS + (count << 24) + ((H2(tuple, count) + mssIndex) mod 2^24)
//
// where count is a minute counter and H1, H2 are keyed hashes. A cookie is
// valid for the minute it was made and the next one. The MSS is one of four
// values per address family. When the SYN carried timestamps, the low six
// bits of the SYN-ACK's TSval carry the peer's window scale (4 bits, 15
// meaning none), SACK-permitted (1 bit) and ECN (1 bit, always 0 here: no
// ECN), and come back in the ACK's TSecr; without timestamps a cookie
// connection runs without window scaling and SACK, as on Linux.
const (
	cookieBits   = 24
	cookieMask   = 1<<cookieBits - 1
	cookieMaxAge = 2 // minutes a cookie stays valid (Linux MAX_SYNCOOKIE_AGE)
	cookiePeriod = 60 * time.Second
	// tsOptBits is the part of the TSval that carries the options.
	tsOptBits  = 6
	tsOptMask  = 1<<tsOptBits - 1
	tsNoWScale = 0xf
	tsSACKBit  = 1 << 4
)

// The MSS values a cookie can encode (Linux's tables): the largest not
// above the peer's MSS is chosen.
var (
	cookieMSS4 = [4]uint16{536, 1300, 1440, 1460}
	cookieMSS6 = [4]uint16{1220, 1420, 1440, 8940}
)

// CookieJar makes and checks SYN cookies with one secret key. It holds no
// state per connection; one per listener (or host) is enough.
type CookieJar struct {
	key [32]byte
	ts  *ISNGenerator // the TSval offsets
}

// NewCookieJar returns a jar keyed with secret (random, drawn by the host).
func NewCookieJar(secret [32]byte) *CookieJar {
	return &CookieJar{key: secret, ts: NewISNGenerator(secret)}
}

// hash is the keyed hash of a 4-tuple, a tag (1: H1, 2: H2, 3: the TSval
// offset) and the minute count. It does not allocate.
func (j *CookieJar) hash(tag byte, local, remote netip.AddrPort, count uint32) uint32 {
	var buf [32 + 1 + 2*addrPortLen + 4]byte
	n := copy(buf[:], j.key[:])
	buf[n] = tag
	n++
	n += putAddrPort(buf[n:], local)
	n += putAddrPort(buf[n:], remote)
	binary.BigEndian.PutUint32(buf[n:], count)
	n += 4
	sum := sha256.Sum256(buf[:n])
	return binary.BigEndian.Uint32(sum[:4])
}

// TSOffset is the TSval offset (RFC 7323 §5.4) of a passive connection on
// this 4-tuple: the host's offset for the pair of addresses
// (ISNGenerator.TSOffset), so that a connection rebuilt from a cookie keeps
// the clock its SYN-ACK used.
func (j *CookieJar) TSOffset(local, remote netip.AddrPort) uint32 {
	return j.ts.TSOffset(local.Addr(), remote.Addr())
}

func cookieCount(now clock.Instant) uint32 { return uint32(int64(now) / int64(cookiePeriod)) }

func cookieTable(local netip.AddrPort) *[4]uint16 {
	if local.Addr().Is4() {
		return &cookieMSS4
	}
	return &cookieMSS6
}

// Make answers syn with a cookie: it returns the request the SYN-ACK is
// built from (FillSYNACK) and the TSval to put in it. Nothing needs to be
// kept. cfg's options apply as for NewRequest.
func (j *CookieJar) Make(now clock.Instant, cfg *Config, local, remote netip.AddrPort, syn *Segment) (Request, uint32) {
	r := NewRequest(cfg, 0, j.TSOffset(local, remote), syn)
	tab := cookieTable(local)
	peer := uint16(PeerDefaultMSS4)
	if !local.Addr().Is4() {
		peer = PeerDefaultMSS6
	}
	if r.PeerMSS != 0 {
		peer = r.PeerMSS
	}
	idx := 0
	for i := len(tab) - 1; i > 0; i-- {
		if tab[i] <= peer {
			idx = i
			break
		}
	}
	count := cookieCount(now)
	iss := j.hash(1, local, remote, 0) + uint32(r.IRS) + count<<cookieBits +
		(j.hash(2, local, remote, count)+uint32(idx))&cookieMask
	r.ISS = seqnum.V32(iss)
	r.PeerMSS = tab[idx]
	r.Retransmitted = true // stateless: no timing of the handshake
	if !r.TSOK {
		// Nowhere to keep them: the connection runs without.
		r.WScaleOK, r.SACKOK = false, false
		return r, 0
	}
	bits := uint32(tsNoWScale)
	if r.WScaleOK {
		bits = uint32(min(r.PeerWScale, 14))
	}
	if r.SACKOK {
		bits |= tsSACKBit
	}
	ts := r.SYNACKTSVal(now)
	v := ts&^tsOptMask | bits
	if int32(v-ts) > 0 { // never ahead of our clock
		v -= tsOptMask + 1
	}
	return r, v
}

// Check validates an ACK that matched no connection and no half-open
// request as the answer to one of our cookies (RFC 4987 §3.6): SEG.ACK-1
// must be a cookie made for this 4-tuple and SEG.SEQ-1, in this minute or
// the last. It returns the rebuilt request for NewFromRequest.
func (j *CookieJar) Check(now clock.Instant, cfg *Config, local, remote netip.AddrPort, ack *Segment) (Request, bool) {
	if ack.Flags&(wire.SYN|wire.RST|wire.ACK) != wire.ACK {
		return Request{}, false
	}
	irs := ack.Seq - 1
	cookie := uint32(ack.Ack) - 1
	v := cookie - j.hash(1, local, remote, 0) - uint32(irs)
	count := cookieCount(now)
	diff := (count - v>>cookieBits) & (1<<(32-cookieBits) - 1)
	if diff >= cookieMaxAge {
		return Request{}, false
	}
	count -= diff
	idx := (v - j.hash(2, local, remote, count)) & cookieMask
	tab := cookieTable(local)
	if idx >= uint32(len(tab)) {
		return Request{}, false
	}
	r := Request{
		ISS: seqnum.V32(cookie), IRS: irs, TSOffset: j.TSOffset(local, remote),
		PeerMSS: tab[idx], Retransmitted: true,
	}
	o := &ack.Options
	if o.HasTimestamp && !cfg.NoTimestamps {
		if int32(o.TSEcr-r.SYNACKTSVal(now)) > 0 {
			return Request{}, false // an echo of a TSval we never sent
		}
		bits := o.TSEcr & tsOptMask
		if ws := uint8(bits & tsNoWScale); ws != tsNoWScale {
			if ws > 14 || cfg.NoWindowScaling {
				return Request{}, false
			}
			r.WScaleOK, r.PeerWScale = true, ws
		}
		r.SACKOK = bits&tsSACKBit != 0 && !cfg.NoSACK
		r.TSOK, r.TSRecent = true, o.TSVal
	}
	return r, true
}
