package tcp

import (
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// This file is the sender's SACK scoreboard (RFC 2018, RFC 6675): which
// parts of the send window [SND.UNA, SND.MAX) the peer has reported with
// SACK blocks. sack_recovery.go turns it into RFC 6675's IsLost, SetPipe
// and NextSeg and keeps the recovery variables.
//
// RFC 6675 names octets inclusively (HighACK is the highest octet
// cumulatively acknowledged, HighData the highest sent); the scoreboard
// keeps the exclusive ends TCP's variables use: highACK is SND.UNA
// (HighACK+1), highData is SND.MAX (HighData+1), highRxt is HighRxt+1.

// MaxSACKRanges is how many disjoint SACKed ranges a Scoreboard holds.
// Reports that would need more are dropped, highest range first: forgetting
// that data arrived only makes the sender more conservative (it counts the
// data in flight and may retransmit it), never less.
const MaxSACKRanges = 32

// sackDupThresh is RFC 6675 §2's DupThresh: three segments' worth of
// SACKed data, or three SACKed ranges, above a hole make it lost.
const sackDupThresh = 3

// sackRange is a SACKed range [left, right) of the send window.
type sackRange struct{ left, right seqnum.V32 }

// Scoreboard is a TCP sender's record of SACKed data (RFC 6675 §3) and of
// its loss recovery variables (RFC 6675 §2). It holds at most
// MaxSACKRanges ranges, sorted, disjoint and never adjacent, all inside
// [SND.UNA, SND.MAX). It does not allocate.
//
// The zero value is not ready; call Init when the connection's send side
// starts (at ISS+1 once the SYN is acknowledged, or any later SND.UNA).
type Scoreboard struct {
	smss     int
	highACK  seqnum.V32 // SND.UNA
	highData seqnum.V32 // SND.MAX
	highRxt  seqnum.V32 // end of the highest retransmission, >= highACK

	inRecovery    bool
	recoveryPoint seqnum.V32 // SND.MAX when recovery began
	rescueUsed    bool       // NextSeg rule 4 was used in this recovery

	// rtoActive is set by a retransmission timeout until SND.UNA reaches
	// rtoPoint (SND.MAX at the timeout): all unSACKed data below it is
	// lost, and no new recovery may begin (RFC 6675 §5.1).
	rtoActive bool
	rtoPoint  seqnum.V32

	n      int
	r      [MaxSACKRanges]sackRange
	sacked int // bytes in r[:n]

	stats ScoreboardStats
}

// ScoreboardStats counts what the scoreboard saw in SACK options.
type ScoreboardStats struct {
	// DSACKs counts D-SACK blocks (RFC 2883 §4): duplicates the peer
	// received, a sign of a spurious retransmission or a duplicating path.
	DSACKs uint64
	// InvalidBlocks counts blocks ignored as malformed: empty, inverted,
	// or covering data never sent (beyond SND.MAX).
	InvalidBlocks uint64
	// StaleBlocks counts blocks wholly below SND.UNA that were not
	// D-SACK blocks (an old, reordered ACK).
	StaleBlocks uint64
	// DroppedRanges counts SACKed ranges forgotten because the scoreboard
	// was full (MaxSACKRanges).
	DroppedRanges uint64
}

// ScoreboardUpdate is what one ACK changed, as reported by Update.
type ScoreboardUpdate struct {
	// Delivered is the number of bytes this ACK newly reported as
	// received: cumulatively acknowledged bytes not SACKed before, plus
	// newly SACKed ones. It is the Acked of package cc's Ack.
	Delivered int
	// NewlySACKed is the part of Delivered reported by SACK blocks. An ACK
	// that does not advance SND.UNA but has NewlySACKed > 0 is a
	// "duplicate acknowledgment" in RFC 6675 §2's sense.
	NewlySACKed int
	// DSACK is set when the first block was a D-SACK block (RFC 2883 §4);
	// DSACKBlock is that block.
	DSACK      bool
	DSACKBlock wire.SACKBlock
	// RecoveryDone is set when this ACK ended loss recovery: SND.UNA
	// reached the recovery point (RFC 6675 §5, RFC 6582 §3.2 step 3).
	RecoveryDone bool
}

// Init empties the scoreboard for a send window starting at sndUna, with
// sender MSS smss.
func (sb *Scoreboard) Init(sndUna seqnum.V32, smss int) {
	*sb = Scoreboard{smss: max(smss, 1), highACK: sndUna, highData: sndUna, highRxt: sndUna}
}

// SetSMSS changes the sender MSS used for IsLost and segment sizes.
func (sb *Scoreboard) SetSMSS(smss int) { sb.smss = max(smss, 1) }

// off is seq's offset from SND.UNA. Everything the scoreboard stores lies
// within 2^31 of SND.UNA, so offsets order correctly across the 2^32 wrap.
func (sb *Scoreboard) off(seq seqnum.V32) uint32 { return uint32(seq - sb.highACK) }

// at is the sequence number at offset o from SND.UNA.
func (sb *Scoreboard) at(o uint32) seqnum.V32 { return sb.highACK.Add(seqnum.Size32(o)) }

// Update records one ACK: its cumulative acknowledgment sndUna, the
// sender's SND.MAX (the highest sequence number sent plus one; not a
// SND.NXT rewound by a timeout) and the blocks of its SACK option, in the
// order they came. Blocks below SND.UNA are ignored (a first one is
// counted as a D-SACK), blocks reaching beyond SND.MAX or empty are
// counted invalid and ignored, a block straddling SND.UNA is clipped.
func (sb *Scoreboard) Update(sndUna, sndMax seqnum.V32, blocks []wire.SACKBlock) ScoreboardUpdate {
	var res ScoreboardUpdate
	if sb.highData.LessThan(sndMax) {
		sb.highData = sndMax
	}
	if sb.highACK.LessThan(sndUna) {
		if sb.highData.LessThan(sndUna) {
			sb.highData = sndUna // acknowledges unsent data: the caller checks
		}
		res.Delivered = sb.advance(sndUna)
	}
	if len(blocks) > 0 && isDSACK(blocks, sndUna) {
		res.DSACK, res.DSACKBlock = true, blocks[0]
		sb.stats.DSACKs++
		blocks = blocks[1:] // RFC 2883 §4: it reports no new data
	}
	for _, b := range blocks {
		l, r := b.Left, b.Right
		switch {
		case !l.LessThan(r) || sb.highData.LessThan(r):
			sb.stats.InvalidBlocks++
			continue
		case r.LessThanEq(sb.highACK):
			sb.stats.StaleBlocks++
			continue
		case l.LessThan(sb.highACK):
			l = sb.highACK
		}
		res.NewlySACKed += sb.insert(l, r)
	}
	res.Delivered += res.NewlySACKed
	if sb.inRecovery && !sb.highACK.LessThan(sb.recoveryPoint) {
		sb.inRecovery = false
		res.RecoveryDone = true
	}
	if sb.rtoActive && !sb.highACK.LessThan(sb.rtoPoint) {
		sb.rtoActive = false
	}
	return res
}

// isDSACK reports whether the first block of an option is a D-SACK block
// (RFC 2883 §4): it lies below the cumulative ACK, or inside the second
// block.
func isDSACK(b []wire.SACKBlock, ack seqnum.V32) bool {
	f := b[0]
	if !f.Left.LessThan(f.Right) {
		return false
	}
	if f.Right.LessThanEq(ack) {
		return true
	}
	return len(b) > 1 && b[1].Left.LessThanEq(f.Left) && f.Right.LessThanEq(b[1].Right) &&
		b[1].Left.LessThan(b[1].Right)
}

// advance moves SND.UNA to sndUna, dropping the SACKed ranges it covers,
// and returns the newly acknowledged bytes that were not SACKed before.
func (sb *Scoreboard) advance(sndUna seqnum.V32) int {
	delivered := int(sndUna - sb.highACK)
	drop := 0
	for drop < sb.n && sb.r[drop].right.LessThanEq(sndUna) {
		sz := int(sb.r[drop].right - sb.r[drop].left)
		sb.sacked -= sz
		delivered -= sz
		drop++
	}
	copy(sb.r[:], sb.r[drop:sb.n])
	sb.n -= drop
	if sb.n > 0 && sb.r[0].left.LessThan(sndUna) {
		sz := int(sndUna - sb.r[0].left)
		sb.sacked -= sz
		delivered -= sz
		sb.r[0].left = sndUna
	}
	sb.highACK = sndUna
	sb.highRxt = sb.highRxt.Max(sndUna)
	return delivered
}

// insert merges the SACKed range [l, r), inside the window, into the
// ranges and returns how many bytes were not SACKed before.
func (sb *Scoreboard) insert(l, r seqnum.V32) int {
	lo, ro := sb.off(l), sb.off(r)
	i := 0 // the first range that ends at or after lo: it may merge
	for i < sb.n && sb.off(sb.r[i].right) < lo {
		i++
	}
	j := i // one past the last range that starts at or before ro
	for j < sb.n && sb.off(sb.r[j].left) <= ro {
		j++
	}
	if i < j { // overlaps or touches r[i:j]: replace them by their union
		old := 0
		for k := i; k < j; k++ {
			old += int(sb.r[k].right - sb.r[k].left)
		}
		nl, nr := min(lo, sb.off(sb.r[i].left)), max(ro, sb.off(sb.r[j-1].right))
		sb.r[i] = sackRange{sb.at(nl), sb.at(nr)}
		copy(sb.r[i+1:], sb.r[j:sb.n])
		sb.n -= j - i - 1
		added := int(nr-nl) - old
		sb.sacked += added
		return added
	}
	if sb.n == MaxSACKRanges {
		sb.stats.DroppedRanges++
		if i == MaxSACKRanges {
			return 0 // the new range is the highest: forget it
		}
		sb.n--
		sb.sacked -= int(sb.r[sb.n].right - sb.r[sb.n].left)
	}
	copy(sb.r[i+1:sb.n+1], sb.r[i:sb.n])
	sb.r[i] = sackRange{l, r}
	sb.n++
	sb.sacked += int(ro - lo)
	return int(ro - lo)
}

// IsSACKed reports whether the octet seq has been SACKed (and not yet
// cumulatively acknowledged).
func (sb *Scoreboard) IsSACKed(seq seqnum.V32) bool {
	o := sb.off(seq)
	for k := range sb.n {
		if o < sb.off(sb.r[k].left) {
			return false
		}
		if o < sb.off(sb.r[k].right) {
			return true
		}
	}
	return false
}

// HighestSACKed returns the end (exclusive) of the highest SACKed range,
// and false when nothing is SACKed.
func (sb *Scoreboard) HighestSACKed() (seqnum.V32, bool) {
	if sb.n == 0 {
		return sb.highACK, false
	}
	return sb.r[sb.n-1].right, true
}

// SACKedBytes returns the number of bytes SACKed above SND.UNA.
func (sb *Scoreboard) SACKedBytes() int { return sb.sacked }

// NumRanges returns the number of disjoint SACKed ranges held.
func (sb *Scoreboard) NumRanges() int { return sb.n }

// Range returns the i-th SACKed range in sequence order, 0 <= i < NumRanges.
func (sb *Scoreboard) Range(i int) wire.SACKBlock {
	return wire.SACKBlock{Left: sb.r[i].left, Right: sb.r[i].right}
}

// Stats returns the counters of what the scoreboard saw.
func (sb *Scoreboard) Stats() ScoreboardStats { return sb.stats }

// Clear forgets every SACKed range (RFC 2018 §8's response to a timeout
// when the peer may have reneged), keeping the window and recovery state.
func (sb *Scoreboard) Clear() {
	sb.n, sb.sacked = 0, 0
}
