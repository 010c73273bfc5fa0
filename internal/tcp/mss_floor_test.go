package tcp

import (
	"testing"

	"github.com/teardown-lab/teardown/internal/wire"
)

// The send MSS floor (Linux tcp_min_snd_mss = 48) bounds the MSS the peer
// announces, before the timestamps option takes its room (RFC 9293 §3.7.1,
// MUST-16): a peer announcing 48 with timestamps gets 36-byte payloads.
func TestSynSent_SynAckTinyMSSWithTimestamps(t *testing.T) {
	peer := wire.TCPOptions{HasMSS: true, MSS: 48, HasTimestamp: true, TSVal: 5}
	h := newHarnessPeer(t, Established, peer, func(c *Config) { c.NoTimestamps = false })
	if got := h.c.SendMSS(); got != 48-wire.TCPTimestampRoom {
		t.Fatalf("send MSS = %d, want %d (the floor of 48, then the timestamps' room)", got, 48-wire.TCPTimestampRoom)
	}
	h.app.Write(string(make([]byte, 100)))
	for _, s := range h.drain() {
		if len(s.Payload) > 36 {
			t.Fatalf("segment carries %d payload bytes, want at most 36", len(s.Payload))
		}
	}
}

// A peer announcing less than the floor is raised to it; the options then
// come off the floor, not below it.
func TestSynSent_SynAckMSSBelowFloor(t *testing.T) {
	for _, tc := range []struct {
		mss  uint16
		ts   bool
		want int
	}{
		{1, false, 48},
		{1, true, 36},
		{47, false, 48},
		{100, true, 88},
	} {
		peer := wire.TCPOptions{HasMSS: true, MSS: tc.mss, HasTimestamp: tc.ts, TSVal: 5}
		h := newHarnessPeer(t, Established, peer, func(c *Config) { c.NoTimestamps = false })
		if got := h.c.SendMSS(); got != tc.want {
			t.Errorf("peer MSS %d, timestamps %v: send MSS = %d, want %d", tc.mss, tc.ts, got, tc.want)
		}
	}
}
