package netsim

import (
	"net/netip"

	"github.com/teardown-lab/teardown/internal/wire"
)

// Node is a place packets can be: a *Host or a *Switch.
type Node interface {
	// Name returns the name the node was created with.
	Name() string
	base() *node
}

// node is what hosts and switches share: their outgoing link directions
// and a routing table computed from the topology.
type node struct {
	sim  *Sim
	name string
	out  []*linkDir // outgoing directions, in the order links were made
	host *Host      // set when the node is a host
	sw   *Switch    // set when the node is a switch

	routes    map[netip.Addr]*linkDir
	routesVer uint64
	lastDst   netip.Addr // one-entry cache in front of routes
	lastDir   *linkDir
}

// Name returns the node's name.
func (n *node) Name() string { return n.name }

func (n *node) base() *node { return n }

// dstAddr reads the destination address of an IPv4 (RFC 791 §3.1) or IPv6
// (RFC 8200 §3) packet without validating anything else.
func dstAddr(pkt []byte) (netip.Addr, bool) {
	if len(pkt) == 0 {
		return netip.Addr{}, false
	}
	switch pkt[0] >> 4 {
	case 4:
		if len(pkt) < wire.IPv4MinLen {
			return netip.Addr{}, false
		}
		return netip.AddrFrom4([4]byte(pkt[16:20])), true
	case 6:
		if len(pkt) < wire.IPv6HeaderLen {
			return netip.Addr{}, false
		}
		return netip.AddrFrom16([16]byte(pkt[24:40])), true
	}
	return netip.Addr{}, false
}

// route returns the outgoing direction toward the owner of dst, or nil.
func (n *node) route(dst netip.Addr) *linkDir {
	if n.routesVer != n.sim.topology || n.routes == nil {
		n.buildRoutes()
	}
	if n.lastDir != nil && dst == n.lastDst {
		return n.lastDir
	}
	d := n.routes[dst]
	if d != nil {
		n.lastDst, n.lastDir = dst, d
	}
	return d
}

// buildRoutes finds, for every address reachable from n, the first hop of
// a shortest path to its owner. Hosts do not forward, switches do; the
// search visits links in the order they were made, so ties between equal
// paths (and between hosts claiming the same address) always resolve the
// same way.
func (n *node) buildRoutes() {
	type item struct {
		at    *node
		first *linkDir
	}
	routes := make(map[netip.Addr]*linkDir)
	seen := map[*node]bool{n: true}
	var queue []item
	for _, d := range n.out {
		if !seen[d.to] {
			seen[d.to] = true
			queue = append(queue, item{d.to, d})
		}
	}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		if h := it.at.host; h != nil {
			for _, a := range h.addrs {
				if _, ok := routes[a]; !ok {
					routes[a] = it.first
				}
			}
			continue
		}
		for _, d := range it.at.out {
			if !seen[d.to] {
				seen[d.to] = true
				queue = append(queue, item{d.to, it.first})
			}
		}
	}
	n.routes = routes
	n.routesVer = n.sim.topology
	n.lastDst, n.lastDir = netip.Addr{}, nil
}

// self returns the Host or Switch that n belongs to.
func (n *node) self() Node {
	if n.host != nil {
		return n.host
	}
	return n.sw
}
