package tcp

import (
	"fmt"
	"testing"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// The window in our SYN counts from the peer's ISS, which is unknown when
// the SYN goes out: once the SYN-ACK arrives, the right edge of the
// receive window must be RCV.NXT plus that window (RFC 9293 §3.10.7.3),
// whatever the peer's ISS. Data beyond it is cut, never written over
// unread data (found against gVisor, whose ISS happened to put a stale
// edge "ahead" of RCV.NXT).
func TestSynSent_SynAckWindowCountsFromPeerISS(t *testing.T) {
	for _, irs := range []seqnum.V32{5, 0x7fff0000, 0xf0000000} {
		t.Run(fmt.Sprintf("irs=%#x", uint32(irs)), func(t *testing.T) {
			h := newHarness(t, SynSent)
			h.recvSeg(&Segment{Seq: irs, Ack: localISS + 1, Flags: SYN | ACK, Window: 8000})
			h.drain()
			payload := make([]byte, 1000)
			for i := range 9 { // 9000 bytes against an 8000-byte window, none read
				h.recvSeg(&Segment{Seq: irs + 1 + seqnum.V32(i*1000), Ack: localISS + 1, Flags: ACK, Window: 8000, Payload: payload})
				h.drain()
			}
			if got := h.c.Readable(); got != h.cfg.RecvBuffer {
				t.Errorf("queued %d bytes, want the %d the window allows", got, h.cfg.RecvBuffer)
			}
		})
	}
}

// With window scaling, every advertised right edge stays within the
// receive ring, so a peer that sends odd-sized segments up to each edge,
// to a reader that reads slowly, gets every byte through intact (RFC 7323
// §2.4). Round-ups that crept past the ring were found against gVisor
// (bench/interop TestBulk), which fills the window exactly; this pattern
// guards the invariant but has not been seen to reproduce that creep.
func TestEstablished_ScaledWindowNeverOverrunsUnreadData(t *testing.T) {
	peer := wire.TCPOptions{HasWScale: true, WScale: 0}
	h := newHarnessPeer(t, Established, peer, func(c *Config) {
		c.NoWindowScaling = false
		c.RecvBuffer = 100000 // shift 1: one unit of 2 bytes
	})
	shift := h.c.cfg.windowShift()
	if shift == 0 {
		t.Fatal("the test needs a scaled window")
	}
	next := remoteISS + 1
	edge := next.Add(8000) // the SYN-ACK's window in the harness
	var sent, read []byte
	b := byte(0)
	for round := range 3000 {
		// Fill the window with 97-byte segments (odd, so RCV.NXT is
		// rarely a multiple of the scale unit).
		for int(edge.Sub(next)) > 0 {
			n := min(97+len(sent)%2, int(edge.Sub(next)))
			p := make([]byte, n)
			for i := range p {
				p[i] = b
				b++
			}
			h.recvSeg(&Segment{Seq: next, Ack: localISS + 1, Flags: ACK, Window: 8000, Payload: p})
			sent = append(sent, p...)
			next = next.Add(seqnum.Size32(n))
			edge = ackedEdge(h, edge, shift)
			readSeq := remoteISS + 1 + seqnum.V32(len(read))
			if over := int(edge.Sub(readSeq)) - h.c.rcv.cap(); over > 0 {
				t.Fatalf("round %d: advertised edge %d bytes past the receive ring", round, over)
			}
		}
		// Read a little, not enough to keep up at first.
		got, _ := h.app.Read(40 + round%60)
		read = append(read, got...)
		edge = ackedEdge(h, edge, shift)
	}
	for {
		got, _ := h.app.Read(1 << 16)
		if len(got) == 0 {
			break
		}
		read = append(read, got...)
	}
	if len(read) == 0 || string(read) != string(sent[:len(read)]) {
		t.Fatalf("read %d bytes that differ from the %d sent: unread data was overwritten", len(read), len(sent))
	}
}

// ackedEdge returns the right edge the last ACK sent advertised, or edge
// when none was sent.
func ackedEdge(h *harness, edge seqnum.V32, shift uint8) seqnum.V32 {
	for _, s := range h.drain() {
		if s.Flags&ACK != 0 {
			edge = s.Ack.Add(seqnum.Size32(int(s.Window) << shift))
		}
	}
	return edge
}
