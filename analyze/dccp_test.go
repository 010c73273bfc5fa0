package analyze

import (
	"testing"

	"github.com/teardown-lab/teardown/internal/wire"
)

// The naive simultaneous close (docs/scenarios.md, dccp-simultaneous-close): both ends in CLOSING,
// each retransmitting Close and waiting for a Reset that never comes.
func TestDCCP_ClosePingPong(t *testing.T) {
	s := newSynth(t)
	s.dccpHandshake()
	s.dccp(true, wire.DCCPDataAck, 102, 500, "datagram")
	c1 := s.dccp(true, wire.DCCPClose, 103, 500, "")
	s1 := s.dccp(false, wire.DCCPClose, 501, 102, "")
	c2 := s.dccp(true, wire.DCCPClose, 104, 501, "")
	s2 := s.dccp(false, wire.DCCPClose, 502, 104, "")
	c3 := s.dccp(true, wire.DCCPClose, 105, 502, "")
	c := only(t, s.report(Options{}))
	if c.Setup.Kind != SetupHandshake || c.Setup.ServiceCode == nil || *c.Setup.ServiceCode != 5 {
		t.Errorf("setup %+v, want a handshake with service code 5", c.Setup)
	}
	if c.Ending.Kind != EndClosing || c.Ending.Clean {
		t.Errorf("ending %+v: no Reset ever ended it", c.Ending)
	}
	wantFinding(t, "Close repeated both ways", c, FindingDCCPClosePingPong, c1, s1, c2, s2, c3)
}

// The tie-breaker (fixed variant): the client answers the crossing Close
// with Reset; no ping-pong.
func TestDCCP_SimultaneousCloseTieBreak(t *testing.T) {
	s := newSynth(t)
	s.dccpHandshake()
	s.dccp(true, wire.DCCPClose, 102, 500, "")
	sc := s.dccp(false, wire.DCCPClose, 501, 101, "")
	r := s.dccp(true, wire.DCCPReset, 103, 501, "", func(h *wire.DCCPHeader) { h.ResetCode = wire.DCCPResetClosed })
	c := only(t, s.report(Options{}))
	if hasFinding(c, FindingDCCPClosePingPong) != nil {
		t.Errorf("one Close each way and a Reset is the fix, not a ping-pong: %+v", c.Findings)
	}
	if c.Ending.Kind != EndClose || !c.Ending.Clean || !equalInts(c.Ending.Packets, []int{sc, r}) {
		t.Errorf("ending %+v, want Close %d answered by Reset %d", c.Ending, sc, r)
	}
}

// The client's DataAck crosses the server's Close; the client answers the
// Close with Reset at once, so its DataAck was never acknowledged.
func TestDCCP_CloseAnsweredWhileDataInFlight(t *testing.T) {
	s := newSynth(t)
	s.dccpHandshake()
	d := s.dccp(true, wire.DCCPDataAck, 102, 500, "late datagram")
	cl := s.dccp(false, wire.DCCPClose, 501, 101, "") // acknowledges only up to 101
	r := s.dccp(true, wire.DCCPReset, 103, 501, "", func(h *wire.DCCPHeader) { h.ResetCode = wire.DCCPResetClosed })
	c := only(t, s.report(Options{}))
	wantFinding(t, "the DataAck was in flight", c, FindingDCCPCloseDataInFlight, d, cl, r)
	if c.Ending.Kind != EndClose || c.Ending.By != "server" || c.Ending.Clean {
		t.Errorf("ending %+v: server's Close answered by Reset, not clean (data lost)", c.Ending)
	}
}

// A Close whose data had all been acknowledged is a clean end.
func TestDCCP_CloseAfterDataAcked(t *testing.T) {
	s := newSynth(t)
	s.dccpHandshake()
	s.dccp(true, wire.DCCPDataAck, 102, 500, "datagram")
	s.dccp(false, wire.DCCPClose, 501, 102, "")
	s.dccp(true, wire.DCCPReset, 103, 501, "", func(h *wire.DCCPHeader) { h.ResetCode = wire.DCCPResetClosed })
	c := only(t, s.report(Options{}))
	if len(c.Findings) != 0 || c.Ending.Kind != EndClose || !c.Ending.Clean {
		t.Errorf("ending %+v findings %+v; want a clean close and no findings", c.Ending, c.Findings)
	}
}

// A Request for an unknown service is refused with Reset code 8; a second
// Request after that is a new connection.
func TestDCCP_RefusedThenNewRequest(t *testing.T) {
	s := newSynth(t)
	s.dccp(true, wire.DCCPRequest, 100, 0, "", func(h *wire.DCCPHeader) { h.ServiceCode = 77 })
	s.dccp(true, wire.DCCPRequest, 101, 0, "", func(h *wire.DCCPHeader) { h.ServiceCode = 77 })
	s.dccp(false, wire.DCCPReset, 0, 101, "", func(h *wire.DCCPHeader) { h.ResetCode = wire.DCCPResetBadServiceCode })
	s.dccp(true, wire.DCCPRequest, 900, 0, "", func(h *wire.DCCPHeader) { h.ServiceCode = 5 })
	rep := s.report(Options{})
	if len(rep.Connections) != 2 {
		t.Fatalf("%d connections, want 2 (a Request after a Reset starts anew)", len(rep.Connections))
	}
	c := rep.Connections[0]
	if c.Setup.Kind != SetupRefused || c.Setup.ResetCode != "Bad Service Code" || c.Setup.Retries != 1 {
		t.Errorf("setup %+v, want refused with Bad Service Code after 1 retry", c.Setup)
	}
	if c2 := rep.Connections[1]; c2.Setup.Kind != SetupUnanswered || c2.Ending.Kind != EndNeverEstablished {
		t.Errorf("second: setup %q ending %q", c2.Setup.Kind, c2.Ending.Kind)
	}
}
