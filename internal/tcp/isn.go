package tcp

import (
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
)

// ISNGenerator chooses initial sequence numbers as RFC 6528 §3 asks:
// ISN = M + F(localip, localport, remoteip, remoteport, secretkey), where M
// is a timer ticking every 4 microseconds and F a keyed hash. Different
// 4-tuples get unrelated sequence spaces; one 4-tuple's ISNs grow with
// time, so a new incarnation starts beyond the old one's sequence numbers.
type ISNGenerator struct {
	key [32]byte
}

// NewISNGenerator returns a generator keyed with secret (RFC 6528 §3: a
// random value chosen at boot; the host draws it from its random source).
func NewISNGenerator(secret [32]byte) *ISNGenerator { return &ISNGenerator{key: secret} }

// ISN returns the initial sequence number for a connection from local to
// remote opened at now. It does not allocate.
func (g *ISNGenerator) ISN(now clock.Instant, local, remote netip.AddrPort) seqnum.V32 {
	var buf [len(g.key) + 2*addrPortLen]byte
	n := copy(buf[:], g.key[:])
	n += putAddrPort(buf[n:], local)
	n += putAddrPort(buf[n:], remote)
	sum := sha256.Sum256(buf[:n])
	f := binary.BigEndian.Uint32(sum[:4])
	m := uint32(int64(now) / int64(4*time.Microsecond)) // RFC 6528 §3, RFC 9293 §3.4.1
	return seqnum.V32(m + f)
}

// TSOffset returns the offset our TSvals carry (RFC 7323 §5.4) on every
// connection between local and remote, whichever ports and whichever side
// opened it: a keyed hash of the two addresses, as Linux's
// secure_tcp_ts_off. One clock per pair of hosts keeps the TSvals a host
// sees from us growing from one connection to the next, so a new SYN on a
// 4-tuple the peer still holds in TIME-WAIT passes its PAWS check (RFC 7323
// §5.5, RFC 6191) while strangers still learn nothing of our uptime.
func (g *ISNGenerator) TSOffset(local, remote netip.Addr) uint32 {
	var buf [len(g.key) + 1 + 2*16]byte
	n := copy(buf[:], g.key[:])
	buf[n] = 't'
	n++
	l, r := local.Unmap().As16(), remote.Unmap().As16()
	n += copy(buf[n:], l[:])
	n += copy(buf[n:], r[:])
	sum := sha256.Sum256(buf[:n])
	return binary.BigEndian.Uint32(sum[:4])
}

// addrPortLen is what putAddrPort writes: an IPv6 (or IPv4-mapped)
// address and a port.
const addrPortLen = 16 + 2

// putAddrPort writes ap into b and returns addrPortLen.
func putAddrPort(b []byte, ap netip.AddrPort) int {
	a := ap.Addr().As16()
	copy(b, a[:])
	binary.BigEndian.PutUint16(b[16:], ap.Port())
	return addrPortLen
}
