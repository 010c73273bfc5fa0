package tcp

import (
	"testing"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// The scenarios below number 1000-byte segments from 1: segment i is
// [base+(i-1)*1000, base+i*1000). s(i) is its first octet.

type sackFixture struct {
	t    *testing.T
	base seqnum.V32
	sb   Scoreboard
}

func newSACKFixture(t *testing.T, base seqnum.V32, sentSegs int) *sackFixture {
	f := &sackFixture{t: t, base: base}
	f.sb.Init(base, 1000)
	f.sb.Update(base, f.s(sentSegs+1), nil)
	return f
}

func (f *sackFixture) s(i int) seqnum.V32 { return f.base.Add(seqnum.Size32((i - 1) * 1000)) }

// blk is the SACK block covering segments i..j.
func (f *sackFixture) blk(i, j int) wire.SACKBlock {
	return wire.SACKBlock{Left: f.s(i), Right: f.s(j + 1)}
}

func (f *sackFixture) ack(una int, sndMaxSeg int, blocks ...wire.SACKBlock) ScoreboardUpdate {
	return f.sb.Update(f.s(una), f.s(sndMaxSeg+1), blocks)
}

func (f *sackFixture) wantPipe(why string, want int) {
	f.t.Helper()
	if got := f.sb.Pipe(); got != want {
		f.t.Fatalf("%s: pipe %d, want %d", why, got, want)
	}
}

func (f *sackFixture) wantNext(why string, newData int, want SACKSend) {
	f.t.Helper()
	if got := f.sb.NextSeg(newData); got != want {
		f.t.Fatalf("%s: NextSeg = {%d %d %v}, want {%d %d %v}", why,
			got.Seq-f.base, got.Len, got.Rule, want.Seq-f.base, want.Len, want.Rule)
	}
}

func (f *sackFixture) wantRanges(why string, want ...wire.SACKBlock) {
	f.t.Helper()
	ok := f.sb.NumRanges() == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = f.sb.Range(i) == want[i]
	}
	if !ok {
		var got []wire.SACKBlock
		for i := range f.sb.NumRanges() {
			got = append(got, f.sb.Range(i))
		}
		f.t.Fatalf("%s: ranges %v, want %v (base %d)", why, got, want, f.base)
	}
}

// TestScoreboard_RFC6675Example works RFC 6675's algorithm by hand.
// Segments 1-10 are sent; 3 and 5 are lost; cwnd is 10 segments.
func TestScoreboard_RFC6675Example(t *testing.T) {
	for _, base := range []seqnum.V32{1000, 1<<32 - 4500} { // the second wraps inside segment 5
		f := newSACKFixture(t, base, 10)
		if u := f.ack(3, 10); u.Delivered != 2000 {
			t.Fatalf("segments 1-2 cumulatively acked: delivered %d, want 2000", u.Delivered)
		}
		// Segment 4 arrives: one SACKed segment above segment 3 is neither
		// DupThresh ranges nor more than 2*SMSS bytes, so 3 is not lost.
		u := f.ack(3, 10, f.blk(4, 4))
		if u.NewlySACKed != 1000 || u.Delivered != 1000 || f.sb.IsLost(f.s(3)) {
			t.Fatalf("SACK of 4: %+v, IsLost(3) = %v", u, f.sb.IsLost(f.s(3)))
		}
		// In flight: segment 3 and segments 5-10, all not lost.
		f.wantPipe("after SACK of 4", 7000)
		// Segment 6: 2 ranges and 2000 bytes above 3: still not lost.
		f.ack(3, 10, f.blk(6, 6), f.blk(4, 4))
		if f.sb.IsLost(f.s(3)) || f.sb.ShouldEnterRecovery(2) {
			t.Fatal("after SACK of 4 and 6 segment 3 must not be lost yet")
		}
		f.wantPipe("holes 3, 5 and 7-10 in flight", 6000)
		// Segment 7 merges with 6: 3000 bytes above segment 3 > 2*SMSS,
		// so 3 is lost; above 5 only 2000 bytes, so 5 is not (yet).
		f.ack(3, 10, f.blk(6, 7), f.blk(4, 4))
		f.wantRanges("6 and 7 merge", f.blk(4, 4), f.blk(6, 7))
		if !f.sb.IsLost(f.s(3)) || f.sb.IsLost(f.s(5)) || f.sb.IsLost(f.s(4)) {
			t.Fatalf("IsLost 3/4/5 = %v/%v/%v, want true/false/false",
				f.sb.IsLost(f.s(3)), f.sb.IsLost(f.s(4)), f.sb.IsLost(f.s(5)))
		}
		f.wantPipe("3 is lost: 5 and 8-10 in flight", 4000)
		if !f.sb.ShouldEnterRecovery(3) {
			t.Fatal("three duplicate ACKs with segment 3 lost: recovery must begin")
		}
		// §5 step 4: RecoveryPoint = SND.MAX, retransmit segment 3;
		// cwnd = ssthresh = FlightSize/2 = 5000.
		first := f.sb.EnterRecovery()
		if first != (SACKSend{Seq: f.s(3), Len: 1000, Rule: NextSegLost}) || f.sb.RecoveryPoint() != f.s(11) {
			t.Fatalf("EnterRecovery = %+v, recovery point %d", first, f.sb.RecoveryPoint()-base)
		}
		f.sb.Sent(first)
		f.wantPipe("the retransmission of 3 counts", 5000)
		// cwnd - pipe = 0: nothing is sent. Were it to ask, rule 1 finds no
		// lost hole above HighRxt and rule 3 offers segment 5.
		f.wantNext("rule 3", 0, SACKSend{Seq: f.s(5), Len: 1000, Rule: NextSegUnSACKed})
		// Segment 8 arrives: 3000 bytes above 5, so 5 is lost too. Pipe:
		// retransmitted 3 (1000) + 9-10 (2000); 5 is lost, not counted.
		f.ack(3, 10, f.blk(6, 8), f.blk(4, 4))
		f.wantPipe("5 lost, 3 retransmitted, 9-10 in flight", 3000)
		// cwnd 5000 - pipe 3000 = 2 segments: rule 1 picks 5, then with
		// no lost hole left, rule 2 sends new segment 11.
		next := f.sb.NextSeg(5000)
		if next != (SACKSend{Seq: f.s(5), Len: 1000, Rule: NextSegLost}) {
			t.Fatalf("rule 1 should retransmit segment 5, got %+v", next)
		}
		f.sb.Sent(next)
		f.wantNext("rule 2 after the holes", 5000, SACKSend{Seq: f.s(11), Len: 1000, Rule: NextSegNewData})
		f.sb.Sent(f.sb.NextSeg(5000))
		f.wantPipe("3 and 5 retransmitted, 9, 10 and 11 in flight", 5000)
		// The retransmitted 3 arrives: the cumulative ACK jumps over 4,
		// which was SACKed, so only segment 3 is newly delivered.
		if u := f.ack(5, 11, f.blk(6, 8)); u.Delivered != 1000 || u.RecoveryDone {
			t.Fatalf("ACK of 3: %+v, want 1000 delivered and recovery going on", u)
		}
		f.wantRanges("4 left the scoreboard with the cumulative ACK", f.blk(6, 8))
		f.ack(5, 11, f.blk(6, 10))
		// The retransmitted 5 arrives: ACK 11 reaches the recovery point.
		u = f.ack(11, 11)
		if !u.RecoveryDone || f.sb.InRecovery() || u.Delivered != 1000 || f.sb.NumRanges() != 0 {
			t.Fatalf("ACK up to the recovery point: %+v, ranges %d", u, f.sb.NumRanges())
		}
		f.wantPipe("only segment 11 in flight", 1000)
	}
}

func TestScoreboard_DupThreshRangesOfSmallSegments(t *testing.T) {
	var sb Scoreboard
	sb.Init(0, 1000)
	sb.Update(0, 1000, nil)
	// 100-byte segments, 0-99 lost, three discontiguous ranges above it:
	// only 300 SACKed bytes, but DupThresh ranges make it lost (§4 IsLost).
	blocks := []wire.SACKBlock{{Left: 500, Right: 600}, {Left: 300, Right: 400}, {Left: 100, Right: 200}}
	sb.Update(0, 1000, blocks[1:])
	if sb.IsLost(0) {
		t.Fatal("two ranges above 0 must not make it lost")
	}
	sb.Update(0, 1000, blocks)
	if !sb.IsLost(0) || !sb.IsLost(99) || sb.IsLost(200) {
		t.Fatalf("IsLost(0)=%v IsLost(99)=%v IsLost(200)=%v, want true true false", sb.IsLost(0), sb.IsLost(99), sb.IsLost(200))
	}
}

func TestScoreboard_Merging(t *testing.T) {
	f := newSACKFixture(t, 5000, 20)
	steps := []struct {
		why    string
		blocks []wire.SACKBlock
		newly  int
		want   []wire.SACKBlock
	}{
		{"a first block", []wire.SACKBlock{f.blk(5, 6)}, 2000, []wire.SACKBlock{f.blk(5, 6)}},
		{"a disjoint block above", []wire.SACKBlock{f.blk(10, 10)}, 1000, []wire.SACKBlock{f.blk(5, 6), f.blk(10, 10)}},
		{"a disjoint block below", []wire.SACKBlock{f.blk(2, 2)}, 1000, []wire.SACKBlock{f.blk(2, 2), f.blk(5, 6), f.blk(10, 10)}},
		{"adjacent on the right merges", []wire.SACKBlock{f.blk(7, 7)}, 1000, []wire.SACKBlock{f.blk(2, 2), f.blk(5, 7), f.blk(10, 10)}},
		{"adjacent on the left merges", []wire.SACKBlock{f.blk(4, 4)}, 1000, []wire.SACKBlock{f.blk(2, 2), f.blk(4, 7), f.blk(10, 10)}},
		{"a repeated block adds nothing", []wire.SACKBlock{f.blk(5, 6), f.blk(10, 10)}, 0, []wire.SACKBlock{f.blk(2, 2), f.blk(4, 7), f.blk(10, 10)}},
		{"one block spanning two ranges and the gaps", []wire.SACKBlock{f.blk(6, 12)}, 4000, []wire.SACKBlock{f.blk(2, 2), f.blk(4, 12)}},
		{"filling the last gap", []wire.SACKBlock{f.blk(3, 3)}, 1000, []wire.SACKBlock{f.blk(2, 12)}},
	}
	for _, s := range steps {
		u := f.sb.Update(f.s(1), f.s(21), s.blocks)
		if u.NewlySACKed != s.newly {
			t.Fatalf("%s: newly SACKed %d, want %d", s.why, u.NewlySACKed, s.newly)
		}
		f.wantRanges(s.why, s.want...)
	}
	if f.sb.SACKedBytes() != 11000 {
		t.Fatalf("SACKed bytes %d, want 11000", f.sb.SACKedBytes())
	}
	if h, ok := f.sb.HighestSACKed(); !ok || h != f.s(13) {
		t.Fatalf("HighestSACKed = %d, %v; want end of segment 12", h-f.base, ok)
	}
	// The cumulative ACK lands inside the range: it is clipped, and only
	// segment 1, never SACKed, counts as delivered.
	if u := f.sb.Update(f.s(5), f.s(21), nil); u.Delivered != 1000 {
		t.Fatalf("ACK into a SACKed range delivered %d, want 1000", u.Delivered)
	}
	f.wantRanges("clipped by the cumulative ACK", f.blk(5, 12))
}

func TestScoreboard_Wraparound(t *testing.T) {
	base := seqnum.V32(1<<32 - 2500) // segment 3 straddles 2^32
	f := newSACKFixture(t, base, 10)
	f.ack(1, 10, f.blk(4, 5))
	f.ack(1, 10, f.blk(2, 2))
	f.ack(1, 10, f.blk(3, 3)) // the block itself wraps: [2^32-500, 500)
	f.wantRanges("merged across 2^32", f.blk(2, 5))
	if !f.sb.IsSACKed(0) || !f.sb.IsSACKed(1<<32-1) || f.sb.IsSACKed(f.s(6)) {
		t.Fatal("IsSACKed wrong around 2^32")
	}
	if !f.sb.IsLost(base) {
		t.Fatal("segment 1 has 4000 SACKed bytes above it and must be lost")
	}
	f.wantPipe("segment 1 lost, 6-10 in flight", 5000)
	f.ack(4, 10)
	f.wantRanges("clipped across the wrap", f.blk(4, 5))
	if f.sb.SACKedBytes() != 2000 {
		t.Fatalf("SACKed bytes %d after clipping, want 2000", f.sb.SACKedBytes())
	}
}

func TestScoreboard_BoundedCapacity(t *testing.T) {
	f := newSACKFixture(t, 1<<32-10000, 200)
	// 40 disjoint one-segment blocks at 2, 4, 6, ... 80.
	for i := 1; i <= 40; i++ {
		f.ack(1, 200, f.blk(2*i, 2*i))
	}
	if f.sb.NumRanges() != MaxSACKRanges || f.sb.Stats().DroppedRanges != 8 {
		t.Fatalf("%d ranges, %d dropped; want %d and 8", f.sb.NumRanges(), f.sb.Stats().DroppedRanges, MaxSACKRanges)
	}
	if h, _ := f.sb.HighestSACKed(); h != f.s(65) {
		t.Fatalf("the highest ranges must be the ones forgotten: highest is segment %d", (h-f.base)/1000)
	}
	// A lower block displaces the highest kept one.
	f.ack(1, 200, wire.SACKBlock{Left: f.s(3) + 100, Right: f.s(3) + 200})
	if h, _ := f.sb.HighestSACKed(); h != f.s(63) || f.sb.NumRanges() != MaxSACKRanges {
		t.Fatalf("after a lower block: highest ends at segment %d, %d ranges", (h-f.base)/1000, f.sb.NumRanges())
	}
	want := 0
	for i := range f.sb.NumRanges() {
		r := f.sb.Range(i)
		want += int(r.Right - r.Left)
	}
	if f.sb.SACKedBytes() != want {
		t.Fatalf("SACKed bytes %d, ranges hold %d", f.sb.SACKedBytes(), want)
	}
	blocks := []wire.SACKBlock{f.blk(100, 101), f.blk(90, 90), f.blk(2, 3)}
	allocs := testing.AllocsPerRun(100, func() {
		f.sb.Update(f.s(1), f.s(201), blocks)
		_ = f.sb.Pipe()
		_ = f.sb.NextSeg(1000)
	})
	if allocs != 0 {
		t.Fatalf("Update+Pipe+NextSeg allocate %v times", allocs)
	}
}

func TestScoreboard_DSACKAndInvalidBlocks(t *testing.T) {
	f := newSACKFixture(t, 1<<32-1500, 10)
	f.ack(4, 10)
	// RFC 2883 §4 example 1: a retransmitted segment 2 arrives twice; the
	// first block reports it below the cumulative ACK.
	u := f.ack(4, 10, f.blk(2, 2))
	if !u.DSACK || u.DSACKBlock != f.blk(2, 2) || u.NewlySACKed != 0 {
		t.Fatalf("D-SACK below the ACK: %+v", u)
	}
	// A duplicate inside the second block: D-SACK, and not new data.
	f.ack(4, 10, f.blk(6, 8))
	u = f.ack(4, 10, f.blk(7, 7), f.blk(6, 8))
	if !u.DSACK || u.NewlySACKed != 0 {
		t.Fatalf("D-SACK inside the second block: %+v", u)
	}
	// An ordinary SACK is not a D-SACK.
	if u = f.ack(4, 10, f.blk(10, 10), f.blk(6, 8)); u.DSACK || u.NewlySACKed != 1000 {
		t.Fatalf("plain SACK: %+v", u)
	}
	if f.sb.Stats().DSACKs != 2 {
		t.Fatalf("DSACKs counted %d, want 2", f.sb.Stats().DSACKs)
	}
	// Beyond SND.MAX, inverted and empty blocks are invalid; a block below
	// SND.UNA that is not first is stale; a straddling block is clipped.
	u = f.ack(4, 10,
		wire.SACKBlock{Left: f.s(5), Right: f.s(5) + 10},
		wire.SACKBlock{Left: f.s(10), Right: f.s(12)},
		wire.SACKBlock{Left: f.s(9), Right: f.s(5)},
		wire.SACKBlock{Left: f.s(9), Right: f.s(9)},
		wire.SACKBlock{Left: f.s(1), Right: f.s(2)},
		wire.SACKBlock{Left: f.s(3), Right: f.s(4) + 500},
	)
	st := f.sb.Stats()
	if st.InvalidBlocks != 3 || st.StaleBlocks != 1 || u.NewlySACKed != 510 {
		t.Fatalf("stats %+v, newly SACKed %d; want 3 invalid, 1 stale, 510 bytes", st, u.NewlySACKed)
	}
	f.wantRanges("clipped at SND.UNA", wire.SACKBlock{Left: f.s(4), Right: f.s(4) + 500},
		wire.SACKBlock{Left: f.s(5), Right: f.s(5) + 10}, f.blk(6, 8), f.blk(10, 10))
}

func TestScoreboard_RescueRetransmission(t *testing.T) {
	// Segments 1-10 sent; 2 and 10 lost (a tail loss). 3-9 are SACKed.
	f := newSACKFixture(t, 77777, 10)
	f.ack(2, 10, f.blk(3, 9))
	if !f.sb.ShouldEnterRecovery(1) {
		t.Fatal("7000 SACKed bytes above segment 2: it is lost")
	}
	f.sb.Sent(f.sb.EnterRecovery())
	// Rule 1: no lost hole above HighRxt. Rule 2: no new data. Rule 3:
	// no hole below the highest SACKed octet. Rule 4: segment 10, the
	// highest unSACKed data, once, without moving HighRxt.
	f.wantNext("rule 4", 0, SACKSend{Seq: f.s(10), Len: 1000, Rule: NextSegRescue})
	f.sb.Sent(f.sb.NextSeg(0))
	f.wantNext("one rescue per recovery", 0, SACKSend{})
	if f.sb.HighRxt() != f.s(3) {
		t.Fatalf("HighRxt %d: the rescue must not move it", f.sb.HighRxt()-f.base)
	}
	f.wantPipe("retransmitted 2 and the unlost tail 10", 2000)
}

func TestScoreboard_RetransmitTimeout(t *testing.T) {
	for _, keep := range []bool{true, false} {
		f := newSACKFixture(t, 1<<32-3000, 10)
		f.ack(2, 10, f.blk(4, 4), f.blk(6, 6))
		f.sb.OnRetransmitTimeout(keep)
		// §5.1: every unSACKed byte below the recovery point is lost and
		// nothing was retransmitted since: pipe is 0.
		f.wantPipe("after the timeout", 0)
		if f.sb.ShouldEnterRecovery(5) {
			t.Fatal("no recovery may begin until SND.UNA passes the timeout's recovery point")
		}
		f.wantNext("from SND.UNA", 0, SACKSend{Seq: f.s(2), Len: 1000, Rule: NextSegLost})
		f.sb.Sent(f.sb.NextSeg(0))
		f.wantNext("the next hole", 0, SACKSend{Seq: f.s(3), Len: 1000, Rule: NextSegLost})
		f.sb.Sent(f.sb.NextSeg(0))
		want := f.s(4) // with SACK kept, segment 4 is skipped
		if keep {
			want = f.s(5)
		}
		if got := f.sb.NextSeg(0); got.Seq != want {
			t.Fatalf("keepSACK=%v: third retransmission at segment %d", keep, (got.Seq-f.base)/1000+1)
		}
		f.ack(11, 10)
		if f.sb.InRecovery() || f.sb.Pipe() != 0 {
			t.Fatalf("after all data is acknowledged: recovery %v, pipe %d", f.sb.InRecovery(), f.sb.Pipe())
		}
		// SND.UNA passed the timeout's recovery point: a new loss may
		// start recovery again, and only SACK evidence makes data lost.
		f.ack(11, 20, f.blk(13, 16))
		if !f.sb.ShouldEnterRecovery(0) || f.sb.IsLost(f.s(17)) {
			t.Fatal("after the timeout's episode, loss detection must work as before")
		}
	}
}

func TestScoreboard_EnterRecoveryWhenSNDUNAIsSACKed(t *testing.T) {
	// A peer SACKs data starting at its own cumulative ACK (segment 1):
	// the first retransmission is the first unSACKed segment, never empty.
	f := newSACKFixture(t, 9000, 10)
	f.ack(1, 10, f.blk(1, 2), f.blk(4, 9))
	first := f.sb.EnterRecovery()
	if first != (SACKSend{Seq: f.s(3), Len: 1000, Rule: NextSegLost}) {
		t.Fatalf("EnterRecovery = %+v, want segment 3", first)
	}
}

func BenchmarkScoreboardAck(b *testing.B) {
	var sb Scoreboard
	sb.Init(0, 1448)
	b.ReportAllocs()
	una, max := seqnum.V32(0), seqnum.V32(64*1448)
	sb.Update(una, max, nil)
	var blocks [3]wire.SACKBlock
	for i := range b.N {
		// a window of 64 segments with every 4th lost, SACKed a segment at a time
		k := seqnum.V32(i%60+2) * 1448
		if k%(4*1448) == 0 {
			k += 1448
		}
		blocks[0] = wire.SACKBlock{Left: una + k, Right: una + k + 1448}
		sb.Update(una, max, blocks[:1])
		_ = sb.Pipe()
		_ = sb.NextSeg(0)
		if i%60 == 59 {
			una += 60 * 1448
			max += 60 * 1448
			sb.Update(una, max, nil)
		}
	}
}
