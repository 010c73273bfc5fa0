package tcp

import (
	"testing"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// FuzzScoreboard drives a Scoreboard with random sends, ACKs, SACK blocks
// (valid, stale, overlapping, beyond SND.MAX), recoveries and timeouts,
// starting at a random ISN so the 2^32 wrap is crossed, and checks its
// invariants after every step.
func FuzzScoreboard(f *testing.F) {
	f.Add(uint32(1<<32-5000), []byte("\x00\x40\x00\x02\x03\x20\x02\x10\x04\x30\x03\x03\x04\x05\x50\x01\x00\x00\x05\x01"))
	f.Add(uint32(0), []byte("\x00\xff\xff\x02\x03\x01\x01\x05\x05\x09\x09\x02\x00\x00\x04\x04\x07\x10"))
	f.Fuzz(runScoreboardOps)
}

// runScoreboardOps interprets ops three bytes at a time (an operation and
// two arguments; SACK operations take two more bytes per block).
func runScoreboardOps(t *testing.T, isn uint32, ops []byte) {
	var sb Scoreboard
	const smss = 1000
	sb.Init(seqnum.V32(isn), smss)
	una, sndMax := seqnum.V32(isn), seqnum.V32(isn)
	var blocks [6]wire.SACKBlock
	for len(ops) >= 3 {
		op, a, b := ops[0]%6, int(ops[1]), int(ops[2])
		ops = ops[3:]
		switch op {
		case 0: // the application's data goes out
			if int(sndMax-una) < 1<<24 {
				sndMax = sndMax.Add(seqnum.Size32(a<<8 | b))
			}
			sb.Update(una, sndMax, nil)
		case 1: // a cumulative ACK, possibly old
			if w := int(sndMax - una); w > 0 {
				una = una.Add(seqnum.Size32((a<<8 | b) % (w + 1)))
			}
			sb.Update(una, sndMax, nil)
		case 2: // an ACK with SACK blocks near the window
			n := a%len(blocks) + 1
			for i := range n {
				if len(ops) < 2 {
					n = i
					break
				}
				left := una.Add(seqnum.Size32(int(ops[0])*256)) - 4096
				blocks[i] = wire.SACKBlock{Left: left, Right: left.Add(seqnum.Size32(int(ops[1]) * 64))}
				ops = ops[2:]
			}
			sb.Update(una, sndMax, blocks[:n])
		case 3:
			if sb.ShouldEnterRecovery(a % 5) {
				s := sb.EnterRecovery()
				checkNextSeg(t, &sb, s, 0)
				sb.Sent(s)
			}
		case 4: // the sender's transmit loop
			for range a % 8 {
				s := sb.NextSeg(b * 100)
				checkNextSeg(t, &sb, s, b*100)
				sb.Sent(s)
				if s.Rule == NextSegNewData {
					sndMax = sb.highData
				}
			}
		case 5:
			sb.OnRetransmitTimeout(a&1 == 0)
		}
		checkScoreboard(t, &sb, una, sndMax)
	}
}

func checkScoreboard(t *testing.T, sb *Scoreboard, una, sndMax seqnum.V32) {
	t.Helper()
	if sb.highACK != una || sb.highData != sndMax {
		t.Fatalf("window [%d, %d), want [%d, %d)", sb.highACK, sb.highData, una, sndMax)
	}
	win := sb.off(sb.highData)
	if sb.n < 0 || sb.n > MaxSACKRanges {
		t.Fatalf("%d ranges", sb.n)
	}
	sum := 0
	for i := range sb.n {
		l, r := sb.off(sb.r[i].left), sb.off(sb.r[i].right)
		if l >= r || r > win {
			t.Fatalf("range %d [%d, %d) outside window %d or empty", i, l, r, win)
		}
		if i > 0 && sb.off(sb.r[i-1].right) >= l {
			t.Fatalf("ranges %d and %d overlap or touch", i-1, i)
		}
		sum += int(r - l)
	}
	if sum != sb.sacked {
		t.Fatalf("SACKed bytes %d, ranges hold %d", sb.sacked, sum)
	}
	if sb.off(sb.highRxt) > win {
		t.Fatalf("HighRxt offset %d beyond the window %d", sb.off(sb.highRxt), win)
	}
	if p := sb.Pipe(); p < 0 || p > 2*int(win) {
		t.Fatalf("pipe %d for a window of %d", p, win)
	}
	if sb.IsLost(una) && sb.IsSACKed(una) {
		t.Fatal("SND.UNA both lost and SACKed")
	}
	checkNextSeg(t, sb, sb.NextSeg(500), 500)
}

func checkNextSeg(t *testing.T, sb *Scoreboard, s SACKSend, newData int) {
	t.Helper()
	if s.Rule == NextSegNone {
		if s.Len != 0 {
			t.Fatalf("no segment but length %d", s.Len)
		}
		return
	}
	if s.Len <= 0 || s.Len > sb.smss {
		t.Fatalf("NextSeg %v length %d", s.Rule, s.Len)
	}
	if s.Rule == NextSegNewData {
		if s.Seq != sb.highData || s.Len > newData {
			t.Fatalf("new data at %d len %d, SND.MAX %d, allowed %d", s.Seq, s.Len, sb.highData, newData)
		}
		return
	}
	if sb.off(s.Seq)+uint32(s.Len) > sb.off(sb.highData) {
		t.Fatalf("%v retransmission [%d, +%d) beyond SND.MAX", s.Rule, sb.off(s.Seq), s.Len)
	}
	for o := range s.Len {
		if sb.IsSACKed(s.Seq.Add(seqnum.Size32(o))) {
			t.Fatalf("%v retransmission [%d, +%d) covers SACKed data", s.Rule, sb.off(s.Seq), s.Len)
		}
	}
}
