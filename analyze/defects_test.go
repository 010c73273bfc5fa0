package analyze

import (
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/internal/wire"
)

// Repros of the defects found on real captures, each built here.

// An injected RST whose ACK does not acknowledge the SYN is ignored by the
// client in SYN-SENT (RFC 9293 §3.10.7.3): not a refusal, and the real
// server's SYN-ACK and the whole connection after it stay one connection.
func TestSynSent_RSTNotAcceptable(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags wire.TCPFlags
		ack   uint32
	}{{"wrong ack", RA, 777}, {"ack of the ISN itself", RA, 1000}, {"no ACK", wire.RST, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSynth(t)
			syn := s.tcp(true, wire.SYN, 1000, 0, 65535, "")
			bogus := s.tcp(false, tc.flags, 0, tc.ack, 0, "")
			s.tcp(false, wire.SYN|wire.ACK, 5000, 1001, 65535, "")
			s.tcp(true, A, 1001, 5001, 65535, "")
			s.tcp(true, PA, 1001, 5001, 65535, "hi")
			s.tcp(false, FA, 5001, 1003, 65535, "")
			s.tcp(true, FA, 1003, 5002, 65535, "")
			s.tcp(false, A, 5002, 1004, 65535, "")
			c := only(t, s.report(Options{}))
			if c.Setup.Kind != SetupHandshake || c.Ending.Kind != EndFIN || c.Verdict != VerdictGraceful {
				t.Errorf("setup %s, ending %s, verdict %s; want handshake, fin, graceful", c.Setup.Kind, c.Ending.Kind, c.Verdict)
			}
			if c.ClosedFirst != "server" {
				t.Errorf("closed first %q: the ignored RST closed nothing, the server's FIN came first", c.ClosedFirst)
			}
			wantFinding(t, "the bogus RST", c, FindingRSTNotAcceptable, syn, bogus)
		})
	}
}

// The acceptable RST still refuses.
func TestSynSent_RSTAcceptableRefuses(t *testing.T) {
	s := newSynth(t)
	s.tcp(true, wire.SYN, 1000, 0, 65535, "")
	s.tcp(false, RA, 0, 1001, 0, "")
	c := only(t, s.report(Options{}))
	if c.Setup.Kind != SetupRefused || c.Ending.Kind != EndNeverEstablished || c.Verdict != VerdictRefused {
		t.Errorf("%s / %s / %s, want refused", c.Setup.Kind, c.Ending.Kind, c.Verdict)
	}
	if hasFinding(c, FindingRSTNotAcceptable) != nil {
		t.Errorf("an RST acknowledging the SYN is acceptable: %+v", c.Findings)
	}
}

// A SYN answered by the ACK of an earlier connection (the server's
// TIME-WAIT), which the client resets; with nothing after it the SYN was
// answered by ACK (stale TIME-WAIT), not "never answered".
func TestSynSent_StaleACK(t *testing.T) {
	s := newSynth(t)
	s.tcp(true, wire.SYN, 1000, 0, 65535, "")
	ack := s.tcp(false, A, 90000, 424242, 65535, "")
	rst := s.tcp(true, wire.RST, 424242, 0, 0, "")
	c := only(t, s.report(Options{}))
	if c.Setup.Kind != SetupAnsweredByACK || !equalInts(c.Setup.Packets, []int{1, ack, rst}) {
		t.Errorf("setup %+v, want answered_by_ack with packets 1, %d, %d", c.Setup, ack, rst)
	}
	if !strings.Contains(c.Setup.Summary, "answered by ACK #2 (stale TIME-WAIT)") {
		t.Errorf("setup summary %q", c.Setup.Summary)
	}
	if c.Ending.Kind != EndNeverEstablished || c.Verdict != VerdictAnsweredByACK {
		t.Errorf("ending %s, verdict %s; want never_established, answered_by_ack", c.Ending.Kind, c.Verdict)
	}
	if strings.Contains(c.VerdictText+c.Setup.Summary+c.Ending.Summary, "never answered") {
		t.Errorf("the SYN was answered: %q / %q / %q", c.Setup.Summary, c.Ending.Summary, c.VerdictText)
	}
}

// After the stale ACK and the client's RST, the retried SYN (same ISN)
// gets its SYN-ACK: one connection, set up by handshake, the stale ACK
// named in the setup, and its numbers kept out of the new connection's.
func TestSynSent_StaleACKThenRetry(t *testing.T) {
	s := newSynth(t)
	s.tcp(true, wire.SYN, 1000, 0, 65535, "")
	s.tcp(false, A, 90000, 424242, 65535, "")
	s.tcp(true, wire.RST, 424242, 0, 0, "")
	s.handshake()
	s.tcp(true, PA, 1001, 5001, 65535, "0123456789")
	rst := s.tcp(false, RA, 5001, 1001, 0, "")
	c := only(t, s.report(Options{}))
	if c.Setup.Kind != SetupHandshake || c.Setup.Retries != 1 || !strings.Contains(c.Setup.Summary, "stale TIME-WAIT") {
		t.Errorf("setup %+v", c.Setup)
	}
	if c.Ending.Kind != EndRST || c.Ending.By != "server" || c.Verdict != VerdictRSTUnread {
		t.Errorf("ending %+v verdict %s: the server's RST with 10 bytes unacknowledged ends it", c.Ending, c.Verdict)
	}
	if c.ClosedFirst != "server" || !equalInts(c.Ending.Packets, []int{rst}) {
		t.Errorf("closed first %q, ending packets %v", c.ClosedFirst, c.Ending.Packets)
	}
}

// An unanswered SYN followed by the client's own RST was never
// established, as docs/analyze.md says of unanswered SYNs.
func TestSynSent_ClientGivesUp(t *testing.T) {
	s := newSynth(t)
	s.tcp(true, wire.SYN, 1000, 0, 65535, "")
	s.tcp(true, wire.SYN, 1000, 0, 65535, "")
	rst := s.tcp(true, wire.RST, 1001, 0, 0, "")
	c := only(t, s.report(Options{}))
	if c.Setup.Kind != SetupUnanswered || c.Ending.Kind != EndNeverEstablished || c.Verdict != VerdictUnanswered {
		t.Errorf("%s / %s / %s; want unanswered, never_established, unanswered", c.Setup.Kind, c.Ending.Kind, c.Verdict)
	}
	if c.Ending.By != "client" || !equalInts(c.Ending.Packets, []int{rst}) || c.ClosedFirst != "client" {
		t.Errorf("ending %+v closed first %q", c.Ending, c.ClosedFirst)
	}
}

// A packet with every flag set is read one way throughout: as an RST, by
// roles guessed from ports, with the state unknown, and a finding saying
// why; no "SYN never answered" beside an "RST in ESTABLISHED".
func TestFlags_EveryFlagSet(t *testing.T) {
	s := newSynth(t)
	all := wire.FIN | wire.SYN | wire.RST | wire.PSH | wire.ACK | wire.URG | wire.ECE | wire.CWR
	n := s.tcp(true, all, 1000, 1, 65535, "")
	c := only(t, s.report(Options{}))
	if c.Setup.Kind != SetupMidStream || c.RolesFrom != "port_guess" {
		t.Errorf("setup %s roles %s: a segment with RST opens nothing", c.Setup.Kind, c.RolesFrom)
	}
	if c.Ending.Kind != EndRST || c.Ending.State != "unknown" || c.Ending.By != "client" || c.Verdict != VerdictStateUnknown {
		t.Errorf("ending %+v verdict %s", c.Ending, c.Verdict)
	}
	wantFinding(t, "every flag", c, FindingInvalidFlags, n)
	text := c.Setup.Summary + c.Ending.Summary + c.VerdictText
	for _, bad := range []string{"never answered", "ESTABLISHED", "refused"} {
		if strings.Contains(text, bad) {
			t.Errorf("report says %q: %s", bad, text)
		}
	}
}
