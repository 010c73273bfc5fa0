package tcp

import (
	"testing"

	"github.com/teardown-lab/teardown/internal/wire"
)

// Info reports what the handshake agreed: with every option offered by
// both sides, all three are on and the peer's shift is the one it sent.
func TestInfo_ReportsNegotiatedOptions(t *testing.T) {
	all := func(c *Config) { c.NoWindowScaling, c.NoSACK, c.NoTimestamps = false, false, false }
	peer := wire.TCPOptions{HasWScale: true, WScale: 7, SACKPermitted: true, HasTimestamp: true, TSVal: 4242}
	h := newHarnessPeer(t, Established, peer, all)
	in := h.c.Info()
	if !in.WindowScaling || !in.SACK || !in.Timestamps {
		t.Fatalf("options offered by both sides not all on: %+v", in)
	}
	if in.SndShift != 7 || in.TSRecent != 4242 || in.State != Established || in.SendMSS <= 0 {
		t.Fatalf("Info = %+v; want the peer's shift 7, TS.Recent 4242, ESTABLISHED", in)
	}

	// Without the options on our side nothing is agreed, whatever the peer sent.
	h2 := newHarnessPeer(t, Established, peer)
	if in := h2.c.Info(); in.WindowScaling || in.SACK || in.Timestamps || in.SndShift != 0 {
		t.Fatalf("options we did not offer reported in use: %+v", in)
	}
}
