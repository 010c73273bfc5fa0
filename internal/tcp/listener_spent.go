package tcp

import (
	"hash/maphash"

	"github.com/teardown-lab/teardown/clock"
)

// Spent cookies. A cookie is checked against the 4-tuple and the two
// sequence numbers of the ACK that returns it, minus its initial ones
// (syncookie.go). When a connection made from a cookie has carried as
// many bytes each way (every echo), the last ACK of its teardown returns
// the same value: the peer in TIME-WAIT that re-acknowledges a
// retransmitted FIN after our side has closed sends an ACK that passes
// the check again, and the listener would make an ESTABLISHED connection
// the peer does not have, for an application to accept and wait on for
// ever. Linux does (measured with 6.18).
//
// So a listener remembers the 4-tuples whose cookie made a connection,
// for as long as a cookie stays valid after it is used (cookieWindow:
// a cookie made in one minute is valid to the end of the next), and
// answers any ACK on them that reaches it with RST, before any cookie
// check: the connection's own ACKs never reach the listener while it
// exists, so what does is stale. A SYN on the 4-tuple starts a new
// incarnation and forgets it.
//
// Memory is bounded: at most spentMax tuples, 16 bytes each in a ring in
// the order they were spent plus an index, allocated at the first cookie
// that makes a connection. When more cookie connections are made within
// the window, the oldest are forgotten early (counted in
// ListenStats.SpentCookiesEvicted): the residual risk (docs/security.md).

// spentMax bounds the tuples remembered: 8192 cookie connections in two
// minutes, about 68 a second, well above what a backlog drained by one
// application makes while flooded.
const spentMax = 8192

type spentEntry struct {
	key uint64
	at  clock.Instant
}

// spentCookies is a FIFO of the tuples whose cookie was used, by time, with
// an index from a keyed hash of the tuple to its place in the ring. A
// forgotten tuple leaves its ring entry behind, ignored when it comes off.
type spentCookies struct {
	seed    maphash.Seed
	ring    []spentEntry
	head, n int
	index   map[uint64]int32
	evicted uint64
}

func (s *spentCookies) key(t Tuple) uint64 {
	var buf [2 * addrPortLen]byte
	n := putAddrPort(buf[:], t.Local)
	n += putAddrPort(buf[n:], t.Remote)
	return maphash.Bytes(s.seed, buf[:n])
}

// expire drops the entries older than the window.
func (s *spentCookies) expire(now clock.Instant) {
	for s.n > 0 && now.Sub(s.ring[s.head].at) >= cookieWindow {
		s.pop()
	}
}

func (s *spentCookies) pop() {
	e := s.ring[s.head]
	if i, ok := s.index[e.key]; ok && int(i) == s.head {
		delete(s.index, e.key)
	}
	s.head = (s.head + 1) % len(s.ring)
	s.n--
}

// add remembers t, whose cookie made a connection at now.
func (s *spentCookies) add(now clock.Instant, t Tuple) {
	if s.ring == nil {
		s.seed = maphash.MakeSeed()
		s.ring = make([]spentEntry, spentMax)
		s.index = make(map[uint64]int32)
	}
	s.expire(now)
	if s.n == len(s.ring) {
		if _, live := s.index[s.ring[s.head].key]; live {
			s.evicted++
		}
		s.pop()
	}
	k := s.key(t)
	i := (s.head + s.n) % len(s.ring)
	s.ring[i] = spentEntry{k, now}
	s.index[k] = int32(i)
	s.n++
}

// has reports whether t's cookie made a connection within the window.
func (s *spentCookies) has(now clock.Instant, t Tuple) bool {
	if s.n == 0 {
		return false
	}
	s.expire(now)
	_, ok := s.index[s.key(t)]
	return ok
}

// forget drops t: a SYN began a new incarnation of the 4-tuple.
func (s *spentCookies) forget(t Tuple) {
	if len(s.index) > 0 {
		delete(s.index, s.key(t))
	}
}
