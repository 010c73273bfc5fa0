package tcp

import (
	"strconv"

	"github.com/teardown-lab/teardown/internal/seqnum"
)

// This file is RFC 6675's loss recovery on top of the scoreboard: IsLost
// (§4), SetPipe (§4, here Pipe), NextSeg (§4) and the variables of §5
// (RecoveryPoint, HighRxt, RescueRxt) with the timeout rules of §5.1.

// NextSegRule says which rule of RFC 6675 §4's NextSeg chose a segment.
type NextSegRule uint8

// The rules of NextSeg, in the order it tries them.
const (
	// NextSegNone: nothing may be sent (§4 NextSeg rule 5).
	NextSegNone NextSegRule = iota
	// NextSegLost retransmits the lowest lost hole above HighRxt (rule 1).
	NextSegLost
	// NextSegNewData sends previously unsent data from SND.MAX (rule 2).
	NextSegNewData
	// NextSegUnSACKed retransmits an unSACKed hole below the highest
	// SACKed octet that is not yet deemed lost (rule 3).
	NextSegUnSACKed
	// NextSegRescue is the one rescue retransmission per recovery of the
	// highest unSACKed data, when nothing else is possible (rule 4).
	NextSegRescue
	// NextSegRACK retransmits data RACK deemed lost (RFC 8985 §6.2),
	// which may lie below HighRxt (a lost retransmission) or above holes
	// not yet resent; it moves HighRxt only where it continues it (only
	// SACKed data lies between).
	NextSegRACK
	// NextSegProbe is a Tail Loss Probe's retransmission of the last
	// segment sent (RFC 8985 §7.3); it leaves HighRxt alone.
	NextSegProbe
)

var nextSegRuleNames = [...]string{"none", "lost", "new-data", "unsacked", "rescue", "rack", "probe"}

// String returns the rule's name: "none", "lost", "new-data", "unsacked"
// or "rescue".
func (r NextSegRule) String() string {
	if int(r) < len(nextSegRuleNames) {
		return nextSegRuleNames[r]
	}
	return "rule(" + strconv.Itoa(int(r)) + ")"
}

// SACKSend is a segment chosen by NextSeg or EnterRecovery: Len bytes
// starting at Seq, for the reason Rule. Len is 0 when Rule is NextSegNone.
type SACKSend struct {
	Seq  seqnum.V32
	Len  int
	Rule NextSegRule
}

// End returns Seq+Len.
func (s SACKSend) End() seqnum.V32 { return s.Seq.Add(seqnum.Size32(s.Len)) }

// lostBound returns the offset below which every unSACKed octet is lost
// (RFC 6675 §4 IsLost). IsLost is monotonic: the lower an octet, the more
// SACKed data lies above it. An octet is lost when DupThresh ranges start
// above it, or when more than (DupThresh-1)*SMSS SACKed bytes lie above
// it; after a timeout everything below its recovery point is (§5.1).
func (sb *Scoreboard) lostBound() uint32 {
	var bound uint32
	if sb.n >= sackDupThresh {
		bound = sb.off(sb.r[sb.n-sackDupThresh].left)
	}
	// q is the octet with exactly (DupThresh-1)*SMSS+1 SACKed bytes at or
	// above it: every octet below q has more than (DupThresh-1)*SMSS above.
	need, acc := (sackDupThresh-1)*sb.smss+1, 0
	for k := sb.n - 1; k >= 0; k-- {
		sz := int(sb.r[k].right - sb.r[k].left)
		if acc+sz >= need {
			bound = max(bound, sb.off(sb.r[k].right)-uint32(need-acc))
			break
		}
		acc += sz
	}
	if sb.rtoActive {
		bound = max(bound, min(sb.off(sb.rtoPoint), sb.off(sb.highData)))
	}
	return bound
}

// IsLost reports whether the unSACKed octet seq is deemed lost (RFC 6675
// §4). SACKed octets and octets outside [SND.UNA, SND.MAX) are not lost.
func (sb *Scoreboard) IsLost(seq seqnum.V32) bool {
	o := sb.off(seq)
	return o < sb.off(sb.highData) && o < sb.lostBound() && !sb.IsSACKed(seq)
}

// Pipe is RFC 6675 §4's SetPipe: the sender's estimate of the bytes in
// the network. Every unSACKed byte of [SND.UNA, SND.MAX) counts once if it
// is not deemed lost and once more if it was retransmitted (is below
// HighRxt). The sender may send while cwnd - Pipe() >= SMSS.
func (sb *Scoreboard) Pipe() int {
	lost, rxt, end := sb.lostBound(), sb.off(sb.highRxt), sb.off(sb.highData)
	pipe := 0
	var lo uint32
	for k := 0; k <= sb.n; k++ {
		hi := end
		if k < sb.n {
			hi = sb.off(sb.r[k].left)
		}
		pipe += overlap(lo, hi, lost, end) + overlap(lo, hi, 0, rxt)
		if k < sb.n {
			lo = sb.off(sb.r[k].right)
		}
	}
	return pipe
}

// overlap returns the length of [a, b) ∩ [c, d).
func overlap(a, b, c, d uint32) int {
	lo, hi := max(a, c), min(b, d)
	if hi <= lo {
		return 0
	}
	return int(hi - lo)
}

// ShouldEnterRecovery reports whether loss recovery should begin (RFC 6675
// §5 steps 2 and 3): not already in it, not barred by a recent timeout
// (§5.1), and either dupAcks duplicate ACKs (in §2's sense) have arrived or
// the first unacknowledged octet is deemed lost.
func (sb *Scoreboard) ShouldEnterRecovery(dupAcks int) bool {
	if sb.inRecovery || sb.rtoActive || sb.highACK == sb.highData {
		return false
	}
	return dupAcks >= sackDupThresh || sb.IsLost(sb.highACK)
}

// EnterRecovery begins loss recovery (RFC 6675 §5 step 4): RecoveryPoint
// becomes SND.MAX, and it returns the segment to retransmit first, the one
// starting at SND.UNA (step 4.3), or nothing (Len 0) when all is SACKed.
// The sender also reduces cwnd (step 4.2, package cc's
// OnCongestionEvent), sends the segment, reports it with Sent, and then
// sends by Pipe and NextSeg (step 4.5).
func (sb *Scoreboard) EnterRecovery() SACKSend {
	sb.inRecovery = true
	sb.recoveryPoint = sb.highData
	sb.rescueUsed = false
	sb.highRxt = sb.highRxt.Max(sb.highACK)
	// The first unSACKed segment: normally at SND.UNA, unless a peer
	// SACKed data starting right at its own cumulative ACK.
	var lo uint32
	hi := sb.off(sb.highData)
	if sb.n > 0 {
		if hi = sb.off(sb.r[0].left); hi == 0 {
			lo = sb.off(sb.r[0].right)
			hi = sb.off(sb.highData)
			if sb.n > 1 {
				hi = sb.off(sb.r[1].left)
			}
		}
	}
	if lo >= hi {
		return SACKSend{}
	}
	return SACKSend{Seq: sb.at(lo), Len: min(int(hi-lo), sb.smss), Rule: NextSegLost}
}

// InRecovery reports whether loss recovery is in progress.
func (sb *Scoreboard) InRecovery() bool { return sb.inRecovery }

// Recovering reports whether the sender should send by Pipe and NextSeg:
// during loss recovery (RFC 6675 §5), and after a retransmission timeout
// until SND.UNA reaches the data outstanding at the timeout (§5.1).
func (sb *Scoreboard) Recovering() bool { return sb.inRecovery || sb.rtoActive }

// RecoveryPoint returns SND.MAX as it was when recovery (or the last
// timeout) began; recovery ends when SND.UNA reaches it.
func (sb *Scoreboard) RecoveryPoint() seqnum.V32 {
	if sb.rtoActive {
		return sb.rtoPoint
	}
	return sb.recoveryPoint
}

// HighRxt returns the end of the highest retransmitted octet (RFC 6675's
// HighRxt+1), never below SND.UNA.
func (sb *Scoreboard) HighRxt() seqnum.V32 { return sb.highRxt }

// NextSeg chooses what to send next (RFC 6675 §4 NextSeg). newData is how
// many bytes of unsent data the sender may send now (queued and within
// the peer's window); NextSeg never chooses more than one SMSS. Outside
// recovery and after-timeout retransmission only new data is chosen.
// NextSeg changes nothing: report what was sent with Sent.
func (sb *Scoreboard) NextSeg(newData int) SACKSend {
	recovering := sb.inRecovery || sb.rtoActive
	if recovering { // rule 1: the lowest lost octet above HighRxt
		if s, ok := sb.firstHole(sb.lostBound()); ok {
			s.Rule = NextSegLost
			return s
		}
	}
	if newData > 0 { // rule 2
		return SACKSend{Seq: sb.highData, Len: min(newData, sb.smss), Rule: NextSegNewData}
	}
	if !sb.inRecovery || sb.n == 0 {
		return SACKSend{}
	}
	// rule 3: an unSACKed octet above HighRxt below the highest SACKed
	if s, ok := sb.firstHole(sb.off(sb.r[sb.n-1].right)); ok {
		s.Rule = NextSegUnSACKed
		return s
	}
	if !sb.rescueUsed { // rule 4: the highest unSACKed octet, once
		hi, lo := sb.off(sb.highData), sb.off(sb.r[sb.n-1].right)
		if hi == lo { // no unSACKed tail: the hole below the top range
			hi, lo = sb.off(sb.r[sb.n-1].left), 0
			if sb.n > 1 {
				lo = sb.off(sb.r[sb.n-2].right)
			}
		}
		if hi > lo {
			start := max(lo, hi-min(hi, uint32(sb.smss)))
			return SACKSend{Seq: sb.at(start), Len: int(hi - start), Rule: NextSegRescue}
		}
	}
	return SACKSend{}
}

// firstHole returns up to one SMSS of the lowest unSACKed data at or
// above HighRxt and below offset limit, cut at the end of its hole.
func (sb *Scoreboard) firstHole(limit uint32) (SACKSend, bool) {
	rxt, end := sb.off(sb.highRxt), sb.off(sb.highData)
	var lo uint32
	for k := 0; k <= sb.n; k++ {
		hi := end
		if k < sb.n {
			hi = sb.off(sb.r[k].left)
		}
		if s := max(lo, rxt); s < hi && s < limit {
			return SACKSend{Seq: sb.at(s), Len: min(int(hi-s), sb.smss)}, true
		}
		if k < sb.n {
			lo = sb.off(sb.r[k].right)
		}
	}
	return SACKSend{}, false
}

// Sent records that s was transmitted (RFC 6675 §5 steps C.2 and C.3): a
// retransmission raises HighRxt, except the rescue retransmission which
// only uses up rule 4; new data raises SND.MAX. The sender adds s.Len to
// its running pipe until the next ACK recomputes it.
func (sb *Scoreboard) Sent(s SACKSend) {
	if s.Len <= 0 {
		return
	}
	end := s.End()
	switch s.Rule {
	case NextSegLost, NextSegUnSACKed:
		if sb.highRxt.LessThan(end) {
			sb.highRxt = end
		}
	case NextSegNewData:
		if sb.highData.LessThan(end) {
			sb.highData = end
		}
	case NextSegRescue:
		sb.rescueUsed = true
	case NextSegRACK:
		// HighRxt moves when the retransmission continues it: nothing
		// between HighRxt and s.Seq waits to be resent (all SACKed).
		if sb.highRxt.LessThan(end) && (s.Seq.LessThanEq(sb.highRxt) || sb.allSACKed(sb.highRxt, s.Seq)) {
			sb.highRxt = end
		}
	}
}

// allSACKed reports whether every octet of [lo, hi) has been SACKed.
func (sb *Scoreboard) allSACKed(lo, hi seqnum.V32) bool {
	_, n := sb.firstUnSACKed(lo, hi)
	return n == 0
}

// firstUnSACKed returns the first run of octets of [lo, hi) that is not
// SACKed, and its length (0: none).
func (sb *Scoreboard) firstUnSACKed(lo, hi seqnum.V32) (seqnum.V32, int) {
	l, h := sb.off(lo), sb.off(hi)
	if sb.off(sb.highData) < h {
		h = sb.off(sb.highData)
	}
	for k := 0; k < sb.n && l < h; k++ {
		rl, rr := sb.off(sb.r[k].left), sb.off(sb.r[k].right)
		if rr <= l {
			continue
		}
		if l < rl {
			return sb.at(l), int(min(rl, h) - l)
		}
		l = rr
	}
	if l < h {
		return sb.at(l), int(h - l)
	}
	return lo, 0
}

// pipeOf returns how many bytes Pipe counts for [lo, hi): its unSACKed
// octets once when not deemed lost, and once more when retransmitted.
func (sb *Scoreboard) pipeOf(lo, hi seqnum.V32) int {
	lost, rxt := sb.lostBound(), sb.off(sb.highRxt)
	n := 0
	for l := lo.Max(sb.highACK); l.LessThan(hi); {
		seq, k := sb.firstUnSACKed(l, hi)
		if k == 0 {
			break
		}
		a, b := sb.off(seq), sb.off(seq)+uint32(k)
		n += overlap(a, b, lost, sb.off(sb.highData)) + overlap(a, b, 0, rxt)
		l = seq.Add(seqnum.Size32(k))
	}
	return n
}

// OnRetransmitTimeout applies RFC 6675 §5.1 when the retransmission timer
// expires: recovery ends, the recovery point becomes SND.MAX, and until
// SND.UNA reaches it every unSACKed byte below it is deemed lost and no
// new recovery begins. HighRxt returns to SND.UNA, so NextSeg retransmits
// the holes again from the start, skipping SACKed data. With keepSACK
// false the SACK ranges are forgotten as well (RFC 2018 §8, for a peer
// that may renege); with true they are kept, as RFC 6675 §5.1 allows.
func (sb *Scoreboard) OnRetransmitTimeout(keepSACK bool) {
	sb.inRecovery = false
	sb.rtoActive = sb.highACK != sb.highData
	sb.rtoPoint = sb.highData
	sb.highRxt = sb.highACK
	sb.rescueUsed = false
	if !keepSACK {
		sb.Clear()
	}
}
