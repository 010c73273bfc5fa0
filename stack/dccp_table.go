package stack

import (
	"maps"
	"net/netip"
	"slices"
	"sync"

	"github.com/teardown-lab/teardown/internal/dccp"
	"github.com/teardown-lab/teardown/internal/seqnum"
)

// dccpTables are the stack's DCCP connections and listeners. DCCP ports
// are a namespace of their own (RFC 4340 §19.9): a TCP and a DCCP socket
// may share a port number.
type dccpTables struct {
	mu        sync.Mutex
	conns     map[fourTuple]*DCCPConn
	listeners map[uint16]*DCCPListener
	done      dccp.Counters // counters of connections already forgotten
	// resetsNoConn counts Resets sent for packets that matched no
	// connection or listener (RFC 4340 §8.5 step 2).
	resetsNoConn uint64
	tooBusy      uint64
	badService   uint64
	badHeader    uint64 // packets wire.ParseDCCP refused
	badChecksum  uint64
}

// count increments one of t's counters under t.mu.
func (t *dccpTables) count(n *uint64) {
	t.mu.Lock()
	*n++
	t.mu.Unlock()
}

func newDCCPTables() dccpTables {
	return dccpTables{conns: make(map[fourTuple]*DCCPConn), listeners: make(map[uint16]*DCCPListener)}
}

// DCCPStats are a stack's DCCP counters.
type DCCPStats struct {
	// Conns sums the counters of every DCCP connection, ended ones
	// included.
	Conns DCCPCounters
	// ResetsForNoConnection counts Resets (No Connection) sent for packets
	// that matched no connection or listener.
	ResetsForNoConnection uint64
	// ResetsTooBusy counts Requests refused with Reset (Too Busy) by a
	// full backlog.
	ResetsTooBusy uint64
	// ResetsBadServiceCode counts Requests refused for their service code.
	ResetsBadServiceCode uint64
	// BadHeader and BadChecksum count received packets dropped before
	// any connection saw them (RFC 4340 §8.5 step 1).
	BadHeader, BadChecksum uint64
	// Open counts connections in the table (TIMEWAIT included).
	Open int
}

// DCCPStats returns the stack's DCCP counters.
func (s *Stack) DCCPStats() DCCPStats {
	t := &s.dccp
	t.mu.Lock()
	sum := t.done
	st := DCCPStats{ResetsForNoConnection: t.resetsNoConn,
		ResetsTooBusy: t.tooBusy, ResetsBadServiceCode: t.badService,
		BadHeader: t.badHeader, BadChecksum: t.badChecksum, Open: len(t.conns)}
	cs := make([]*DCCPConn, 0, len(t.conns))
	for _, c := range t.conns {
		cs = append(cs, c)
	}
	t.mu.Unlock()
	for _, c := range cs {
		c.mu.Lock()
		sum.Add(c.core.Counters())
		c.mu.Unlock()
	}
	st.Conns = DCCPCounters(sum)
	return st
}

// dccpISS draws an initial sequence number (RFC 4340 §7.2: unpredictable;
// here from the stack's seeded generator, so simulated runs repeat).
func (s *Stack) dccpISS() seqnum.V48 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return seqnum.V48(s.rng.Uint64()) & seqnum.Mask48
}

// pickDCCPPort returns a free ephemeral DCCP port towards remote. The
// caller holds s.dccp.mu.
func (s *Stack) pickDCCPPort(local netip.Addr, remote netip.AddrPort) (uint16, bool) {
	s.mu.Lock()
	start := s.ephemeralStart()
	s.mu.Unlock()
	return s.searchEphemeral(start, func(p uint16) bool {
		if _, ok := s.dccp.listeners[p]; ok {
			return true
		}
		_, ok := s.dccp.conns[fourTuple{netip.AddrPortFrom(local, p), remote}]
		return ok
	})
}

// closeDCCP aborts every DCCP connection and closes every DCCP listener
// (Close's share for DCCP).
func (s *Stack) closeDCCP() {
	t := &s.dccp
	t.mu.Lock()
	ls := slices.Collect(maps.Values(t.listeners))
	cs := slices.Collect(maps.Values(t.conns))
	t.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
	for _, c := range cs {
		c.abort()
	}
}
