package tun

import "sync/atomic"

// offloadCounters are the offload figures of Stats.
type offloadCounters struct {
	gsoOut, gsoSegsOut, gsoIn, gsoSegsIn, badVnet, badGSO atomic.Uint64
}

// splitArenaLen is the room for the segments cut from GSO packets in one
// delivery: four 64 KiB packets with their copied headers.
const splitArenaLen = 4 * (gsoMaxLen + maxGSOSegments*gsoHdrMax)

// rxOffload turns what an offloading device reads (a vnet header, then a
// packet) into packets for the stack. It belongs to the reader goroutine.
type rxOffload struct {
	// split: cut GSO packets into gso_size segments (Config.SplitGSO).
	split bool
	arena []byte
	used  int
	// out is the batch to deliver: slices of the read buffers and of
	// arena, valid until reset.
	out [][]byte
	ctr *offloadCounters
}

func newRxOffload(split bool, ctr *offloadCounters) *rxOffload {
	r := &rxOffload{split: split, ctr: ctr}
	if split {
		r.arena = make([]byte, splitArenaLen)
	}
	return r
}

// reset empties the batch after delivery.
func (r *rxOffload) reset() {
	clear(r.out)
	r.out = r.out[:0]
	r.used = 0
}

// add takes one read, b = vnet header + packet, and appends what it
// carries to r.out: nothing if the header is malformed (counted), the
// packet with its checksum completed, or the segments of a GSO packet.
// It returns false, having done nothing, when the arena lacks room for
// the segments: deliver r.out, reset, and add b again.
func (r *rxOffload) add(b []byte) bool {
	vh, err := parseVnetHdr(b)
	if err != nil {
		r.ctr.badVnet.Add(1)
		return true
	}
	h := vh.Decode()
	p := b[vnetHdrLen:]
	if err := h.Check(len(p)); err != nil {
		r.ctr.badVnet.Add(1)
		return true
	}
	if !h.isTCPGSO() {
		if h.Flags&vnetNeedsCsum != 0 {
			completeChecksum(p, &h)
		}
		r.out = append(r.out, p)
		return true
	}
	ipHL, tcpHL, err := gsoTCPHeaders(p, &h)
	if err != nil {
		r.ctr.badGSO.Add(1)
		return true
	}
	gso := int(h.GSOSize)
	if r.split {
		need := gsoSplitLen(p, ipHL+tcpHL, gso)
		if need <= len(r.arena) {
			if r.used+need > len(r.arena) {
				return false
			}
			r.ctr.gsoIn.Add(1)
			r.ctr.gsoSegsIn.Add(uint64(gsoSegments(len(p)-ipHL-tcpHL, gso)))
			r.out = gsoSplit(r.out, r.arena[r.used:r.used+need], p, ipHL, tcpHL, gso)
			r.used += need
			return true
		}
		// Tiny gso_size: more segments than the arena holds. Whole is
		// as good for our stack.
	}
	r.ctr.gsoIn.Add(1)
	r.ctr.gsoSegsIn.Add(uint64(gsoSegments(len(p)-ipHL-tcpHL, gso)))
	if h.Flags&vnetNeedsCsum != 0 {
		completeChecksum(p, &h)
	}
	r.out = append(r.out, p)
	return true
}
