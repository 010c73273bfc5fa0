package analyze

import (
	"regexp"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// This file models what Zeek writes in conn.log for a TCP connection: the
// per-endpoint state machine its conn_state is computed from, and the
// history letters. Where the definitions came from:
//
//   - conn_state and history: the doc comments and the conn_state function
//     of Zeek's scripts/base/protocols/conn/main.zeek (github.com/zeek/zeek,
//     the Conn::Info record's conn_state and history fields);
//   - the endpoint states (INACTIVE, SYN_SENT, SYN_ACK_SENT, PARTIAL,
//     ESTABLISHED, CLOSED, RESET) and their transitions: Zeek's TCP
//     analyzer (UpdateInactiveState, UpdateSYN_SentState,
//     UpdateEstablishedState, UpdateClosedState, update_history,
//     update_window, update_last_seq in src/analyzer/protocol/tcp/TCP.cc).
//
// The code is ours, written from those descriptions. What we do not model
// (docs/analyze.md lists it): content gaps ('G'), Zeek's port heuristics
// for who is the originator of a connection seen mid-stream (we use our
// own role guess and mark a flip with '^'), and bad checksums: we behave
// like `zeek -C` (checksums ignored), so 'C' never appears.

// zeekState is a Zeek TCP endpoint state.
type zeekState uint8

const (
	zInactive zeekState = iota
	zSynSent
	zSynAckSent
	zPartial
	zEstablished
	zClosed
	zReset
)

// zeekEnd is one endpoint as Zeek's TCP analyzer tracks it.
type zeekEnd struct {
	state, prev zeekState
	started     bool // sequence numbers initialised
	lastSeq     seqnum.V32
	seen        uint16 // history letters already recorded once (by bit)
	lastSYN     seqnum.V32
	lastFIN     seqnum.V32
	lastRST     seqnum.V32
	haveSYN     bool
	haveFIN     bool
	haveRST     bool
	rxmit, zw   scaled
}

func (e *zeekEnd) set(s zeekState) { e.prev, e.state = e.state, s }

// scaled counts an event whose history letter is written at the 1st, 10th,
// 100th ... occurrence (Zeek's "logarithmic fashion").
type scaled struct{ n, next uint64 }

func (s *scaled) hit() bool {
	if s.next == 0 {
		s.next = 1
	}
	s.n++
	if s.n == s.next {
		s.next *= 10
		return true
	}
	return false
}

// history bits, one per letter recorded at most once per direction.
const (
	histA uint16 = 1 << iota
	histD
	histI
	histQ
	histS
	histH
	histF
	histR
)

// zeekConn is Zeek's view of one TCP connection; end[i] is our side i.
type zeekConn struct {
	end     [2]zeekEnd
	orig    int // our side index of Zeek's originator
	history []byte
}

func newZeekConn(orig, firstSender int) *zeekConn {
	z := &zeekConn{orig: orig}
	if firstSender != orig {
		z.history = append(z.history, '^')
	}
	return z
}

// letter records a history letter for side d: upper case for the
// originator, lower case for the responder.
func (z *zeekConn) letter(d int, c byte) {
	if d != z.orig {
		c += 'a' - 'A'
	}
	z.history = append(z.history, c)
}

// once records c for side d unless its bit was already recorded; it
// reports whether the bit had been seen before.
func (z *zeekConn) once(d int, bit uint16, c byte) bool {
	e := &z.end[d]
	if e.seen&bit != 0 {
		return true
	}
	e.seen |= bit
	z.letter(d, c)
	return false
}

// packet runs one segment from side d through history and state machine,
// in the order Zeek's analyzer does: flags letter, zero window,
// retransmission, then the state machine.
func (z *zeekConn) packet(d int, seg wire.TCP) {
	e, peer := &z.end[d], &z.end[1-d]
	f := seg.Flags()
	n := len(seg.Payload())
	seq := seg.Seq()
	segLen := seqnum.Size32(n)
	if f.Has(wire.SYN) {
		segLen++
	}
	if f.Has(wire.FIN) {
		segLen++
	}
	if f.Has(wire.RST) {
		segLen -= seqnum.Size32(n) // an RST's payload is not stream data
	}
	end := seq.Add(segLen)
	z.initEnd(e, f, seq, end)
	z.history1(d, f, seq, n)
	if seg.Window() == 0 && !f.Has(wire.RST) && peer.state != zClosed && e.state != zReset && e.zw.hit() {
		z.letter(d, 'W')
	}
	z.lastSeq(d, f, end, n)
	z.transition(d, f, n)
}

// initEnd sets the endpoint's sequence numbers on its first packet (a
// partial connection numbers from the first byte seen), and again on a SYN
// with another sequence number.
func (z *zeekConn) initEnd(e *zeekEnd, f wire.TCPFlags, seq, end seqnum.V32) {
	switch {
	case !e.started:
		e.started = true
		e.lastSeq = end
		if !f.Has(wire.SYN) {
			e.lastSeq = seq
		}
	case f.Has(wire.SYN) && (e.state == zSynSent || e.state == zSynAckSent || e.state == zEstablished || e.state == zPartial):
		e.lastSeq = end
	}
}

// history1 writes the letter of one packet's flags (update_history).
func (z *zeekConn) history1(d int, f wire.TCPFlags, seq seqnum.V32, n int) {
	e := &z.end[d]
	bits := 0
	for _, b := range []wire.TCPFlags{wire.SYN, wire.FIN, wire.RST} {
		if f.Has(b) {
			bits++
		}
	}
	switch {
	case bits > 1 && f.Has(wire.FIN|wire.RST):
		z.once(d, histI, 'I')
	case bits > 1:
		z.once(d, histQ, 'Q')
	case f.Has(wire.SYN):
		c, bit := byte('S'), histS
		if f.Has(wire.ACK) {
			c, bit = 'H', histH
		}
		if z.once(d, bit, c) && (!e.haveSYN || seq != e.lastSYN) {
			z.letter(d, c)
		}
		e.haveSYN, e.lastSYN = true, seq
	case f.Has(wire.FIN):
		at := seq.Add(seqnum.Size32(n)) // a FIN's number is after its data
		if z.once(d, histF, 'F') && (!e.haveFIN || at != e.lastFIN) {
			z.letter(d, 'F')
		}
		e.haveFIN, e.lastFIN = true, at
	case f.Has(wire.RST):
		if z.once(d, histR, 'R') && (!e.haveRST || seq != e.lastRST) {
			z.letter(d, 'R')
		}
		e.haveRST, e.lastRST = true, seq
	case n > 0:
		z.once(d, histD, 'D')
	case f.Has(wire.ACK):
		z.once(d, histA, 'A')
	}
}

// tooLarge is Zeek's bound on a believable sequence jump for SYN and RST.
const tooLarge = 1_048_576

// lastSeq advances the highest sequence number sent and notices
// retransmitted payload (update_last_seq, DidRxmit).
func (z *zeekConn) lastSeq(d int, f wire.TCPFlags, end seqnum.V32, n int) {
	e := &z.end[d]
	delta := end.Sub(e.lastSeq)
	switch {
	case f&(wire.SYN|wire.RST) != 0 && (delta > tooLarge || delta < -tooLarge):
		// an implausible jump: not believed
	case e.state == zReset: // nothing after an RST is believed
	case delta > 0:
		e.lastSeq = end
	case n > 0 && e.rxmit.hit():
		z.letter(d, 'T')
	}
}

// transition is Zeek's endpoint state machine for a packet from side d.
func (z *zeekConn) transition(d int, f wire.TCPFlags, n int) {
	e, peer := &z.end[d], &z.end[1-d]
	isOrig := d == z.orig
	switch e.state {
	case zInactive:
		if f.Has(wire.SYN) {
			if isOrig {
				if f.Has(wire.ACK) {
					e.set(zSynAckSent)
				} else {
					e.set(zSynSent)
				}
			} else {
				if peer.state == zSynSent {
					peer.set(zEstablished)
				}
				e.set(zEstablished)
			}
		}
		if f.Has(wire.FIN) {
			e.set(zClosed)
		}
		if f.Has(wire.RST) {
			e.set(zReset)
		}
		if e.state == zInactive {
			switch {
			case !isOrig && n == 0 && z.end[z.orig].state == zSynSent:
				// an early ACK of the SYN: not a partial connection
			case f.Has(wire.ACK) && peer.state == zEstablished:
				e.set(zEstablished) // the originator's SYN was missed
			default:
				e.set(zPartial)
			}
		}
	case zSynSent, zSynAckSent:
		if f.Has(wire.FIN) {
			e.set(zClosed)
		}
		if f.Has(wire.RST) {
			e.set(zReset)
		}
	case zEstablished, zPartial:
		if f.Has(wire.SYN) && e.state == zPartial && peer.state == zInactive && !f.Has(wire.ACK) {
			e.set(zSynSent)
		}
		if f.Has(wire.FIN) && !f.Has(wire.RST) {
			e.set(zClosed)
			if peer.state == zReset && peer.prev == zClosed {
				peer.set(zClosed) // FIN then RST from the peer: a normal end
			}
		}
		if f.Has(wire.RST) {
			e.set(zReset)
		}
	case zClosed:
		if f.Has(wire.RST) && peer.state != zClosed {
			e.set(zReset)
		}
	}
}

// rstos0 is Zeek's pattern for RSTOS0: the originator's SYN, then its RST,
// with nothing from the originator in between that shows an answer.
var rstos0 = regexp.MustCompile(`^\^?S[^HAFGIQ]*R.*$`)

// connState computes conn_state as main.zeek's conn_state does; origSize
// and respSize are the payload bytes each side sent.
func (z *zeekConn) connState(origSize, respSize int64) string {
	os, rs := z.end[z.orig].state, z.end[1-z.orig].state
	oInactive := os == zInactive || os == zPartial
	rInactive := rs == zInactive || rs == zPartial
	switch {
	case rs == zReset:
		switch {
		case os == zSynSent || os == zSynAckSent || os == zReset && origSize == 0 && respSize == 0:
			return "REJ"
		case oInactive:
			return "RSTRH"
		}
		return "RSTR"
	case os == zReset:
		if rInactive {
			if rstos0.Match(z.history) {
				return "RSTOS0"
			}
			return "OTH"
		}
		return "RSTO"
	case rs == zClosed && os == zClosed:
		return "SF"
	case os == zClosed:
		if rInactive {
			return "SH"
		}
		return "S2"
	case rs == zClosed:
		if oInactive {
			return "SHR"
		}
		return "S3"
	case os == zSynSent && rs == zInactive:
		return "S0"
	case os == zEstablished && rs == zEstablished:
		return "S1"
	}
	return "OTH"
}
