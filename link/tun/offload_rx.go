package tun

import (
	"sync/atomic"

	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/link/tun/vnethdr"
)

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
	// arena, valid until reset. verified[i] says whether out[i]'s TCP
	// checksum is vouched for (link.VerifiedReceiver): the kernel's
	// offloaded checksum, completed (or cut into segments) by us, or one
	// the kernel marked valid.
	out      [][]byte
	verified []bool
	ctr      *offloadCounters
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
	r.verified = r.verified[:0]
	r.used = 0
}

// add takes one read, b = vnet header + packet, and appends what it
// carries to r.out: nothing if the header is malformed (counted), the
// packet with its checksum completed, or the segments of a GSO packet.
// It returns false, having done nothing, when the arena lacks room for
// the segments: deliver r.out, reset, and add b again.
func (r *rxOffload) add(b []byte) bool {
	h, err := vnethdr.Parse(b)
	if err != nil {
		r.ctr.badVnet.Add(1)
		return true
	}
	p := b[vnethdr.Len:]
	if err := h.Check(len(p)); err != nil {
		r.ctr.badVnet.Add(1)
		return true
	}
	vouched := h.Flags&(vnethdr.NeedsCsum|vnethdr.DataValid) != 0
	if !h.IsTCPGSO() {
		if h.Flags&vnethdr.NeedsCsum != 0 {
			completeChecksum(p, &h)
		}
		r.push(p, vouched)
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
			n := len(r.out)
			r.out = gsoSplit(r.out, r.arena[r.used:r.used+need], p, ipHL, tcpHL, gso)
			for range len(r.out) - n {
				r.verified = append(r.verified, vouched)
			}
			r.used += need
			return true
		}
		// Tiny gso_size: more segments than the arena holds. Whole is
		// as good for our stack.
	}
	r.ctr.gsoIn.Add(1)
	r.ctr.gsoSegsIn.Add(uint64(gsoSegments(len(p)-ipHL-tcpHL, gso)))
	if h.Flags&vnethdr.NeedsCsum != 0 {
		completeChecksum(p, &h)
	}
	r.push(p, vouched)
	return true
}

// push appends one packet to the batch.
func (r *rxOffload) push(p []byte, verified bool) {
	r.out = append(r.out, p)
	r.verified = append(r.verified, verified)
}

// deliver hands the batch to recv: to a link.VerifiedReceiver in runs of
// vouched-for and other packets, in order; to any other whole.
func (r *rxOffload) deliver(recv link.Receiver) {
	vr, ok := recv.(link.VerifiedReceiver)
	if !ok {
		recv.DeliverPackets(r.out)
		return
	}
	for i := 0; i < len(r.out); {
		j := i + 1
		for j < len(r.out) && r.verified[j] == r.verified[i] {
			j++
		}
		if r.verified[i] {
			vr.DeliverVerifiedPackets(r.out[i:j])
		} else {
			vr.DeliverPackets(r.out[i:j])
		}
		i = j
	}
}
