package tcp

import (
	"bytes"
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// cutRuns cuts every run (GSOSize set) into the segments it stands for,
// as a link's segmentation offload does: the headers repeated, the
// sequence number advanced, PSH on the last piece only.
func cutRuns(segs []Segment) []Segment {
	var out []Segment
	for _, s := range segs {
		g := int(s.GSOSize)
		if g == 0 {
			out = append(out, s)
			continue
		}
		for off := 0; off < len(s.Payload); off += g {
			p := s
			p.GSOSize = 0
			p.Seq = s.Seq.Add(seqnum.Size32(off))
			p.Payload = s.Payload[off:min(off+g, len(s.Payload))]
			if off+g < len(s.Payload) {
				p.Flags &^= wire.PSH
			}
			out = append(out, p)
		}
	}
	return out
}

func sameSegments(t *testing.T, got, want []Segment) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d segments, want %d:\n got %s\nwant %s", len(got), len(want), fmtSegs(got), fmtSegs(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Seq != w.Seq || g.Ack != w.Ack || g.Flags != w.Flags || g.Window != w.Window || g.Options != w.Options ||
			g.GSOSize != 0 || !bytes.Equal(g.Payload, w.Payload) {
			t.Fatalf("segment %d: got %v, want %v", i, fmtSegs(got[i:i+1]), fmtSegs(want[i:i+1]))
		}
	}
}

// A connection allowed to hand out runs sends, once its runs are cut,
// exactly the segments one that sends segment by segment does; and it
// does hand out runs (of whole segments, within the windows).
func TestEstablished_GSORunsCutBackToTheSegments(t *testing.T) {
	one := newHarness(t, Established)
	runs := newHarness(t, Established, func(c *Config) { c.GSOMaxPayload = 4500 })
	data := strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz", 250)[:7321]
	one.app.Write(data)
	runs.app.Write(data)
	want, got := one.drain(), runs.drain()
	n := 0
	for _, s := range got {
		if s.GSOSize != 0 {
			n++
			mss := runs.c.SendMSS()
			if int(s.GSOSize) != mss || len(s.Payload) <= mss || len(s.Payload) > 4500 || len(s.Payload)%mss != 0 {
				t.Errorf("run of %d bytes in segments of %d (send MSS %d, at most 4500)", len(s.Payload), s.GSOSize, mss)
			}
		}
	}
	if n == 0 {
		t.Fatalf("no runs handed out: %s", fmtSegs(got))
	}
	sameSegments(t, cutRuns(got), want)
	if a, b := one.c.stats.SegsOut, runs.c.stats.SegsOut; a != b {
		t.Errorf("SegsOut %d with runs, %d without: runs count the segments they stand for", b, a)
	}
}

// Retransmissions, and data with the FIN queued behind it, go segment by
// segment.
func TestEstablished_GSONoRunsForRetransmissionsOrFIN(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) { c.GSOMaxPayload = 4500 })
	h.app.Write(strings.Repeat("x", 5000))
	if first := h.drain(); len(first) == 0 || first[0].GSOSize == 0 {
		t.Fatalf("new data went without a run: %s", fmtSegs(first))
	}
	h.advanceToDeadline() // the RTO: everything again, from one segment
	mss := h.c.SendMSS()
	rtx := h.drain()
	// Each ACK of the retransmissions opens the window for more of them
	// (slow start), which still go one by one.
	for range 3 {
		for _, s := range rtx {
			if s.GSOSize != 0 || len(s.Payload) > mss {
				t.Fatalf("retransmission as a run: %s", fmtSegs([]Segment{s}))
			}
		}
		if len(rtx) == 0 {
			break
		}
		last := rtx[len(rtx)-1]
		h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: last.Seq.Add(seqnum.Size32(len(last.Payload))), window: 8000})
		rtx = h.drain()
	}
	f := newHarness(t, Established, func(c *Config) { c.GSOMaxPayload = 4500 })
	f.app.Write(strings.Repeat("y", 3000))
	f.app.CloseWrite()
	for _, s := range f.drain() {
		if s.GSOSize != 0 {
			t.Fatalf("a run with the FIN queued: %s", fmtSegs([]Segment{s}))
		}
	}
}
