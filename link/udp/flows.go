package udp

import (
	"net/netip"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
)

// RFC 6773 §3.8 names a DCCP-UDP connection by its 6-tuple: both IP
// addresses, both UDP ports and both DCCP ports. The stack behind this
// endpoint sees only the DCCP 4-tuple (the IP addresses are the outer
// ones, the UDP ports are gone), so two clients behind one NAPT that
// happen to pick the same DCCP source port would reach the same DCCP
// connection. Of the two methods §3.8 allows, this endpoint follows the
// second (several DCCP connections may share a UDP 4-tuple, each 6-tuple
// is one connection): it binds each DCCP 4-tuple to the UDP address and
// port of the peer while the connection is active, and drops, uncounted
// by the stack, a packet of that DCCP 4-tuple from another UDP source
// (counted in Stats.PortReuse; the Reset with code 12, Encapsulated Port
// Reuse, is a MAY there and is not sent). A binding ends when a DCCP-Reset
// of the connection passes either way (every DCCP connection ends with
// one, RFC 4340 §8.3), or when it saw no packet either way for
// FlowIdleTimeout: several endings send no Reset (a server's RESPOND
// state timing out, a client's Requests given up), and without the
// timeout a peer that sends Requests and never completes them would leave
// one binding each, for good. The table also holds at most MaxFlows
// bindings; a packet that would need one more is dropped (incoming) or
// sent unbound (outgoing) and counted in Stats.FlowsFull.

// FlowIdleTimeout is how long a binding lives without a packet either
// way. DCCP has no keepalive, so a live connection may idle longer; its
// next packet from the peer binds it again (to the same UDP source, the
// only one there is unless a NAT changed it). What such a connection
// loses is the answer address for a packet the stack sends first after
// the idle time: it goes to Config.Peers or port 6511 instead of the UDP
// source. Ten minutes is beyond DCCP's own waits — RESPOND and PARTOPEN
// last at most 4 MSL, 8 minutes with the RFC's MSL (RFC 4340 §8.1.3,
// §8.1.5), TIMEWAIT 2 MSL, and a client's Request backoff is capped at
// 64 s (§8.1.1) — and beyond the UDP mapping timeout a NAT is advised to
// keep (5 minutes, RFC 4787 REQ-5), after which a path through a NAT is
// gone anyway.
const FlowIdleTimeout = 10 * time.Minute

// MaxFlows is the default cap on the bindings held at once (a binding
// costs under 100 bytes: the full table is a few MB).
const MaxFlows = 1 << 16

// minSweep is the table size below which no sweep runs.
const minSweep = 256

// flowKey is a DCCP 4-tuple as this endpoint sees it.
type flowKey struct {
	peer                netip.Addr
	peerPort, localPort uint16
}

// flow is a binding: the UDP peer and when the connection last had a
// packet either way.
type flow struct {
	to   netip.AddrPort
	seen clock.Instant
}

// flowTable holds the bindings; the Endpoint's mu guards it.
type flowTable struct {
	m         map[flowKey]flow
	clk       clock.Clock
	idle      time.Duration
	max       int
	nextSweep int           // sweep for idle bindings once the table grows to this
	lastSweep clock.Instant // when the last sweep ran
}

func newFlowTable(clk clock.Clock, idle time.Duration, max int) flowTable {
	return flowTable{m: make(map[flowKey]flow), clk: clk, idle: idle, max: max, nextSweep: minSweep}
}

// bind records k's binding to the UDP endpoint to at now, making room
// first; it reports false if the table is full of live bindings.
func (t *flowTable) bind(k flowKey, to netip.AddrPort, now clock.Instant) bool {
	if len(t.m) >= t.nextSweep || len(t.m) >= t.max && now.Sub(t.lastSweep) >= t.idle/8 {
		t.sweep(now)
	}
	if len(t.m) >= t.max {
		return false
	}
	t.m[k] = flow{to, now}
	return true
}

// sweep forgets the bindings idle for longer than the timeout. It runs
// when the table doubled since the last sweep, so its cost is spread over
// the insertions, or, rate-limited, when the table is full.
func (t *flowTable) sweep(now clock.Instant) {
	for k, f := range t.m {
		if now.Sub(f.seen) > t.idle {
			delete(t.m, k)
		}
	}
	t.lastSweep = now
	t.nextSweep = max(2*len(t.m), minSweep)
}

// lookup returns k's binding if it has one that has not idled out.
func (t *flowTable) lookup(k flowKey, now clock.Instant) (flow, bool) {
	f, ok := t.m[k]
	if ok && now.Sub(f.seen) > t.idle {
		delete(t.m, k)
		return flow{}, false
	}
	return f, ok
}

// outgoing records the UDP endpoint a packet d to peer is sent to and
// returns where to send it: the bound UDP endpoint if the connection has
// one (replies go where the peer's datagrams come from, §3.8: a server
// accepts any UDP source port, which a NAT may have rewritten), else def.
// full reports a binding refused for want of room.
func (t *flowTable) outgoing(peer netip.Addr, d wire.DCCP, def netip.AddrPort) (to netip.AddrPort, full bool) {
	k := flowKey{peer, d.DstPort(), d.SrcPort()}
	now := t.clk.Now()
	f, ok := t.lookup(k, now)
	switch {
	case d.Type() == wire.DCCPReset:
		delete(t.m, k)
	case ok:
		t.m[k] = flow{f.to, now}
	default:
		return def, !t.bind(k, def, now)
	}
	if !ok {
		return def, false
	}
	return f.to, false
}

// incoming reports whether packet d from the UDP endpoint from may reach
// the stack, binding its DCCP 4-tuple to from if it has no binding; if
// not, full tells a table without room from a port reuse.
func (t *flowTable) incoming(from netip.AddrPort, d wire.DCCP) (admit, full bool) {
	k := flowKey{from.Addr(), d.SrcPort(), d.DstPort()}
	now := t.clk.Now()
	f, ok := t.lookup(k, now)
	switch {
	case ok && f.to != from:
		return false, false
	case d.Type() == wire.DCCPReset:
		delete(t.m, k)
	case ok:
		t.m[k] = flow{from, now}
	case !t.bind(k, from, now):
		return false, true
	}
	return true, false
}
