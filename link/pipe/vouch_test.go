package pipe

import (
	"bytes"
	"testing"
)

// verifiedCollector is a link.VerifiedReceiver that keeps, apart, what
// was vouched for and what was not.
type verifiedCollector struct {
	collector
	vouched [][]byte
}

func (c *verifiedCollector) DeliverVerifiedPackets(pkts [][]byte) {
	for _, p := range pkts {
		c.vouched = append(c.vouched, append([]byte(nil), p...))
	}
}

func TestVouchChecksums_VerifiedReceiverGetsEveryPacketVouched(t *testing.T) {
	for _, share := range []bool{false, true} {
		opts := []Option{VouchChecksums()}
		if share {
			opts = append(opts, ShareBuffers())
		}
		a, b := New(1500, opts...)
		atB, atA := &verifiedCollector{}, &verifiedCollector{}
		b.Attach(atB)
		a.Attach(atA)
		sent := [][]byte{packet(1, 60), packet(2, 1500)}
		a.WritePackets(sent)
		b.WritePackets(sent[:1])
		if len(atB.got) != 0 || len(atB.vouched) != 2 || !bytes.Equal(atB.vouched[1], sent[1]) {
			t.Errorf("share=%v: a→b: %d plain, %d vouched; want 0 and the 2 written", share, len(atB.got), len(atB.vouched))
		}
		if len(atA.got) != 0 || len(atA.vouched) != 1 {
			t.Errorf("share=%v: b→a: %d plain, %d vouched; want 0 and 1", share, len(atA.got), len(atA.vouched))
		}
	}
}

func TestVouchChecksums_PlainReceiverStillGetsThePackets(t *testing.T) {
	a, b := New(1500, VouchChecksums())
	c := &collector{}
	b.Attach(c)
	a.WritePackets([][]byte{packet(4, 100)})
	if len(c.got) != 1 || !bytes.Equal(c.got[0], packet(4, 100)) {
		t.Fatalf("a Receiver that cannot take vouched packets got %d packets, want the one written", len(c.got))
	}
}

func TestNew_WithoutVouchingNothingIsVouched(t *testing.T) {
	a, b := New(1500, ShareBuffers())
	c := &verifiedCollector{}
	b.Attach(c)
	a.WritePackets([][]byte{packet(5, 100)})
	if len(c.vouched) != 0 || len(c.got) != 1 {
		t.Fatalf("%d vouched, %d plain; want 0 and 1: a pipe vouches only when asked", len(c.vouched), len(c.got))
	}
}
