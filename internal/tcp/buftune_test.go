package tcp

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// quickBulk says to scale the bulk transfers down (bulkConfig).
func quickBulk() bool { return raceEnabled || testing.Short() }

// bulkRTT10 is bench's bulk-rtt-10ms path: 1 Gbit/s, 10 ms RTT, a queue of
// one bandwidth-delay product (1.25 MB).
const (
	bulkRate = 1e9
	bulkRTT  = 10 * time.Millisecond
	bulkBDP  = bulkRate / 8 * 0.010
)

// bulkConfig is the configuration the bench runs ours with: 1 MiB buffers
// to start from, the rest Linux's defaults. Under the race detector or
// -short the segments are 32,000 bytes: twenty times fewer of them to
// process, the same windows and times (the race detector's cost is the
// 600 MB copied in and out of the buffers, so it runs only the first case
// of each test).
func bulkConfig(mods ...func(*Config)) Config {
	cfg := DefaultConfig()
	cfg.RecvBuffer, cfg.SendBuffer = 1<<20, 1<<20
	if quickBulk() {
		cfg.MSS = 32000
	}
	for _, m := range mods {
		m(&cfg)
	}
	return cfg
}

// checkWindowFits makes p fail the test when B advertises a window its
// buffer could not hold: beyond the first unread byte plus the buffer
// (with the one scale unit of rounding that windowField allows for), plus
// the ring's logical size, or MaxRecvBuffer.
func checkWindowFits(t *testing.T, p *longPath) {
	p.onSend = func(i int, s *Segment) {
		b := p.c[1]
		if i != 1 || s.Flags&wire.SYN != 0 {
			return
		}
		readSeq := s.Ack.Add(-seqnum.Size32(b.rcv.len()))
		wnd := int(advertised(b, s).Sub(readSeq))
		unit := 1 << b.rcvShift
		if wnd > b.rcvBuf()+unit || wnd > b.rcv.cap() || wnd > b.cfg.MaxRecvBuffer+unit {
			t.Fatalf("B advertised %d bytes past the first unread one: buffer %d, ring %d, max %d",
				wnd, b.rcvBuf(), b.rcv.cap(), b.cfg.MaxRecvBuffer)
		}
	}
}

// Over bench's 10 ms path, a flow with tuned buffers fills the bottleneck
// within 5 s, slow start included: the receive window grows past the
// bandwidth-delay product and the send buffer past its 1 MiB start. With
// the same buffers fixed (SO_RCVBUF and SO_SNDBUF), 1 MiB a round trip
// caps it near 0.84 Gbit/s. Slow start overshoots the queue, which drops
// every other segment for a while: the tuned receiver keeps all those
// out-of-order ranges. Virtual time; issue 15's bulk-rtt-10ms.
func TestBufTune_LongPathFillsTheBottleneck(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		tuned bool
	}{
		{"tuned", bulkConfig(), true},
		{"tuned-without-timestamps", bulkConfig(func(c *Config) { c.NoTimestamps = true }), true},
		{"fixed", bulkConfig(func(c *Config) { c.RecvBufferSet, c.SendBufferSet = true, true }), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if quickBulk() && tc.name != "tuned" {
				t.Skip("race detector or -short: the tuned case only")
			}
			p := newLongPath(t, bulkRate, bulkRTT, tc.cfg, tc.cfg)
			checkWindowFits(t, p)
			got := float64(p.runFor(5*time.Second)) * 8 / 5 / bulkRate
			a, b := p.c[0], p.c[1]
			if !tc.tuned {
				if got >= 0.9 || b.rcvBuf() != 1<<20 || a.snd.cap() != 1<<20 {
					t.Errorf("fixed 1 MiB buffers: %.3f of the bottleneck, receive buffer %d, send buffer %d; want below 0.9 and both unchanged",
						got, b.rcvBuf(), a.snd.cap())
				}
				return
			}
			if got < 0.9 {
				t.Errorf("moved %.3f of the bottleneck in 5 s, want at least 0.9 (receive buffer %d, send buffer %d, %d retransmitted)",
					got, b.rcvBuf(), a.snd.cap(), a.Counters().Retransmits)
			}
			if n := b.Counters().Drops[DropOutOfOrderFull]; n != 0 {
				t.Errorf("B dropped %d segments for want of out-of-order ranges", n)
			}
			if b.rcvBuf() <= bulkBDP || a.snd.cap() <= 1<<20 {
				t.Errorf("receive buffer %d, send buffer %d: want both past the BDP (%d)", b.rcvBuf(), a.snd.cap(), int(bulkBDP))
			}
		})
	}
}

// Once a tuned flow ends, its memory goes back: when the sender stops and
// everything was acknowledged and read, both ends hold no buffer memory,
// as an idle connection (the grown sizes stay, as Linux's; they cost
// nothing until data comes); after the close, the tuning state goes too.
func TestBufTune_MemoryShrinksWhenTheFlowEnds(t *testing.T) {
	cfg := bulkConfig()
	p := newLongPath(t, bulkRate, bulkRTT, cfg, cfg)
	p.runFor(time.Second)
	a, b := p.c[0], p.c[1]
	if b.rt == nil || b.rcvBuf() <= 1<<20 || b.BufferMemory() == 0 && a.BufferMemory() == 0 {
		t.Fatalf("after 1 s of bulk: receive buffer %d (tuning %v), memory A %d B %d; want a grown buffer in use",
			b.rcvBuf(), b.rt != nil, a.BufferMemory(), b.BufferMemory())
	}
	p.quiet = true
	p.runUntil(time.Second, func() bool { return a.snd.len() == 0 && b.rcv.len() == 0 })
	if a.BufferMemory() != 0 || b.BufferMemory() != 0 || a.State() != Established {
		t.Errorf("idle after the flow: memory A %d B %d in %v, want none", a.BufferMemory(), b.BufferMemory(), a.State())
	}
	a.Close(p.now)
	p.runUntil(time.Second, func() bool { return b.State() == CloseWait })
	b.Close(p.now)
	p.runUntil(time.Second, func() bool { return b.State() == Closed && a.State() == TimeWait })
	if a.BufferMemory() != 0 || b.BufferMemory() != 0 || a.rt != nil || b.rt != nil {
		t.Errorf("closed: memory A %d B %d, tuning state A %v B %v; want none", a.BufferMemory(), b.BufferMemory(), a.rt != nil, b.rt != nil)
	}
}

// SO_RCVBUF turns the tuning off, as on Linux: a buffer set before the SYN
// (RecvBufferSet) never grows, and one set during a tuned flow stays at
// what was set, the window shrinking to it as the reader frees room
// rather than by taking back what was advertised. SO_SNDBUF likewise
// stops the send buffer's growth.
func TestBufTune_SetBufferTurnsTuningOff(t *testing.T) {
	cfg := bulkConfig()
	p := newLongPath(t, bulkRate, bulkRTT, cfg, cfg)
	checkWindowFits(t, p)
	p.runFor(500 * time.Millisecond)
	a, b := p.c[0], p.c[1]
	if b.rcvBuf() <= 1<<20 || a.snd.cap() <= 1<<20 {
		t.Fatalf("after 0.5 s: receive buffer %d, send buffer %d; want both grown", b.rcvBuf(), a.snd.cap())
	}
	b.SetRecvBuffer(512 << 10)
	a.SetSendBuffer(1 << 20)
	var late int // windows past the new buffer, once 100 ms passed
	set := p.now
	p.onSend = func(i int, s *Segment) {
		if i == 1 && p.now.Sub(set) > 100*time.Millisecond &&
			int(advertised(b, s).Sub(s.Ack.Add(-seqnum.Size32(b.rcv.len())))) > 512<<10+1<<b.rcvShift {
			late++
		}
	}
	p.runUntil(time.Second, func() bool { return p.now.Sub(set) >= 500*time.Millisecond })
	if b.rt != nil || b.rcvBuf() != 512<<10 || late > 0 {
		t.Errorf("after SO_RCVBUF: tuning %v, buffer %d, %d windows past it; want no tuning, 512 KiB, none",
			b.rt != nil, b.rcvBuf(), late)
	}
	if a.snd.cap() != 1<<20 {
		t.Errorf("after SO_SNDBUF: send buffer %d, want 1 MiB", a.snd.cap())
	}
}

// The receiver's RTT estimate only falls: a timestamp echo of several
// ticks (data that waited out a stalled host, or a queue) leaves a finer
// estimate alone, one that shows a shorter RTT lowers it to the sample's
// upper bound (a sample of r ticks means less than r+1), and one of zero
// ticks says nothing the handshake's sample did not. Smoothing such
// samples in, as Linux does, grew two in-process stacks' buffers to 6 MiB
// under a busy scheduler.
func TestBufTune_RTTEstimateOnlyFalls(t *testing.T) {
	now := startTime
	c := &Conn{tsOK: true, rcvMSS: 1000, rt: &rcvTuning{rtt: 50 * time.Microsecond}}
	c.rt.winSeq = c.rcvNxt.Add(1 << 30) // no window sample in this test
	data := func(ecr uint32) {
		c.tuneOnData(now, &Segment{Payload: make([]byte, 1000), Options: wire.TCPOptions{HasTimestamp: true, TSEcr: ecr}})
	}
	ts := c.tsNow(now)
	for _, ago := range []uint32{5, 6, 1, 0} {
		data(ts - ago)
		if c.rt.rtt != 50*time.Microsecond {
			t.Fatalf("after an echo %d ms old: estimate %v, want the handshake's 50µs kept", ago, c.rt.rtt)
		}
	}
	c.rt.rtt = 20 * time.Millisecond
	data(ts - 9)
	if c.rt.rtt != 10*time.Millisecond {
		t.Errorf("estimate 20ms, echo 9 ms old: %v, want 10ms", c.rt.rtt)
	}
	data(ts - 15)
	if c.rt.rtt != 10*time.Millisecond {
		t.Errorf("estimate 10ms, echo 15 ms old: %v, want 10ms kept", c.rt.rtt)
	}
}

// A reader away for many round trips that then reads all that came
// meanwhile grows the buffer by the rate it read at, a round's worth,
// not by the lot: a reader that only runs now and then (a goroutine
// behind a long run queue) would otherwise grow its window each time it
// ran, take more the next time, and grow again. A reader that reads the
// same bytes within a round grows it as Linux does.
func TestBufTune_ReaderAwayForRoundsGrowsByItsRate(t *testing.T) {
	const rtt = 10 * time.Millisecond
	for _, tc := range []struct {
		name  string
		away  time.Duration
		grows bool
	}{{"reads-within-a-round", rtt, true}, {"away-for-ten-rounds", 10 * rtt, false}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Established)
			readSeq := h.c.rcvNxt
			h.c.rt = &rcvTuning{buf: int32(h.cfg.RecvBuffer), space: 1000, spaceSeq: readSeq, spaceAt: h.now, rtt: rtt}
			defer h.c.releaseTuning()
			for i := range 4 {
				h.recv(seg{flags: ACK, seq: readSeq.Add(seqnum.Size32(i * 1000)), ack: localISS + 1, payload: strings.Repeat("r", 1000)})
			}
			h.drain()
			h.advance(tc.away)
			if got, _ := h.app.Read(8000); len(got) != 4000 {
				t.Fatalf("read %d bytes, want 4000", len(got))
			}
			if grown := h.c.rcvBuf() > h.cfg.RecvBuffer; grown != tc.grows {
				t.Fatalf("4000 bytes read after %v (RTT %v): receive buffer %d from %d; want grown %v", tc.away, rtt, h.c.rcvBuf(), h.cfg.RecvBuffer, tc.grows)
			}
		})
	}
}

// Out-of-order data grows a tuned receive buffer by how far it reaches
// past RCV.NXT, as Linux's tcp_data_queue_ofo does: on bench's 10 ms path
// the sender then keeps sending new data while slow start's overshoot is
// recovered, instead of stopping at a window edge held by the hole and
// bursting a whole window into the empty pipe when the hole fills. That
// burst overflowed the queue and cut the window a second time, four round
// trips after the first and below the bandwidth-delay product, so that the
// line idled; now the next reduction is CUBIC's own, tens of round trips
// later, and the window stays above the BDP. Virtual time; issue 15's
// bulk-rtt-10ms.
func TestBufTune_OutOfOrderDataMovesTheWindowEdge(t *testing.T) {
	p := newLongPath(t, bulkRate, bulkRTT, bulkConfig(), bulkConfig())
	checkWindowFits(t, p)
	var cuts []string
	var lastCut clock.Instant
	lastThresh := -1
	p.onSend = func(i int, s *Segment) {
		a, b := p.c[0], p.c[1]
		if i != 0 || b == nil || len(s.Payload) == 0 {
			return
		}
		if th := a.cc.SSThresh(); lastThresh >= 0 && th < lastThresh {
			if lastCut != 0 && p.now.Sub(lastCut) < 20*bulkRTT || th < bulkBDP {
				cuts = append(cuts, fmt.Sprintf("%v after the last, to %d bytes", p.now.Sub(lastCut), th))
			}
			lastCut = p.now
		}
		lastThresh = a.cc.SSThresh()
	}
	got := float64(p.runFor(time.Second)) * 8 / bulkRate
	a := p.c[0]
	if lastCut == 0 {
		t.Fatalf("no window reduction in 1 s (%.3f of the bottleneck): the path no longer overflows its queue, nothing to test", got)
	}
	if len(cuts) > 0 {
		t.Errorf("window reductions within 20 round trips of another or below the BDP: %q (%d retransmitted, %.3f of the bottleneck); want none",
			cuts, a.Counters().Retransmits, got)
	}
}

// Out-of-order data grows a tuned buffer by what it holds, not by how far
// it reaches: a peer that sends single bytes at the window's right edge,
// each answered by a wider window, must not walk the buffer up to
// MaxRecvBuffer (116 such bytes took it from 256 KiB to 6 MiB when the
// reach counted). Bulk data first, so that the tuning is on; then a
// window of data the application leaves one byte of, so that the ring
// keeps its memory and the bytes are kept (oooTooSparse drops them from
// a ring that would have to grow for them).
func TestBufTune_SparseOutOfOrderBytesDoNotOpenTheWindow(t *testing.T) {
	cfg := bulkConfig(func(c *Config) {
		c.MaxRecvBuffer = 64 << 20  // room to grow, so that growth shows
		c.MSS = DefaultConfig().MSS // full-size segments even under -short: 100 ms is cheap
	})
	p := newLongPath(t, bulkRate, bulkRTT, cfg, cfg)
	p.runFor(100 * time.Millisecond)
	p.quiet = true
	a, b := p.c[0], p.c[1]
	p.runUntil(time.Second, func() bool { return a.snd.len() == 0 && b.rcv.len() == 0 })
	if b.rt == nil {
		t.Fatal("no tuning after 100 ms of bulk data")
	}
	// From here on the test is the peer, and B's application reads only
	// when told.
	send := func(seq seqnum.V32, payload []byte) {
		s := Segment{Seq: seq, Ack: b.sndNxt, Flags: wire.ACK, Window: 1000, Payload: payload}
		if b.tsOK {
			s.Options.HasTimestamp, s.Options.TSVal = true, b.tsRecent
		}
		b.HandleSegment(p.now, &s)
		var out Segment
		for b.NextSegment(p.now, &out) {
		}
	}
	chunk := make([]byte, cfg.MSS)
	for b.rcvWnd() >= seqnum.Size32(len(chunk)) {
		send(b.rcvNxt, chunk)
	}
	sink := make([]byte, 64<<10)
	for b.rcv.len() > 1 {
		if _, err := b.Read(p.now, sink[:min(len(sink), b.rcv.len()-1)]); err != nil {
			t.Fatal(err)
		}
	}
	before := b.rcvBuf()
	for range 400 {
		send(b.rcvAdv-1, []byte{1})
	}
	if b.ooo.empty() {
		t.Fatal("the bytes were not kept out of order: nothing tested")
	}
	if got := b.rcvBuf(); got > before+16*cfg.MSS+400 {
		t.Errorf("400 single bytes at the window's edge grew the buffer from %d to %d bytes", before, got)
	}
}
