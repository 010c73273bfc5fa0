//go:build linux

package dccpprobe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/teardown-lab/teardown/internal/vm/kdccp"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/link/tun"
)

// tunResult is what the TUN probe saw.
type tunResult struct {
	UDPPayload string       `json:"udp_payload"` // what the kernel UDP socket read
	UDPFrom    string       `json:"udp_from"`    // and from whom
	Request    *dccpRequest `json:"request"`     // the kernel client's Request, read from the device
	Err        string       `json:"err"`
}

// dccpRequest is the part of a DCCP-Request (RFC 4340 §5.1, §5.2) the
// probe decodes by hand, independently of internal/wire's DCCP code.
type dccpRequest struct {
	Src     string `json:"src"`  // IPv4 address:port
	Dst     string `json:"dst"`  // IPv4 address:port
	Type    int    `json:"type"` // packet type, 0 = Request
	X       bool   `json:"x"`    // extended (48-bit) sequence numbers
	Service uint32 `json:"service"`
}

var (
	tunPrefix = netip.MustParsePrefix("10.77.0.1/24") // the kernel's side
	ourAddr   = netip.MustParseAddr("10.77.0.2")      // behind the device
)

func probeTUN(service uint32, timeout time.Duration) (res tunResult) {
	if err := tunProbe(service, timeout, &res); err != nil {
		res.Err = err.Error()
	}
	return res
}

func tunProbe(service uint32, timeout time.Duration, res *tunResult) error {
	dev, err := tun.Open(tun.Config{Name: "td0", KernelAddr: tunPrefix})
	if err != nil {
		return err
	}
	defer dev.Close()
	requests := make(chan dccpRequest, 1)
	dev.Attach(link.ReceiverFunc(func(pkts [][]byte) {
		for _, p := range pkts {
			if r, ok := parseRequest(p); ok {
				select {
				case requests <- r:
				default:
				}
			}
		}
	}))
	if err := udpThroughTUN(dev, timeout, res); err != nil {
		return err
	}
	// A kernel DCCP client of an address behind the device: its Request
	// leaves through the device. connect gives up after a second
	// (SO_SNDTIMEO), long after the first Request went out.
	dialed := make(chan struct{})
	go func() {
		defer close(dialed)
		dst := netip.AddrPortFrom(ourAddr, loopbackPort)
		if c, err := kdccp.Dial(dst, kdccp.Options{Service: service, Timeout: time.Second}); err == nil {
			c.Close()
		}
	}()
	defer func() { <-dialed }()
	select {
	case r := <-requests:
		res.Request = &r
	case <-time.After(timeout):
		return errors.New("no DCCP packet came out of the TUN device")
	}
	return nil
}

// udpThroughTUN writes an IPv4/UDP packet into the device and reads it
// from a kernel UDP socket.
func udpThroughTUN(dev *tun.Device, timeout time.Duration, res *tunResult) error {
	kaddr := netip.AddrPortFrom(tunPrefix.Addr(), 9000)
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(kaddr))
	if err != nil {
		return err
	}
	defer conn.Close()
	pkt := udpPacket(netip.AddrPortFrom(ourAddr, 5555), kaddr, []byte("through the tun device"))
	if _, err := dev.WritePackets([][]byte{pkt}); err != nil {
		return err
	}
	conn.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, 1500)
	n, from, err := conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		return fmt.Errorf("kernel UDP socket: %w", err)
	}
	res.UDPPayload, res.UDPFrom = string(buf[:n]), from.String()
	return nil
}

// udpPacket builds an IPv4 packet (RFC 791) holding a UDP datagram
// (RFC 768) whose checksum is 0, "not computed", which IPv4 allows.
func udpPacket(src, dst netip.AddrPort, payload []byte) []byte {
	p := make([]byte, 28+len(payload))
	p[0] = 0x45 // version 4, header 5 words
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	p[8] = 64 // TTL
	p[9] = 17 // UDP
	s, d := src.Addr().As4(), dst.Addr().As4()
	copy(p[12:16], s[:])
	copy(p[16:20], d[:])
	binary.BigEndian.PutUint16(p[10:], wire.Checksum(p[:20]))
	binary.BigEndian.PutUint16(p[20:], src.Port())
	binary.BigEndian.PutUint16(p[22:], dst.Port())
	binary.BigEndian.PutUint16(p[24:], uint16(8+len(payload)))
	copy(p[28:], payload)
	return p
}

// parseRequest decodes an IPv4 packet carrying a DCCP packet: ports, type
// and X from the generic header (RFC 4340 §5.1) and, for a Request with
// 48-bit sequence numbers, the service code after the 16-byte generic
// header (§5.2).
func parseRequest(p []byte) (dccpRequest, bool) {
	if len(p) < 20 || p[0]>>4 != 4 || p[9] != 33 {
		return dccpRequest{}, false
	}
	ihl := int(p[0]&0x0f) * 4
	if ihl < 20 || len(p) < ihl+20 {
		return dccpRequest{}, false
	}
	d := p[ihl:]
	src := netip.AddrPortFrom(netip.AddrFrom4([4]byte(p[12:16])), binary.BigEndian.Uint16(d[0:]))
	dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte(p[16:20])), binary.BigEndian.Uint16(d[2:]))
	r := dccpRequest{Src: src.String(), Dst: dst.String(), Type: int(d[8]>>1) & 0x0f, X: d[8]&1 == 1}
	if r.Type == 0 && r.X {
		r.Service = binary.BigEndian.Uint32(d[16:20])
	}
	return r, true
}
