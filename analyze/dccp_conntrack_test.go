package analyze

import (
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/internal/wire"
)

func reset(code wire.DCCPResetCode) func(*wire.DCCPHeader) {
	return func(h *wire.DCCPHeader) { h.ResetCode = code }
}

// Each DCCP ending leaves netfilter's conntrack entry in the state its
// table gives, with the packets it would mark INVALID or IGNORE.
func TestConntrack_Endings(t *testing.T) {
	for _, tc := range []struct {
		name      string
		build     func(s *synth)
		state     string
		invalid   []int
		ignored   []int
		destroyed int
	}{
		{"client close", func(s *synth) {
			s.dccpHandshake()                             // REQUEST, RESPOND, PARTOPEN
			s.dccp(true, wire.DCCPDataAck, 102, 500, "x") // PARTOPEN
			s.dccp(true, wire.DCCPClose, 103, 500, "")    // CLOSING
			s.dccp(false, wire.DCCPReset, 501, 103, "", reset(wire.DCCPResetClosed))
		}, ctTimeWait, nil, nil, 0},
		{"server CloseReq", func(s *synth) {
			s.dccpHandshake()
			s.dccp(false, wire.DCCPDataAck, 501, 101, "y") // OPEN
			s.dccp(false, wire.DCCPCloseReq, 502, 101, "") // CLOSEREQ
			s.dccp(true, wire.DCCPClose, 102, 502, "")     // CLOSING
			s.dccp(false, wire.DCCPReset, 503, 102, "", reset(wire.DCCPResetClosed))
		}, ctTimeWait, nil, nil, 0},
		{"close ping-pong", func(s *synth) {
			s.dccpHandshake()
			s.dccp(true, wire.DCCPClose, 102, 500, "")  // CLOSING
			s.dccp(false, wire.DCCPClose, 501, 102, "") // a server's Close in CLOSING is accepted
			s.dccp(true, wire.DCCPClose, 103, 501, "")  // a client's is not: its table has no retransmission
		}, ctClosing, []int{6}, nil, 0},
		{"refused", func(s *synth) {
			s.dccp(true, wire.DCCPRequest, 100, 0, "", func(h *wire.DCCPHeader) { h.ServiceCode = 9 })
			s.dccp(false, wire.DCCPReset, 0, 100, "", reset(wire.DCCPResetBadServiceCode))
		}, ctNone, nil, nil, 2},
		{"unanswered", func(s *synth) {
			s.dccp(true, wire.DCCPRequest, 100, 0, "")
			s.dccp(true, wire.DCCPRequest, 100, 0, "")
		}, ctRequest, nil, nil, 0},
		{"mid-stream", func(s *synth) {
			s.dccp(true, wire.DCCPDataAck, 102, 500, "x")
			s.dccp(false, wire.DCCPAck, 501, 102, "")
		}, ctNone, []int{1, 2}, nil, 0},
		{"sync is ignored, data in PARTOPEN invalid", func(s *synth) {
			s.dccpHandshake()
			s.dccp(false, wire.DCCPSync, 501, 101, "")
			s.dccp(true, wire.DCCPData, 102, 0, "z")
		}, ctPartOpen, []int{5}, []int{4}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSynth(t)
			tc.build(s)
			c := only(t, s.report(Options{}))
			ct := c.Conntrack
			if ct == nil {
				t.Fatal("no conntrack view of a DCCP connection")
			}
			if ct.State != tc.state || !equalInts(ct.Invalid, tc.invalid) || !equalInts(ct.Ignored, tc.ignored) || ct.Destroyed != tc.destroyed {
				t.Errorf("conntrack %+v, want %s invalid %v ignored %v destroyed %d", *ct, tc.state, tc.invalid, tc.ignored, tc.destroyed)
			}
		})
	}
}

// Reset codes are named as RFC 4340 §5.6 names them, in JSON and text.
func TestConntrack_ResetCodesNamed(t *testing.T) {
	for code, want := range map[wire.DCCPResetCode]string{
		wire.DCCPResetAggressionPenalty: "Aggression Penalty", 200: "CCID-specific(200)", 40: "Reserved(40)",
	} {
		s := newSynth(t)
		s.dccpHandshake()
		s.dccp(false, wire.DCCPReset, 501, 101, "", reset(code))
		rep := s.report(Options{})
		c := only(t, rep)
		var b strings.Builder
		if err := rep.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		if c.Ending.ResetCode != want || !strings.Contains(b.String(), "("+want+")") ||
			!strings.Contains(b.String(), "netfilter conntrack TIMEWAIT") {
			t.Errorf("code %d: ending %+v, text:\n%s", code, c.Ending, b.String())
		}
	}
}
