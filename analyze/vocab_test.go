package analyze

import (
	"testing"

	"github.com/teardown-lab/teardown/internal/wire"
)

// Zeek's conn_state and history, Wireshark's completeness and our verdict
// for the basic endings, as main.zeek's definitions give them.
func TestVocab_Endings(t *testing.T) {
	for _, tc := range []struct {
		name                        string
		build                       func(s *synth)
		state, history, verdict, by string
		completeness                int
	}{
		{"graceful", func(s *synth) {
			s.handshake()
			s.tcp(true, FA, 1001, 5001, 65535, "")
			s.tcp(false, FA, 5001, 1002, 65535, "")
			s.tcp(true, A, 1002, 5002, 65535, "")
		}, "SF", "ShAFf", VerdictGraceful, "client", 1 | 2 | 4 | 16},
		{"refused", func(s *synth) {
			s.tcp(true, wire.SYN, 1000, 0, 65535, "")
			s.tcp(false, RA, 0, 1001, 0, "")
		}, "REJ", "Sr", VerdictRefused, "server", 1 | 4 | 32},
		{"unanswered", func(s *synth) {
			s.tcp(true, wire.SYN, 1000, 0, 65535, "")
			s.tcp(true, wire.SYN, 1000, 0, 65535, "")
		}, "S0", "S", VerdictUnanswered, "", 1},
		{"unread", func(s *synth) {
			s.handshake()
			s.tcp(true, PA, 1001, 5001, 65535, "0123456789")
			s.tcp(false, RA, 5001, 1001, 0, "")
		}, "RSTR", "ShADr", VerdictRSTUnread, "server", 1 | 2 | 4 | 8 | 32},
		{"after peer data", func(s *synth) {
			s.handshake()
			s.tcp(true, PA, 1001, 5001, 65535, "0123456789")
			s.tcp(false, A, 5001, 1011, 65535, "")
			s.tcp(true, RA, 1011, 5001, 0, "")
		}, "RSTO", "ShADaR", VerdictAbortiveClose, "client", 1 | 2 | 4 | 8 | 32},
		{"mid-stream", func(s *synth) {
			s.tcp(true, PA, 1001, 5001, 65535, "x")
			s.tcp(false, RA, 5001, 1002, 0, "")
		}, "RSTRH", "Dr", VerdictStateUnknown, "server", 4 | 8 | 32},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSynth(t)
			tc.build(s)
			c := only(t, s.report(Options{}))
			if c.ConnState != tc.state || c.History != tc.history || c.Verdict != tc.verdict ||
				c.ClosedFirst != tc.by || *c.Completeness != tc.completeness {
				t.Errorf("got %s %q %s by %q completeness %d, want %s %q %s by %q completeness %d (%s)",
					c.ConnState, c.History, c.Verdict, c.ClosedFirst, *c.Completeness,
					tc.state, tc.history, tc.verdict, tc.by, tc.completeness, c.VerdictText)
			}
		})
	}
}
