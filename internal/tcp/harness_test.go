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

// Flag shorthands for segment templates.
const (
	SYN = wire.SYN
	ACK = wire.ACK
	FIN = wire.FIN
	RST = wire.RST
	PSH = wire.PSH
)

const (
	localISS  seqnum.V32    = 1000 // our ISS in every harness
	remoteISS seqnum.V32    = 9000 // the peer's
	startTime clock.Instant = 1_700_000_000_000_000_000
)

// seg is a segment template. In an expectation, a zero ack is checked only
// when the flags carry ACK, and window is checked only when nonzero.
type seg struct {
	flags    wire.TCPFlags
	seq, ack seqnum.V32
	window   uint16
	payload  string
}

func (s seg) String() string {
	return fmt.Sprintf("{%v seq=%d ack=%d win=%d len=%d}", s.flags, s.seq, s.ack, s.window, len(s.payload))
}

// harness drives one Conn against a scripted peer.
type harness struct {
	t   *testing.T
	c   *Conn
	now clock.Instant
	cfg Config
	// app is the application's side of the Conn.
	app appDriver
	// states records every state change taken from the Conn
	// (stateTrace), "FROM>TO".
	states []string
}

type appDriver struct{ h *harness }

func (a appDriver) Close()      { a.h.c.Close(a.h.now) }
func (a appDriver) CloseWrite() { a.h.t.Helper(); a.h.must(a.h.c.CloseWrite(a.h.now)) }
func (a appDriver) CloseRead()  { a.h.c.CloseRead(a.h.now) }
func (a appDriver) Abort()      { a.h.c.Abort(a.h.now) }
func (a appDriver) Write(s string) {
	a.h.t.Helper()
	n, err := a.h.c.Write(a.h.now, []byte(s))
	if err != nil || n != len(s) {
		a.h.t.Fatalf("Write(%q) = %d, %v", s, n, err)
	}
}

// Read reads up to n bytes and returns them with the error.
func (a appDriver) Read(n int) (string, error) {
	b := make([]byte, n)
	m, err := a.h.c.Read(a.h.now, b)
	return string(b[:m]), err
}

func (h *harness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

// testConfig is the harness default: no options, so that segments are
// easy to predict; tests of options turn them on.
func testConfig() Config {
	return Config{MSS: 1000, RecvBuffer: 8000, SendBuffer: 16000,
		NoWindowScaling: true, NoSACK: true, NoTimestamps: true, RecordStates: true}
}

// newHarness returns a harness whose Conn has been driven to state through
// a normal exchange. The sent segments of the way there are consumed.
func newHarness(t *testing.T, state State, mods ...func(*Config)) *harness {
	t.Helper()
	return newHarnessPeer(t, state, wire.TCPOptions{}, mods...)
}

// newHarnessPeer is newHarness with a peer whose SYN or SYN-ACK carries
// the options peerOpts (SACK-permitted, say), so that they are negotiated.
func newHarnessPeer(t *testing.T, state State, peerOpts wire.TCPOptions, mods ...func(*Config)) *harness {
	t.Helper()
	cfg := testConfig()
	for _, m := range mods {
		m(&cfg)
	}
	h := &harness{t: t, now: startTime, cfg: cfg}
	h.app = appDriver{h}
	switch state {
	case SynReceived:
		h.c = NewPassive(h.now, &cfg, localISS, &Segment{Seq: remoteISS, Flags: SYN, Window: 8000, Options: peerOpts})
		h.wantSent("SYN-ACK", seg{flags: SYN | ACK, seq: localISS, ack: remoteISS + 1})
		return h
	}
	h.c = NewActive(h.now, &cfg, localISS)
	h.wantSent("SYN", seg{flags: SYN, seq: localISS})
	if state == SynSent {
		return h
	}
	h.recvSeg(&Segment{Seq: remoteISS, Ack: localISS + 1, Flags: SYN | ACK, Window: 8000, Options: peerOpts})
	h.wantSent("ACK of SYN-ACK", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 1})
	switch state {
	case Established:
	case FinWait1, FinWait2, TimeWait:
		h.app.CloseWrite()
		h.wantSent("FIN", seg{flags: FIN | ACK, seq: localISS + 1, ack: remoteISS + 1})
		if state == FinWait1 {
			break
		}
		h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: localISS + 2})
		if state == TimeWait {
			h.recv(seg{flags: FIN | ACK, seq: remoteISS + 1, ack: localISS + 2})
			h.wantSent("ACK of FIN", seg{flags: ACK, seq: localISS + 2, ack: remoteISS + 2})
		}
	case Closing:
		h.app.CloseWrite()
		h.wantSent("FIN", seg{flags: FIN | ACK, seq: localISS + 1, ack: remoteISS + 1})
		h.recv(seg{flags: FIN | ACK, seq: remoteISS + 1, ack: localISS + 1})
		h.wantSent("ACK of FIN", seg{flags: ACK, seq: localISS + 2, ack: remoteISS + 2})
	case CloseWait, LastAck:
		h.recv(seg{flags: FIN | ACK, seq: remoteISS + 1, ack: localISS + 1})
		h.wantSent("ACK of FIN", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 2})
		if state == LastAck {
			h.app.CloseWrite()
			h.wantSent("FIN", seg{flags: FIN | ACK, seq: localISS + 1, ack: remoteISS + 2})
		}
	default:
		t.Fatalf("newHarness: cannot drive to %v", state)
	}
	h.wantState(state)
	h.c.TakeEvents()
	return h
}

// stateTrace takes the Conn's state changes and returns every one so far.
func (h *harness) stateTrace() []string {
	for _, sc := range h.c.TakeStateChanges(nil) {
		h.states = append(h.states, sc.From.String()+">"+sc.To.String())
	}
	return h.states
}

// recv hands the Conn a segment from the peer (window 8000 unless set).
func (h *harness) recv(s seg) {
	h.t.Helper()
	w := s.window
	if w == 0 && s.flags&RST == 0 {
		w = 8000
	}
	h.c.HandleSegment(h.now, &Segment{Seq: s.seq, Ack: s.ack, Flags: s.flags, Window: w, Payload: []byte(s.payload)})
}

// recvSeg hands the Conn a fully specified segment.
func (h *harness) recvSeg(s *Segment) { h.c.HandleSegment(h.now, s) }

// advance moves time forward by d and runs the timers.
func (h *harness) advance(d time.Duration) {
	h.now = h.now.Add(d)
	h.c.HandleTimer(h.now)
}

// advanceToDeadline moves time to the Conn's next deadline and runs it.
func (h *harness) advanceToDeadline() {
	h.t.Helper()
	d := h.c.NextDeadline()
	if d == 0 {
		h.t.Fatalf("advanceToDeadline: no deadline armed (state %v)", h.c.State())
	}
	h.now = d
	h.c.HandleTimer(h.now)
}

// drain returns every segment the Conn has to send now, payloads copied.
func (h *harness) drain() []Segment {
	var out []Segment
	var s Segment
	for h.c.NextSegment(h.now, &s) {
		s.Payload = append([]byte(nil), s.Payload...)
		out = append(out, s)
		if len(out) > 1000 {
			h.t.Fatal("NextSegment never returns false")
		}
	}
	return out
}

// wantSent asserts that exactly these segments are sent now, in order.
func (h *harness) wantSent(reason string, want ...seg) []Segment {
	h.t.Helper()
	got := h.drain()
	if len(got) != len(want) {
		h.t.Fatalf("%s: sent %d segments %v, want %d %v", reason, len(got), fmtSegs(got), len(want), want)
	}
	for i, w := range want {
		g := got[i]
		ok := g.Flags == w.flags && g.Seq == w.seq && string(g.Payload) == w.payload &&
			(w.flags&ACK == 0 || g.Ack == w.ack) && (w.window == 0 || g.Window == w.window)
		if !ok {
			h.t.Fatalf("%s: segment %d = %v, want %v", reason, i, fmtSegs(got[i:i+1]), w)
		}
	}
	return got
}

// wantNothingMore asserts that the Conn has nothing to send.
func (h *harness) wantNothingMore() {
	h.t.Helper()
	if got := h.drain(); len(got) > 0 {
		h.t.Fatalf("sent %v, want nothing", fmtSegs(got))
	}
}

func (h *harness) wantState(s State) {
	h.t.Helper()
	if got := h.c.State(); got != s {
		h.t.Fatalf("state = %v, want %v", got, s)
	}
}

func fmtSegs(ss []Segment) string {
	var b strings.Builder
	for _, s := range ss {
		fmt.Fprintf(&b, "{%v seq=%d ack=%d win=%d len=%d}", s.Flags, s.Seq, s.Ack, s.Window, len(s.Payload))
	}
	return b.String()
}

type seqnumSize = seqnum.V32
