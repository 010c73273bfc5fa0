package cc

import (
	"time"

	"github.com/teardown-lab/teardown/internal/seqnum"
)

// HyStart++'s constants (RFC 9406 §4.3).
const (
	hsMinRTTThresh    = 4 * time.Millisecond
	hsMaxRTTThresh    = 16 * time.Millisecond
	hsMinRTTDivisor   = 8
	hsNRTTSample      = 8
	hsCSSGrowthDiv    = 4
	hsCSSRounds       = 5
	hsNoRTT           = time.Duration(1<<63 - 1) // "infinity"
	hsPhaseSlowStart  = 0
	hsPhaseCSS        = 1
	hsPhaseDone       = 2
	hsPhaseNotStarted = 3
)

// hystart is RFC 9406's HyStart++, shared by both algorithms: it watches
// the smallest RTT of each round of slow start and, when it grows by more
// than RttThresh, moves into Conservative Slow Start (CSS), which grows a
// quarter as fast and, after CSS_ROUNDS rounds of still-grown RTT, ends
// slow start by setting ssthresh to cwnd (§4.2). An RTT that falls back
// below the baseline during CSS was a false exit and resumes slow start.
//
// It runs only in the first slow start of a connection; a congestion
// event or a timeout ends it (§4.2: loss in slow start or CSS exits to
// congestion avoidance; §4.3 leaves later slow starts to standard slow
// start, which is what Linux does after a timeout too).
type hystart struct {
	// windowEnd is SND.NXT when the current round began; the round ends
	// when the cumulative ACK reaches it (§4.2).
	windowEnd         seqnum.V32
	lastRoundMinRTT   time.Duration
	currentRoundMin   time.Duration
	cssBaselineMinRTT time.Duration
	rttSamples        int32
	cssRounds         int16
	phase             uint8
}

func newHystart() hystart {
	return hystart{
		lastRoundMinRTT:   hsNoRTT,
		currentRoundMin:   hsNoRTT,
		cssBaselineMinRTT: hsNoRTT,
		phase:             hsPhaseNotStarted,
	}
}

// growthDivisor is how much slower than standard slow start cwnd grows on
// this ACK: 1, or CSS_GROWTH_DIVISOR in CSS (§4.2).
func (h *hystart) growthDivisor() int {
	if h.phase == hsPhaseCSS {
		return hsCSSGrowthDiv
	}
	return 1
}

// onSlowStartAck takes one ACK received in slow start and reports whether
// slow start ends now (CSS ran its CSS_ROUNDS rounds): the caller then sets
// ssthresh to cwnd (§4.2).
func (h *hystart) onSlowStartAck(a Ack) (exit bool) {
	if h.phase == hsPhaseDone {
		return false
	}
	if h.phase == hsPhaseNotStarted {
		h.phase = hsPhaseSlowStart
		h.windowEnd = a.SndNxt
	}
	if a.RTT > 0 {
		h.currentRoundMin = min(h.currentRoundMin, a.RTT)
		h.rttSamples++
	}
	if h.windowEnd.LessThanEq(a.Una) {
		// A round ended: the next begins with what is sent from now on.
		h.lastRoundMinRTT = h.currentRoundMin
		h.currentRoundMin = hsNoRTT
		h.rttSamples = 0
		h.windowEnd = a.SndNxt
		if h.phase == hsPhaseCSS {
			h.cssRounds++
			if h.cssRounds >= hsCSSRounds {
				h.phase = hsPhaseDone
				return true
			}
		}
		return false
	}
	if h.rttSamples < hsNRTTSample || h.currentRoundMin == hsNoRTT {
		return false
	}
	switch h.phase {
	case hsPhaseSlowStart:
		if h.lastRoundMinRTT == hsNoRTT {
			return false
		}
		// RttThresh = clamp(lastRoundMinRTT / MIN_RTT_DIVISOR,
		// MIN_RTT_THRESH, MAX_RTT_THRESH) (§4.2).
		thresh := max(hsMinRTTThresh, min(h.lastRoundMinRTT/hsMinRTTDivisor, hsMaxRTTThresh))
		if h.currentRoundMin >= h.lastRoundMinRTT+thresh {
			h.cssBaselineMinRTT = h.currentRoundMin
			h.phase = hsPhaseCSS
			h.cssRounds = 0
		}
	case hsPhaseCSS:
		if h.currentRoundMin < h.cssBaselineMinRTT {
			// §4.2: the RTT fell back, the exit was spurious.
			h.cssBaselineMinRTT = hsNoRTT
			h.phase = hsPhaseSlowStart
		}
	}
	return false
}

// stop ends HyStart++ for the connection (loss or timeout).
func (h *hystart) stop() { h.phase = hsPhaseDone }
