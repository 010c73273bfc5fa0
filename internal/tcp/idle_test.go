package tcp

import (
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/tcp/cc"
)

// idlePair is two established Conns with instant delivery at a time the
// test moves.
type idlePair struct {
	a, b *Conn
	now  clock.Instant
	buf  []byte
}

func newIdlePair(t *testing.T) *idlePair {
	cfg := DefaultConfig()
	cfg.NoDelay = true
	p := &idlePair{now: startTime, buf: make([]byte, 256<<10)}
	p.a = NewActive(p.now, &cfg, localISS)
	var s Segment
	p.a.NextSegment(p.now, &s)
	p.b = NewPassive(p.now, &cfg, remoteISS, &s)
	p.shuttle()
	if p.a.State() != Established {
		t.Fatalf("pair not established: %v", p.a.State())
	}
	return p
}

// shuttle moves segments both ways until both are quiet; b reads all.
func (p *idlePair) shuttle() {
	var s Segment
	for moved := true; moved; {
		moved = false
		for p.a.NextSegment(p.now, &s) {
			p.b.HandleSegment(p.now, &s)
			moved = true
		}
		for n, _ := p.b.Read(p.now, p.buf); n > 0; n, _ = p.b.Read(p.now, p.buf) {
		}
		for p.b.NextSegment(p.now, &s) {
			p.a.HandleSegment(p.now, &s)
			moved = true
		}
	}
}

// burst writes n bytes at a and returns how many data segments a sends
// before any ACK comes back.
func (p *idlePair) burst(n int) int {
	p.a.Write(p.now, p.buf[:n])
	segs := 0
	var s Segment
	for p.a.NextSegment(p.now, &s) {
		if len(s.Payload) > 0 {
			segs++
		}
		p.b.HandleSegment(p.now, &s)
	}
	return segs
}

// RFC 5681 §4.1: a sender idle for longer than the RTO starts again from
// the restart window, min(IW, cwnd); after a shorter pause it keeps cwnd.
func TestEstablished_RestartAfterIdle(t *testing.T) {
	for _, tt := range []struct {
		idle    time.Duration
		restart bool
	}{{10 * time.Millisecond, false}, {10 * time.Second, true}} {
		p := newIdlePair(t)
		for i := 0; i < 8; i++ { // grow cwnd well beyond the initial window
			p.a.Write(p.now, p.buf[:128<<10])
			p.shuttle()
		}
		p.now = p.now.Add(50 * time.Millisecond) // the delayed ACK of an odd tail
		p.b.HandleTimer(p.now)
		p.shuttle()
		iw := cc.InitialWindow(p.a.SendMSS())
		if !p.a.AllAcked() || p.a.cc.CWnd() <= 2*iw {
			t.Fatalf("setup: all acked %v, cwnd %d, want > %d", p.a.AllAcked(), p.a.cc.CWnd(), 2*iw)
		}
		if tt.idle <= p.a.RTO() == tt.restart {
			t.Fatalf("setup: idle %v against RTO %v", tt.idle, p.a.RTO())
		}
		p.now = p.now.Add(tt.idle)
		p.a.HandleTimer(p.now)
		segs := p.burst(200 << 10)
		wantIW := iw / p.a.SendMSS()
		if tt.restart && segs != wantIW {
			t.Errorf("after %v idle: sent %d segments at once, want the restart window of %d", tt.idle, segs, wantIW)
		}
		if !tt.restart && segs <= 2*wantIW {
			t.Errorf("after %v idle: sent %d segments at once, want cwnd kept (> %d)", tt.idle, segs, 2*wantIW)
		}
	}
}
