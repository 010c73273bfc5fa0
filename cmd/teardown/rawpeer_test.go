//go:build linux

package main

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/teardown-lab/teardown/internal/netns"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// rawPeer is a TCP client made by hand on the kernel side of a TUN device:
// an AF_PACKET socket puts its segments straight onto the device (our stack
// reads them) and reads ours off it. Its address is one the kernel does not
// own, so the kernel neither answers our segments (no RST for a connection
// it does not know) nor forwards them (forwarding is off in the namespace):
// what the peer does not send, nobody sends for it. The test uses it as the
// peer that never acknowledges.
type rawPeer struct {
	t        *testing.T
	fd       int
	ifindex  int
	addr     netip.AddrPort // ours, the peer's
	server   netip.AddrPort
	sndNxt   seqnum.V32
	rcvNxt   seqnum.V32
	deadline time.Time // for every wait
}

// newRawPeer opens the packet socket on dev inside ns, for a peer at addr
// talking to server. Only packets to addr reach the socket (a BPF filter),
// so the traffic of other clients cannot crowd them out.
func newRawPeer(t *testing.T, ns *netns.NS, dev string, addr, server netip.AddrPort) *rawPeer {
	t.Helper()
	p := &rawPeer{t: t, addr: addr, server: server, deadline: time.Now().Add(60 * time.Second)}
	err := ns.Do(func() error {
		// No forwarding: a packet to addr arriving on dev is dropped by
		// the kernel without an ICMP error (ip_error with forwarding off).
		if err := writeSysctl("/proc/sys/net/ipv4/ip_forward", "0"); err != nil {
			return err
		}
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		p.ifindex = ifi.Index
		p.fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM, int(htons(unix.ETH_P_IP)))
		if err != nil {
			return err
		}
		dst := addr.Addr().As4()
		prog := []unix.SockFilter{
			{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 16}, // IPv4 destination
			{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: binary.BigEndian.Uint32(dst[:])},
			{Code: unix.BPF_RET | unix.BPF_K, K: 0xffff},
			{Code: unix.BPF_RET | unix.BPF_K, K: 0},
		}
		if err := unix.SetsockoptSockFprog(p.fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER,
			&unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}); err != nil {
			return err
		}
		tv := unix.NsecToTimeval(int64(200 * time.Millisecond))
		if err := unix.SetsockoptTimeval(p.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			return err
		}
		return unix.Bind(p.fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Ifindex: p.ifindex})
	})
	if err != nil {
		if p.fd > 0 {
			unix.Close(p.fd)
		}
		t.Fatalf("raw peer on %s: %v", dev, err)
	}
	t.Cleanup(func() { unix.Close(p.fd) })
	return p
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// send puts one segment from the peer onto the device.
func (p *rawPeer) send(flags wire.TCPFlags, payload []byte) {
	p.t.Helper()
	h := wire.TCPHeader{SrcPort: p.addr.Port(), DstPort: p.server.Port(), Seq: p.sndNxt, Ack: p.rcvNxt,
		Flags: flags, Window: 65535}
	if flags&wire.SYN != 0 {
		h.Options = wire.TCPOptions{HasMSS: true, MSS: 1400}
	}
	b := make([]byte, wire.TCPPacketLen(p.addr.Addr(), &h, len(payload)))
	n, err := wire.EncodeTCPPacket(b, p.addr.Addr(), p.server.Addr(), &h, payload)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := unix.Sendto(p.fd, b[:n], 0, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Ifindex: p.ifindex}); err != nil {
		p.t.Fatalf("raw peer: send: %v", err)
	}
}

// next returns the next segment from the server to the peer; it fails
// the test when none comes before the peer's deadline.
func (p *rawPeer) next() wire.TCP {
	p.t.Helper()
	buf := make([]byte, 65536)
	for time.Now().Before(p.deadline) {
		n, _, err := unix.Recvfrom(p.fd, buf, 0)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENETDOWN) {
			// ENETDOWN: the device went (serve ended); what it queued stays.
			continue
		}
		if err != nil {
			p.t.Fatalf("raw peer: receive: %v", err)
		}
		ip, err := wire.ParseIP(buf[:n])
		if err != nil || ip.Protocol != wire.IPProtoTCP || ip.Src != p.server.Addr() || ip.Dst != p.addr.Addr() {
			continue
		}
		seg, err := wire.ParseTCP(ip.Payload)
		if err != nil || seg.SrcPort() != p.server.Port() || seg.DstPort() != p.addr.Port() {
			continue
		}
		return append(wire.TCP(nil), seg...)
	}
	p.t.Fatalf("raw peer %s: nothing more from %s", p.addr, p.server)
	return nil
}

// connect does the three-way handshake and sends data with the final ACK:
// the last thing the peer ever acknowledges is the server's SYN.
func (p *rawPeer) connect(data string) {
	p.t.Helper()
	p.sndNxt = 0x1000_0000
	p.send(wire.SYN, nil)
	for {
		s := p.next()
		if s.Flags()&(wire.SYN|wire.ACK) == wire.SYN|wire.ACK && s.Ack() == p.sndNxt+1 {
			p.sndNxt++
			p.rcvNxt = s.Seq() + 1
			break
		}
	}
	p.send(wire.ACK|wire.PSH, []byte(data))
	p.sndNxt += seqnum.V32(len(data))
}

// waitRetransmission waits until the server has sent the same data
// segment twice: it got no ACK and tries again. It returns that data.
func (p *rawPeer) waitRetransmission() string {
	p.t.Helper()
	seen := map[seqnum.V32]int{}
	for {
		s := p.next()
		if len(s.Payload()) == 0 {
			continue
		}
		if seen[s.Seq()]++; seen[s.Seq()] == 2 {
			return string(s.Payload())
		}
	}
}

// waitRST waits for the server's RST.
func (p *rawPeer) waitRST() {
	p.t.Helper()
	for p.next().Flags()&wire.RST == 0 {
	}
}
