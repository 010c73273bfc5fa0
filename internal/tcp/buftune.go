package tcp

import (
	"sync"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// Buffer tuning: both buffers grow to what the path needs, so that a
// fixed size does not cap a long fat path, and an idle or short
// connection keeps the small default.
//
// The receive buffer follows Linux's dynamic right-sizing
// (tcp_rcv_space_adjust, tcp_rcvbuf_grow): the receiver estimates the
// round-trip time by itself, counts the bytes the application read in
// each round trip, and grows the buffer, and so the window it
// advertises, to twice the most it read in one (a sender in slow start
// doubles its rate each round trip), plus 16 segments of slack, up to
// MaxRecvBuffer. It never
// shrinks the buffer, as Linux; the memory goes back whenever the queue
// is empty (ring.release), and with it the connection's cost.
//
// The send buffer follows Linux's tcp_sndbuf_expand: when the
// application filled it while less than the window was in flight, it
// grows to twice what may be in flight, up to MaxSendBuffer
// (expandSendBuffer).
//
// A buffer the application sized (SO_RCVBUF, SO_SNDBUF: RecvBufferSet,
// SendBufferSet, SetRecvBuffer, SetSendBuffer) is left as set, as on
// Linux.

// rcvTuning is the receiver's state for right-sizing. It lives apart
// from the Conn, taken when the application has read a first quarter of
// its buffer (tuneAfterRead), so that a connection that never moves bulk
// data carries none of it.
type rcvTuning struct {
	buf int32 // the receive buffer now (RecvBuffer, grown)
	// space is the most the application read in one measurement period:
	// a period starts at spaceSeq (the first byte not yet read) and
	// spaceAt, and ends at the first read at least an RTT later.
	space    int32
	spaceSeq seqnum.V32
	spaceAt  clock.Instant
	// rtt is the receiver's RTT estimate, zero while there is none: the
	// least of the handshake's sample and two kinds of sample taken
	// since, the timestamp echoed in data (RFC 7323 §4.1, as the
	// sender's) and the time the peer took to send one window, from
	// winAt until RCV.NXT reaches winSeq (never less than an RTT).
	rtt     time.Duration
	lastEcr uint32 // the echo of the last timestamp sample: one per echo
	winSeq  seqnum.V32
	winAt   clock.Instant
}

// rcvTunings holds the tuning state of connections that ended.
var rcvTunings sync.Pool

// tsTick is the period of our TSval clock (tsClock).
const tsTick = time.Millisecond

// initRcvSpace is Linux's first measure of what was read per RTT: its
// initial congestion window (TCP_INIT_CWND) of full segments.
const initRcvSpace = 10

// rcvBuf is the receive buffer: the window advertised never reaches past
// the first unread byte plus rcvBuf.
func (c *Conn) rcvBuf() int {
	if c.rt != nil {
		return int(c.rt.buf)
	}
	return c.cfg.RecvBuffer
}

// tuneRcvBuf reports whether the receive buffer is the tuning's to size.
func (c *Config) tuneRcvBuf() bool { return !c.RecvBufferSet && !c.recvBufferFixed }

// tuneAfterRead runs after the application read from the queue: at the
// end of a measurement period, the buffer grows to twice what was read
// in it, when that is more than in any period before.
func (c *Conn) tuneAfterRead(now clock.Instant) {
	readSeq := c.rcvNxt.Add(-seqnum.Size32(c.rcv.len()))
	rt := c.rt
	if rt == nil {
		if !c.cfg.tuneRcvBuf() || !c.state.synchronized() || c.state == TimeWait ||
			int(readSeq.Sub(c.irs.Add(1))) <= c.cfg.RecvBuffer/4 {
			return
		}
		rt = c.startTuning(now, readSeq)
	}
	elapsed := now.Sub(rt.spaceAt)
	if rt.rtt == 0 || elapsed < rt.rtt {
		return
	}
	copied := readSeq.Sub(rt.spaceSeq)
	if elapsed > 2*rt.rtt {
		// The application was away for rounds and read them all at once:
		// what counts is two rounds' worth at that rate, not the lot
		// (Linux counts the lot; a reader goroutine behind a long run
		// queue then grew its buffer, took more each time it ran, and
		// grew again: one flow of 128 ended with 6 MiB and three times
		// the others' share, issue 15). Two rounds, so that the measure
		// does not jump where the scaling starts.
		copied = int32(int64(copied) * int64(2*rt.rtt) / int64(elapsed))
	}
	if int32(copied) > rt.space {
		rt.space = int32(copied)
		c.growRcvBuf(2*int(copied) + 16*c.cfg.MSS)
	}
	rt.spaceSeq, rt.spaceAt = readSeq, now
}

// tuneOnOutOfOrder grows the buffer when data was kept out of order, by
// the bytes held beyond RCV.NXT, so that the window's right edge keeps
// moving while the reader waits for a hole to fill: a sender in recovery
// can then send new data as its congestion control allows instead of
// stopping at the edge, and ends its recovery with a flight rather than a
// burst into an empty pipe (the burst that, on bench's bulk-rtt-10ms
// path, overflowed the queue and cut the window a second time). Linux
// does the same since 6.16 (tcp_data_queue_ofo calls tcp_rcvbuf_grow),
// adding how far the out-of-order data reaches; here what it holds counts
// instead, as Linux's window grows only with the memory its segments
// take (tcp_grow_window): a peer that sends single bytes at the window's
// edge must not open the window, and the memory behind it, by a whole
// window each time (it took a buffer from 256 KiB to 6 MiB in 116 such
// bytes). Not for a connection the application closed or shut for
// reading: nobody will read what the window would let in (Linux skips
// orphans likewise).
func (c *Conn) tuneOnOutOfOrder() {
	if c.appClosed || c.readClosed {
		return
	}
	c.growRcvBuf(2*int(c.rt.space) + 16*c.cfg.MSS + c.ooo.held())
}

// startTuning takes the tuning state for a connection that is moving
// data; the first period starts now.
func (c *Conn) startTuning(now clock.Instant, readSeq seqnum.V32) *rcvTuning {
	rt, _ := rcvTunings.Get().(*rcvTuning)
	if rt == nil {
		rt = new(rcvTuning)
	}
	*rt = rcvTuning{buf: int32(c.cfg.RecvBuffer), space: int32(initRcvSpace * c.cfg.MSS),
		spaceSeq: readSeq, spaceAt: now}
	if c.rto.hasSample {
		rt.rtt = c.rto.srtt
	}
	c.rt = rt
	c.startWindowSample(now)
	return rt
}

// releaseTuning gives the tuning state back; the buffer returns to the
// Config's RecvBuffer (only ever used again for the window of ACKs that
// cannot take back what was advertised, windowField).
func (c *Conn) releaseTuning() {
	if c.rt == nil {
		return
	}
	rcvTunings.Put(c.rt)
	c.rt = nil
}

// growRcvBuf raises the receive buffer to wnd bytes of window, bounded by
// MaxRecvBuffer and by what the window scale can advertise; the ring's
// logical size follows, its memory only as data comes (ring.reserve).
func (c *Conn) growRcvBuf(wnd int) {
	rt := c.rt
	wnd = min(wnd, c.cfg.MaxRecvBuffer, wire.TCPMaxWindow<<c.rcvShift)
	if wnd <= int(rt.buf) {
		return
	}
	rt.buf = int32(wnd)
	if size := int32(wnd + 1<<c.rcvShift); size > c.rcv.size {
		c.rcv.size = size
	}
}

// tuneOnData takes the receiver's RTT samples from in-order data s.
func (c *Conn) tuneOnData(now clock.Instant, s *Segment) {
	rt := c.rt
	if ecr := s.Options.TSEcr; c.tsOK && s.Options.HasTimestamp && ecr != 0 && ecr != rt.lastEcr &&
		len(s.Payload) >= int(c.rcvMSS) {
		// The first segment to echo a TSval is the one the ACK that
		// carried it released: the later ones waited at the sender. With
		// TSvals in ticks, a sample of r ticks says only that the RTT is
		// less than r+1: the estimate falls to that, never rises. It is
		// the path's RTT without the queue the flow itself builds (Linux
		// smooths its samples instead, and so sizes for the queue too):
		// twice the data of such an RTT already fills the path and a
		// queue as large, and a flow on an in-memory path, whose RTT is a
		// fraction of a tick, keeps its buffer however long the
		// scheduler makes it wait.
		rt.lastEcr = ecr
		if r := c.tsRTT(now, ecr) + tsTick; rt.rtt == 0 || r < rt.rtt {
			rt.rtt = r
		}
	}
	if !rt.winSeq.LessThanEq(c.rcvNxt) {
		return
	}
	if r := now.Sub(rt.winAt); r > 0 && (rt.rtt == 0 || r < rt.rtt) {
		rt.rtt = r
	}
	c.startWindowSample(now)
}

// startWindowSample starts timing how long the peer takes to send the
// window open now.
func (c *Conn) startWindowSample(now clock.Instant) {
	c.rt.winSeq = c.rcvNxt.Add(max(c.rcvWnd(), seqnum.Size32(c.rcvMSS), 1))
	c.rt.winAt = now
}

// expandSendBuffer grows the send buffer when an ACK found it full (the
// application waits for room) while the congestion window had room for
// more than is in flight: the buffer, not the network, held the sender
// back. It grows to twice what the sender may have in flight, the
// congestion window or the peer's window if smaller (Linux's
// tcp_sndbuf_expand counts the congestion window alone, and so grows the
// buffers of flows the receiver holds back, on in-memory paths all of
// them), up to MaxSendBuffer.
func (c *Conn) expandSendBuffer(flight int) {
	wnd := min(c.cc.CWnd(), int(c.maxSndWnd))
	if c.cfg.SendBufferSet || flight >= wnd {
		return
	}
	if size := min(2*wnd, c.cfg.MaxSendBuffer); size > c.snd.cap() {
		c.snd.size = int32(size)
	}
}

// oooLimit is how many out-of-order ranges the receiver keeps: a tuned
// buffer keeps one per four segments it holds, so that a window that
// overshot a drop-tail queue, which loses every other segment over a
// stretch, is kept whole rather than dropped beyond its first holes and
// sent again (Linux keeps whatever its buffer holds).
func (c *Conn) oooLimit() int {
	if c.rt == nil {
		return maxOOORanges
	}
	return int(c.rt.buf) / (4 * c.cfg.MSS)
}
