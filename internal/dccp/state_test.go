package dccp

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/profile"
)

// single is an opened client Conn fed packets by hand; peer is the
// server's view of the sequence numbers.
type single struct {
	t    *testing.T
	c    *Conn
	peer *Conn
}

func newSingle(t *testing.T, b profile.Profile) *single {
	pr := open(t, b, nil)
	return &single{t: t, c: pr.conn[0], peer: pr.conn[1]}
}

// from builds a valid packet from the peer.
func (s *single) from(typ wire.DCCPType, seqOff int64) Packet {
	s.peer.gss = s.peer.gss.Add(1)
	return Packet{Type: typ, X: true, Seq: s.c.GSR().Add(seqOff), Ack: s.c.GSS()}
}

// wantSent asserts exactly these packets (described), then nothing.
func (s *single) wantSent(reason string, want ...string) {
	s.t.Helper()
	var got []string
	var p Packet
	for s.c.NextPacket(t0, &p) {
		got = append(got, describe(&p))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		s.t.Errorf("%s: sent %v, want %v then nothing", reason, got, want)
	}
}

func TestOpen_CloseNotNewerThanGSR(t *testing.T) {
	s := newSingle(t, profile.Linux)
	p := s.from(wire.DCCPClose, 0) // seq == GSR: LSWL is GSR+1 for Close (§8.5 step 6)
	s.c.HandlePacket(t0, &p)
	s.wantSent("an old Close draws a Sync (§7.5.4)", "Sync")
	if s.c.State() != Open {
		t.Errorf("state %v, want OPEN", s.c.State())
	}
}

func TestOpen_SeqOutsideWindow(t *testing.T) {
	s := newSingle(t, profile.Linux)
	// W=100: SWH = GSR + ceil(3W/4) = GSR+75, SWL = GSR+1-floor(W/4) = GSR-24
	for _, c := range []struct {
		off  int64
		sync bool
	}{{75, false}, {76, true}, {-24, false}, {-25, true}} {
		s.c.out.lastSync = 0
		gsr := s.c.GSR()
		p := s.from(wire.DCCPData, c.off)
		s.c.HandlePacket(t0, &p)
		if got := s.c.out.sync; got != c.sync {
			t.Errorf("Data at GSR%+d: Sync %v, want %v", c.off, got, c.sync)
		}
		if c.off == 75 && s.c.GSR() != gsr.Add(75) {
			t.Errorf("valid packet at GSR+75 did not advance GSR")
		}
		s.wantSent("drain", describeAll(s.c)...)
	}
}

// describeAll lists what the Conn would send, for draining.
func describeAll(c *Conn) []string {
	cp := *c
	var out []string
	var p Packet
	for cp.NextPacket(t0, &p) {
		out = append(out, describe(&p))
	}
	return out
}

func TestOpen_SyncRateLimited(t *testing.T) {
	s := newSingle(t, profile.Linux)
	for range 3 {
		p := s.from(wire.DCCPData, 500)
		s.c.HandlePacket(t0, &p)
	}
	s.wantSent("three invalid packets within SyncInterval draw one Sync", "Sync")
	if s.c.Counters().InvalidSeq != 3 {
		t.Errorf("InvalidSeq = %d, want 3", s.c.Counters().InvalidSeq)
	}
}

func TestOpen_SyncAnswered(t *testing.T) {
	s := newSingle(t, profile.Linux)
	p := s.from(wire.DCCPSync, 1)
	s.c.HandlePacket(t0, &p)
	var q Packet
	if !s.c.NextPacket(t0, &q) || q.Type != wire.DCCPSyncAck || q.Ack != p.Seq {
		t.Errorf("got %v ack %d, want SyncAck acknowledging %d (§8.5 step 15)", q.Type, q.Ack, p.Seq)
	}
}

func TestOpen_RequestFromServerIsUnexpected(t *testing.T) {
	s := newSingle(t, profile.Linux)
	p := s.from(wire.DCCPRequest, 1)
	s.c.HandlePacket(t0, &p)
	s.wantSent("a client receiving a Request sends Sync (§8.5 step 7)", "Sync")
}

func TestTimeWait_Reset(t *testing.T) {
	s := newSingle(t, profile.Linux)
	s.c.setState(t0, TimeWait, "test")
	p := s.from(wire.DCCPReset, 1)
	s.c.HandlePacket(t0, &p)
	s.wantSent("TIMEWAIT ignores Resets (§8.5 step 2)")
	p = s.from(wire.DCCPData, 1)
	s.c.HandlePacket(t0, &p)
	s.wantSent("TIMEWAIT answers anything else with Reset(No Connection)", "Reset(No Connection)")
}

func TestOpen_ResetFromPeer(t *testing.T) {
	s := newSingle(t, profile.Linux)
	d := s.from(wire.DCCPData, 1)
	d.Payload = []byte("x")
	s.c.HandlePacket(t0, &d)
	r := s.from(wire.DCCPReset, 1)
	r.ResetCode = wire.DCCPResetAborted
	s.c.HandlePacket(t0, &r)
	if s.c.State() != TimeWait {
		t.Fatalf("state %v, want TIMEWAIT (§8.5 step 9)", s.c.State())
	}
	buf := make([]byte, 4)
	if n, err := s.c.Read(t0, buf); n != 1 || err != nil {
		t.Errorf("linux keeps queued data after a reset: read %d, %v", n, err)
	}
	if _, err := s.c.Read(t0, buf); !errors.Is(err, ErrConnReset) {
		t.Errorf("then %v, want ErrConnReset", err)
	}
}

func TestPassiveClose_ReadWriteClose(t *testing.T) {
	s := newSingle(t, profile.Linux)
	d := s.from(wire.DCCPData, 1)
	d.Payload = []byte("last")
	s.c.HandlePacket(t0, &d)
	p := s.from(wire.DCCPClose, 1)
	s.c.HandlePacket(t0, &p)
	if s.c.State() != PassiveClose {
		t.Fatalf("state %v, want PASSIVE_CLOSE", s.c.State())
	}
	s.wantSent("no Reset before the application closes", describeAll(s.c)...)
	if err := s.c.Write(t0, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("write in PASSIVE_CLOSE: %v, want ErrClosed", err)
	}
	got, err := readAll(s.c, t0)
	if len(got) != 1 || got[0] != "last" || err != io.EOF {
		t.Errorf("read %v, %v; want [last] then io.EOF", got, err)
	}
	s.c.Close(t0)
	s.wantSent("the application's close confirms the Close", "Reset(Closed)")
	if s.c.State() != Closed {
		t.Errorf("state %v, want CLOSED", s.c.State())
	}
}

func TestOpen_WriteLimits(t *testing.T) {
	s := newSingle(t, profile.Linux)
	err := s.c.Write(t0, make([]byte, s.c.MaxPayload()+1))
	if !errors.Is(err, ErrTooBig) || !strings.Contains(err.Error(), "1300") {
		t.Errorf("too large write: %v, want ErrTooBig naming the maximum 1300", err)
	}
	for range 5 {
		if err := s.c.Write(t0, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.c.Write(t0, []byte("x")); !errors.Is(err, ErrQueueFull) || !errors.Is(err, ErrWouldBlock) {
		t.Errorf("sixth write: %v, want ErrQueueFull (5-packet queue)", err)
	}
}

func TestPartOpen_CloseReq(t *testing.T) {
	pr := newPair(t, profile.Linux, 10*time.Millisecond, nil)
	pr.fault = func(from int, p *Packet) (bool, time.Duration, bool) {
		return from == 1 && p.Type == wire.DCCPAck, 0, false // the server's Ack is lost
	}
	pr.run(25 * time.Millisecond)
	c := pr.conn[0]
	if c.State() != PartOpen {
		t.Fatalf("state %v, want PARTOPEN", c.State())
	}
	p := Packet{Type: wire.DCCPCloseReq, X: true, Seq: c.GSR().Add(1), Ack: c.GSS()}
	c.HandlePacket(pr.now, &p)
	if c.State() != PassiveCloseReq {
		t.Errorf("state %v, want PASSIVE_CLOSEREQ: reachable from PARTOPEN (seed 001 §3)", c.State())
	}
	_ = seqnum.V48(0)
}

// TestOpen_OldResetIgnored: §8.5 step 6 gives Reset the same bounds as
// Close (LSWL = GSR + 1): a Reset not newer than GSR draws a Sync
// acknowledging GSR and leaves the connection open.
func TestOpen_OldResetIgnored(t *testing.T) {
	s := newSingle(t, profile.Linux)
	r := s.from(wire.DCCPReset, 0)
	r.ResetCode = wire.DCCPResetAborted
	s.c.HandlePacket(t0, &r)
	if s.c.State() != Open {
		t.Fatalf("state %v, want OPEN: an old Reset must not end the connection", s.c.State())
	}
	s.wantSent("an old Reset draws a Sync (§8.5 step 6)", "Sync")
}

// TestRequest_Refused: a Reset acknowledging our Request ends the attempt
// (§8.5 steps 4 and 9) although its sequence number is not newer than the
// GSR step 4 just set from it; the reader sees the code.
func TestRequest_Refused(t *testing.T) {
	c := NewClient(t0, Config{ServiceCode: 42, ISS: 1})
	var p Packet
	c.NextPacket(t0, &p)
	r, ok := ResetFor(&p, wire.DCCPResetNoConnection)
	if !ok {
		t.Fatal("a Request must be answerable")
	}
	c.HandlePacket(t0, &r)
	if c.State() != TimeWait {
		t.Fatalf("state %v, want TIMEWAIT after the refusing Reset", c.State())
	}
	var re *ResetError
	if _, err := c.Read(t0, make([]byte, 1)); !errors.As(err, &re) || re.Code != wire.DCCPResetNoConnection {
		t.Errorf("read: %v, want the No Connection reset", err)
	}
}

// TestOpen_WindowWidths: §7.5.1-7.5.2. The sequence validity window for
// the peer's packets has the width of the peer's Sequence Window (W, the
// feature located at the sender); the acknowledgement window has ours
// (W'). Here W = 400 and W' = 100.
func TestOpen_WindowWidths(t *testing.T) {
	s := newSingle(t, profile.Linux)
	s.c.feat.remote[wire.DCCPFeatSequenceWindow] = 400
	for _, c := range []struct {
		off  int64
		sync bool
	}{{300, false}, {301, true}, {-99, false}, {-100, true}} { // SWH = GSR+ceil(3W/4), SWL = GSR+1-floor(W/4)
		s.c.out.lastSync = 0
		p := s.from(wire.DCCPData, c.off)
		s.c.HandlePacket(t0, &p)
		if got := s.c.out.sync; got != c.sync {
			t.Errorf("Data at GSR%+d with W=400: Sync %v, want %v", c.off, got, c.sync)
		}
		s.wantSent("drain", describeAll(s.c)...)
	}
	// AWL = GSS + 1 - W' once GSS is W' past ISS.
	for range 150 {
		s.c.Write(t0, []byte("x"))
		s.wantSent("drain", describeAll(s.c)...)
	}
	for _, c := range []struct {
		back int64
		ok   bool
	}{{99, true}, {100, false}} {
		s.c.out.lastSync = 0
		p := s.from(wire.DCCPAck, 1)
		p.Ack = s.c.GSS().Add(-c.back)
		s.c.HandlePacket(t0, &p)
		if got := !s.c.out.sync; got != c.ok {
			t.Errorf("Ack of GSS-%d with W'=100: valid %v, want %v", c.back, got, c.ok)
		}
		s.wantSent("drain", describeAll(s.c)...)
	}
}

// TestPartOpen_GivesUpAfter4MSL: §8.1.5, a client that stays in PARTOPEN
// (the server never answers its Ack) resets with Reset (Aborted) after 4
// MSL.
func TestPartOpen_GivesUpAfter4MSL(t *testing.T) {
	c := NewClient(t0, Config{ServiceCode: 42, ISS: 1, MSL: time.Second, NewCCID: NoCCID})
	var p Packet
	c.NextPacket(t0, &p)
	resp := Packet{Type: wire.DCCPResponse, X: true, Seq: 500, Ack: p.Seq, ServiceCode: 42}
	c.HandlePacket(t0, &resp)
	if c.State() != PartOpen {
		t.Fatalf("state %v, want PARTOPEN", c.State())
	}
	now := t0
	var last Packet
	for c.State() == PartOpen && now.Sub(t0) < time.Minute {
		now = c.NextDeadline()
		c.HandleTimer(now)
		for c.NextPacket(now, &p) {
			last = p
		}
	}
	if c.State() != Closed || now.Sub(t0) != 4*time.Second || last.Type != wire.DCCPReset || last.ResetCode != wire.DCCPResetAborted {
		t.Errorf("state %v after %v, last packet %v %v; want Reset (Aborted) and CLOSED at 4 MSL", c.State(), now.Sub(t0), last.Type, last.ResetCode)
	}
}
