package netsim

import (
	"time"

	"github.com/teardown-lab/teardown/clock"
)

// defaultReorderDelay is the hold-back of a reordered packet when
// LinkConfig.ReorderDelay is zero.
const defaultReorderDelay = time.Millisecond

// transmit offers pkt to the direction at the current time and decides its
// fate. When owned is true pkt is a pool buffer that the direction now
// owns (a switch passing a packet on); otherwise it belongs to the caller
// and is copied if it is going to travel.
//
// The checks run in a fixed order (MTU, partition, queue) and the random
// faults draw from the Sim's generator in a fixed order (loss, duplicate,
// corrupt and its bit, reorder, jitter), each only when its probability or
// range is non-zero, so a seed and a traffic pattern fix the outcome.
func (d *linkDir) transmit(pkt []byte, owned bool) {
	s := d.sim
	now := s.now
	d.stats.Sent++
	if s.capture != nil {
		s.capture.WritePacket(now, pkt) //nolint:errcheck // a capture failure must not change the simulation
	}
	s.emit(Sent, NotDropped, d.from, d.to, pkt)
	cfg := &d.cfg
	if cfg.MTU > 0 && len(pkt) > cfg.MTU {
		d.drop(pkt, owned, DropMTU)
		return
	}
	if d.down || len(d.parts) > 0 && d.blocked(now) {
		d.drop(pkt, owned, DropPartition)
		return
	}
	depart := now
	if cfg.Bandwidth > 0 {
		var ok bool
		if depart, ok = d.serialize(now, len(pkt)); !ok {
			d.drop(pkt, owned, DropQueue)
			return
		}
	}
	if cfg.Loss > 0 && s.rng.Float64() < cfg.Loss {
		d.drop(pkt, owned, DropLoss)
		return
	}
	d.launch(pkt, owned, depart)
}

// serialize puts a packet of size bytes behind those already accepted and
// returns when its last bit leaves, or false if the queue is full.
func (d *linkDir) serialize(now clock.Instant, size int) (clock.Instant, bool) {
	cfg := &d.cfg
	limited := cfg.QueuePackets > 0 || cfg.QueueBytes > 0
	start := max(now, d.busyUntil)
	if limited {
		d.expireWaiting(now)
		if start > now {
			n := len(d.waiting) - d.waitHead
			if cfg.QueuePackets > 0 && n+1 > cfg.QueuePackets ||
				cfg.QueueBytes > 0 && d.waitBytes+size > cfg.QueueBytes {
				return 0, false
			}
			d.waiting = append(d.waiting, waiter{start, size})
			d.waitBytes += size
		}
	}
	// Whole nanoseconds: 1500 bytes at 1 Gbit/s is exactly 12µs.
	tx := clock.Instant(int64(size) * 8 * 1e9 / cfg.Bandwidth)
	d.busyUntil = start + tx
	return d.busyUntil, true
}

// expireWaiting forgets the queued packets whose serialization has
// started by now.
func (d *linkDir) expireWaiting(now clock.Instant) {
	for d.waitHead < len(d.waiting) && d.waiting[d.waitHead].start <= now {
		d.waitBytes -= d.waiting[d.waitHead].size
		d.waitHead++
	}
	switch {
	case d.waitHead == len(d.waiting):
		d.waiting, d.waitHead = d.waiting[:0], 0
	case d.waitHead > 64 && d.waitHead*2 > len(d.waiting):
		n := copy(d.waiting, d.waiting[d.waitHead:])
		d.waiting, d.waitHead = d.waiting[:n], 0
	}
}

// launch applies the in-flight faults to a packet that survived the queue
// and loss, and schedules its arrival (and that of its duplicate).
func (d *linkDir) launch(pkt []byte, owned bool, depart clock.Instant) {
	s := d.sim
	cfg := &d.cfg
	dup := cfg.Duplicate > 0 && s.rng.Float64() < cfg.Duplicate
	bit := -1
	if cfg.Corrupt > 0 && s.rng.Float64() < cfg.Corrupt && len(pkt) > 0 {
		bit = s.rng.IntN(len(pkt) * 8)
	}
	reorder := cfg.Reorder > 0 && s.rng.Float64() < cfg.Reorder
	arrive := depart.Add(cfg.Latency)
	if cfg.Jitter > 0 {
		arrive += clock.Instant(s.rng.Int64N(int64(cfg.Jitter) + 1))
	}
	if reorder {
		hold := cfg.ReorderDelay
		if hold == 0 {
			hold = defaultReorderDelay
		}
		arrive = arrive.Add(hold)
		d.stats.Reordered++
		s.emit(Reordered, NotDropped, d.from, d.to, pkt)
	} else {
		// FIFO: jitter may delay a packet but never lets it overtake the
		// one ahead; equal times keep their order by insertion.
		arrive = max(arrive, d.lastArrival)
		d.lastArrival = arrive
	}
	buf := pkt
	if !owned {
		buf = s.pool.get(len(pkt))
		copy(buf, pkt)
	}
	var twin []byte
	if dup {
		twin = s.pool.get(len(buf))
		copy(twin, buf) // the copy as sent, before any corruption
	}
	if bit >= 0 {
		buf[bit/8] ^= 1 << (7 - bit%8)
		d.stats.Corrupted++
		s.emit(Corrupted, NotDropped, d.from, d.to, buf)
	}
	s.schedulePacket(arrive, d, buf)
	if dup {
		d.stats.Duplicated++
		s.emit(Duplicated, NotDropped, d.from, d.to, twin)
		s.schedulePacket(arrive, d, twin)
	}
}

// drop discards a packet offered to the direction.
func (d *linkDir) drop(pkt []byte, owned bool, why DropReason) {
	switch why {
	case DropLoss:
		d.stats.Lost++
	case DropQueue:
		d.stats.QueueDrops++
	case DropPartition:
		d.stats.Partition++
	case DropMTU:
		d.stats.TooBig++
	}
	d.sim.emit(Dropped, why, d.from, d.to, pkt)
	if owned {
		d.sim.pool.put(pkt)
	}
}

// emit calls the observer, if any.
func (s *Sim) emit(k EventKind, why DropReason, from, to *node, pkt []byte) {
	if s.observer == nil {
		return
	}
	ev := PacketEvent{Time: s.now, Kind: k, Reason: why, Packet: pkt}
	if from != nil {
		ev.From = from.name
	}
	if to != nil {
		ev.To = to.name
	}
	s.observer(ev)
}

// flight is a packet travelling on a direction.
type flight struct {
	dir *linkDir
	buf []byte
}

// schedulePacket queues the arrival of buf at the far end of d.
func (s *Sim) schedulePacket(at clock.Instant, d *linkDir, buf []byte) {
	var i int32
	if n := len(s.free); n > 0 {
		i = s.free[n-1]
		s.free = s.free[:n-1]
	} else {
		i = int32(len(s.flights))
		s.flights = append(s.flights, flight{})
	}
	s.flights[i] = flight{dir: d, buf: buf}
	s.seq++
	s.events.push(event{at: at, seq: s.seq, flight: i})
}

// arrive handles the arrival event of flight i.
func (s *Sim) arrive(i int32) {
	d, buf := s.land(i)
	if h := d.to.host; h != nil {
		h.receive(d, buf) // returns buf to the pool
		return
	}
	d.to.sw.forward(buf)
}

// land frees flight slot i, counts the arrival on its direction and
// returns the direction and the packet, whose buffer the caller now owns.
func (s *Sim) land(i int32) (*linkDir, []byte) {
	f := s.flights[i]
	s.flights[i] = flight{}
	s.free = append(s.free, i)
	f.dir.stats.Delivered++
	f.dir.stats.Bytes += uint64(len(f.buf))
	return f.dir, f.buf
}
