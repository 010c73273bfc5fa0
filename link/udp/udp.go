package udp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link"
)

// Port is the UDP port IANA assigned to DCCP-UDP (RFC 6773 §7).
const Port = 6511

// dccpMinHeader is the shortest DCCP generic header (X = 0, RFC 4340 §5.1).
const dccpMinHeader = 12

// Config describes a DCCP-UDP endpoint.
type Config struct {
	// Local is the UDP address to bind; its IP must be specific (it is
	// the stack's address on this link). Port 0 picks a free port.
	Local netip.AddrPort
	// Peers maps a DCCP peer's IP address to the UDP endpoint that
	// reaches it when a connection starts; an address not listed is
	// reached at port Port. A connection started by the peer is answered
	// at the UDP address and port its datagrams come from (flows.go).
	Peers map[netip.Addr]netip.AddrPort
	// MTU is the largest IP packet the stack may write (default 1492: the
	// DCCP packet plus the outer IPv4 and UDP headers then fit 1500).
	MTU int
}

// Stats are an endpoint's counters.
type Stats struct {
	// Sent and Received count DCCP packets carried.
	Sent, Received uint64
	// NotDCCP counts IP packets from the stack that were not DCCP (there
	// is no way to carry them here).
	NotDCCP uint64
	// Malformed counts datagrams too short for a DCCP header or whose
	// Data Offset runs past their end (RFC 6773 §3.3), and IP packets from
	// the stack that did not parse.
	Malformed uint64
	// KernelDropped counts datagrams the kernel dropped for this socket
	// before the endpoint could read them: a zero UDP checksum or a bad
	// one (RFC 6773 §3.3), or a full receive buffer. Linux reports the
	// count with the next datagram read (SO_RXQ_OVFL); elsewhere it stays
	// zero. Linux checks the checksum of a datagram of up to 76 bytes
	// before it finds the socket: such a loss shows only in the system's
	// UdpInCsumErrors (nstat), not here.
	KernelDropped uint64
	// PortReuse counts DCCP packets dropped because their DCCP 4-tuple is
	// bound to another UDP peer (RFC 6773 §3.8, flows.go).
	PortReuse uint64
	// SendErrors counts datagrams the socket refused.
	SendErrors uint64
}

// Endpoint is a link.Endpoint carrying DCCP in UDP.
type Endpoint struct {
	conn  *net.UDPConn
	local netip.Addr
	peers map[netip.Addr]netip.AddrPort
	mtu   int

	mu     sync.Mutex
	flows  map[flowKey]netip.AddrPort // UDP peer of each active DCCP connection (flows.go)
	wbuf   []byte                     // DCCP packet with its checksum cleared
	recv   link.Receiver
	closed bool
	done   chan struct{}

	sent, received, notDCCP, malformed, sendErrs, kernelDrops, portReuse atomic.Uint64
}

// Open binds the UDP socket and starts the receive loop.
func Open(cfg Config) (*Endpoint, error) {
	la := cfg.Local.Addr().Unmap()
	if !la.IsValid() || la.IsUnspecified() {
		return nil, fmt.Errorf("udp: Local %v: a specific IP address is needed (it is the stack's address)", cfg.Local)
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(la, cfg.Local.Port())))
	if err != nil {
		return nil, fmt.Errorf("udp: %w", err)
	}
	if cfg.MTU == 0 {
		cfg.MTU = 1492
	}
	if err := prepareSocket(conn); err != nil {
		conn.Close()
		return nil, fmt.Errorf("udp: %w", err)
	}
	e := &Endpoint{conn: conn, local: la, peers: make(map[netip.Addr]netip.AddrPort), mtu: cfg.MTU,
		flows: make(map[flowKey]netip.AddrPort), wbuf: make([]byte, 65536), done: make(chan struct{})}
	for a, p := range cfg.Peers {
		e.peers[a.Unmap()] = netip.AddrPortFrom(p.Addr().Unmap(), p.Port())
	}
	go e.readLoop()
	return e, nil
}

// LocalAddrPort returns the bound UDP address.
func (e *Endpoint) LocalAddrPort() netip.AddrPort {
	a := e.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// MTU returns the largest IP packet the stack may write.
func (e *Endpoint) MTU() int { return e.mtu }

// Attach sets the receiver of incoming packets.
func (e *Endpoint) Attach(r link.Receiver) {
	e.mu.Lock()
	e.recv = r
	e.mu.Unlock()
}

// Stats returns the counters.
func (e *Endpoint) Stats() Stats {
	return Stats{Sent: e.sent.Load(), Received: e.received.Load(), NotDCCP: e.notDCCP.Load(),
		Malformed: e.malformed.Load(), SendErrors: e.sendErrs.Load(), KernelDropped: e.kernelDrops.Load(),
		PortReuse: e.portReuse.Load()}
}

// peerFor returns the UDP endpoint configured for the DCCP address a.
func (e *Endpoint) peerFor(a netip.Addr) netip.AddrPort {
	if p, ok := e.peers[a]; ok {
		return p
	}
	return netip.AddrPortFrom(a, Port)
}

// WritePackets sends the DCCP part of each IP packet to its peer's UDP
// endpoint, its DCCP Checksum field set to zero (RFC 6773 §3.3: the UDP
// checksum, which the kernel computes, does its work). Packets that are
// not DCCP are counted and skipped.
func (e *Endpoint) WritePackets(pkts [][]byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return 0, link.ErrClosed
	}
	for i, p := range pkts {
		if len(p) > e.mtu {
			return i, link.ErrTooBig
		}
		ip, err := wire.ParseIP(p)
		switch {
		case err != nil:
			e.malformed.Add(1)
			continue
		case ip.Protocol != wire.IPProtoDCCP:
			e.notDCCP.Add(1)
			continue
		}
		if len(ip.Payload) < dccpMinHeader {
			e.malformed.Add(1)
			continue
		}
		d := e.wbuf[:copy(e.wbuf, ip.Payload)]
		d[6], d[7] = 0, 0
		to := e.bindOutgoing(ip.Dst.Unmap(), wire.DCCP(d), e.peerFor(ip.Dst.Unmap()))
		if _, err := e.conn.WriteToUDPAddrPort(d, to); err != nil {
			e.sendErrs.Add(1)
			continue
		}
		e.sent.Add(1)
	}
	return len(pkts), nil
}

// readLoop receives datagrams until Close and delivers them as IP packets.
func (e *Endpoint) readLoop() {
	defer close(e.done)
	buf := make([]byte, 65536)
	oob := make([]byte, oobSize)
	pkt := make([]byte, wire.IPv6HeaderLen+65536)
	for {
		n, oobn, _, from, err := e.conn.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if k, ok := kernelDrops(oob[:oobn]); ok {
			e.kernelDrops.Store(k)
		}
		// The kernel has checked the UDP checksum and length (RFC 6773
		// §3.3); Wrap checks the DCCP header fits.
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		m, ok := Wrap(pkt, from.Addr(), e.local, buf[:n])
		if !ok {
			e.malformed.Add(1)
			continue
		}
		e.mu.Lock()
		admit := e.admitIncoming(from, wire.DCCP(buf[:n]))
		r := e.recv
		e.mu.Unlock()
		if !admit {
			e.portReuse.Add(1)
			continue
		}
		e.received.Add(1)
		if r != nil {
			r.DeliverPackets([][]byte{pkt[:m]})
		}
	}
}

// Wrap writes into b the IP packet that carries the DCCP packet d from
// src to dst, as the stack expects it (protocol 33, no options), and
// returns its length. The DCCP checksum d carries is ignored (RFC 6773
// §3.3: the UDP checksum, already verified, protects the packet, and a NAT
// that rewrote the outer addresses or ports left the DCCP one stale); Wrap
// writes the one the stack's check expects over src and dst. It reports
// false when d is not a DCCP packet whose header fits (§3.3), its checksum
// coverage runs past its end (RFC 4340 §9.2), the families differ, or b is
// too small.
func Wrap(b []byte, src, dst netip.Addr, d []byte) (int, bool) {
	src, dst = src.Unmap(), dst.Unmap()
	if _, err := wire.ParseDCCP(d); err != nil || src.Is4() != dst.Is4() {
		return 0, false
	}
	hl := wire.IPv6HeaderLen
	if src.Is4() {
		hl = wire.IPv4MinLen
	}
	if len(b) < hl+len(d) || hl+len(d) > 65535 {
		return 0, false
	}
	var err error
	if src.Is4() {
		h := wire.IPv4Header{Src: src, Dst: dst, Protocol: wire.IPProtoDCCP, TTL: wire.DefaultTTL, DontFragment: true}
		_, err = h.Encode(b, len(d))
	} else {
		h := wire.IPv6Header{Src: src, Dst: dst, NextHeader: wire.IPProtoDCCP, HopLimit: wire.DefaultTTL}
		_, err = h.Encode(b, len(d))
	}
	if err != nil {
		return 0, false
	}
	copy(b[hl:], d)
	if wire.DCCP(b[hl:hl+len(d)]).SetChecksum(src, dst) != nil {
		return 0, false
	}
	return hl + len(d), true
}

// Close closes the socket and waits for the receive loop to end.
func (e *Endpoint) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()
	err := e.conn.Close()
	<-e.done
	return err
}
