//go:build linux

// Package kdccp opens the Linux kernel's own DCCP sockets, the peer our
// stack is tested against. Linux removed DCCP in 6.16, so these sockets
// exist only in the VMs of internal/vm (Debian 12's 6.1 kernel with the
// dccp and dccp_ipv4 modules loaded); elsewhere Listen and Dial fail with
// the kernel's "protocol not supported" error.
//
// The calls are blocking system calls on plain file descriptors (no Go
// poller): a job inside the VM is a small sequential program. Options.Timeout
// sets SO_RCVTIMEO and SO_SNDTIMEO so that nothing blocks for ever.
package kdccp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// Constants of the Linux DCCP socket API (include/uapi/linux/dccp.h,
// include/linux/socket.h).
const (
	SockDCCP    = 6   // SOCK_DCCP
	IPProtoDCCP = 33  // IPPROTO_DCCP
	SolDCCP     = 269 // SOL_DCCP

	OptService        = 2  // DCCP_SOCKOPT_SERVICE: service code(s), network byte order
	OptGetCurMPS      = 5  // DCCP_SOCKOPT_GET_CUR_MPS: current maximum packet size
	OptServerTimewait = 6  // DCCP_SOCKOPT_SERVER_TIMEWAIT: the server holds TIMEWAIT
	OptAvailableCCIDs = 12 // DCCP_SOCKOPT_AVAILABLE_CCIDS
	OptCCID           = 13 // DCCP_SOCKOPT_CCID: preferred CCIDs for both directions
	OptTxCCID         = 14 // DCCP_SOCKOPT_TX_CCID
	OptRxCCID         = 15 // DCCP_SOCKOPT_RX_CCID
)

// Options configure a socket before it listens or connects.
type Options struct {
	// Service is the service code (RFC 4340 §8.1.2).
	Service uint32
	// CCID, if not 0, is the only CCID the socket offers for both
	// half-connections (2 or 3); 0 keeps the kernel's default offer.
	CCID uint8
	// ServerTimewait makes a server end with Close instead of CloseReq
	// and hold TIMEWAIT itself (RFC 4340 §8.3).
	ServerTimewait bool
	// Timeout, if not 0, bounds every blocking call (SO_RCVTIMEO,
	// SO_SNDTIMEO); an expired call fails with EAGAIN.
	Timeout time.Duration
}

// Socket is a kernel DCCP socket (IPv4).
type Socket struct {
	fd int
}

// Fd returns the file descriptor.
func (s *Socket) Fd() int { return s.fd }

func open(o Options, a netip.Addr) (*Socket, error) {
	fam := unix.AF_INET
	if a.Is6() && !a.Is4In6() {
		fam = unix.AF_INET6 // dccp_ipv6
	}
	fd, err := unix.Socket(fam, SockDCCP|unix.SOCK_CLOEXEC, IPProtoDCCP)
	if err != nil {
		return nil, fmt.Errorf("kdccp: socket(family %d, SOCK_DCCP, IPPROTO_DCCP): %w", fam, err)
	}
	s := &Socket{fd: fd}
	if err := s.configure(o); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return s, nil
}

func (s *Socket) configure(o Options) error {
	// The kernel copies the option's bytes into the packet's service code
	// field as they are: the value is given in network byte order.
	var svc [4]byte
	binary.BigEndian.PutUint32(svc[:], o.Service)
	if err := unix.SetsockoptString(s.fd, SolDCCP, OptService, string(svc[:])); err != nil {
		return fmt.Errorf("kdccp: set service code %d: %w", o.Service, err)
	}
	if o.CCID != 0 {
		if err := unix.SetsockoptString(s.fd, SolDCCP, OptCCID, string([]byte{o.CCID})); err != nil {
			return fmt.Errorf("kdccp: set CCID %d: %w", o.CCID, err)
		}
	}
	if o.ServerTimewait {
		if err := unix.SetsockoptInt(s.fd, SolDCCP, OptServerTimewait, 1); err != nil {
			return fmt.Errorf("kdccp: set server timewait: %w", err)
		}
	}
	if o.Timeout > 0 {
		tv := unix.NsecToTimeval(o.Timeout.Nanoseconds())
		for _, opt := range []int{unix.SO_RCVTIMEO, unix.SO_SNDTIMEO} {
			if err := unix.SetsockoptTimeval(s.fd, unix.SOL_SOCKET, opt, &tv); err != nil {
				return fmt.Errorf("kdccp: set timeout: %w", err)
			}
		}
	}
	return nil
}

// Listen opens a listening socket on addr (IPv4, or IPv6 with dccp_ipv6).
func Listen(addr netip.AddrPort, o Options, backlog int) (*Socket, error) {
	s, err := open(o, addr.Addr())
	if err != nil {
		return nil, err
	}
	if err := unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		s.Close()
		return nil, fmt.Errorf("kdccp: SO_REUSEADDR: %w", err)
	}
	if err := unix.Bind(s.fd, sockaddr(addr)); err != nil {
		s.Close()
		return nil, fmt.Errorf("kdccp: bind %v: %w", addr, err)
	}
	if err := unix.Listen(s.fd, backlog); err != nil {
		s.Close()
		return nil, fmt.Errorf("kdccp: listen %v: %w", addr, err)
	}
	return s, nil
}

// Dial connects to addr and returns when the handshake completed or
// failed. The error wraps the errno (EBADRQC for a wrong service code,
// ECONNREFUSED when nothing listens).
func Dial(addr netip.AddrPort, o Options) (*Socket, error) {
	s, err := open(o, addr.Addr())
	if err != nil {
		return nil, err
	}
	if err := unix.Connect(s.fd, sockaddr(addr)); err != nil {
		s.Close()
		return nil, fmt.Errorf("kdccp: connect %v: %w", addr, err)
	}
	return s, nil
}

// Accept waits for a connection on a listening socket.
func (s *Socket) Accept() (*Socket, netip.AddrPort, error) {
	fd, sa, err := unix.Accept4(s.fd, unix.SOCK_CLOEXEC)
	if err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("kdccp: accept: %w", err)
	}
	var peer netip.AddrPort
	switch in := sa.(type) {
	case *unix.SockaddrInet4:
		peer = netip.AddrPortFrom(netip.AddrFrom4(in.Addr), uint16(in.Port))
	case *unix.SockaddrInet6:
		peer = netip.AddrPortFrom(netip.AddrFrom16(in.Addr), uint16(in.Port))
	}
	return &Socket{fd: fd}, peer, nil
}

// Send sends b as one DCCP packet. Linux answers EAGAIN when its send
// queue is full, even on a blocking socket.
func (s *Socket) Send(b []byte) error {
	if err := unix.Sendmsg(s.fd, b, nil, nil, 0); err != nil {
		return fmt.Errorf("kdccp: send %d bytes: %w", len(b), err)
	}
	return nil
}

// Recv reads one packet into b and returns its length; 0 with a nil error
// means the connection ended (read SoError to tell a Reset from a close).
func (s *Socket) Recv(b []byte) (int, error) {
	n, _, _, _, err := unix.Recvmsg(s.fd, b, nil, 0)
	if err != nil {
		return 0, fmt.Errorf("kdccp: recv: %w", err)
	}
	return n, nil
}

// SoError returns and clears the socket's pending error (SO_ERROR).
func (s *Socket) SoError() error {
	v, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return err
	}
	if v != 0 {
		return unix.Errno(v)
	}
	return nil
}

// CurMPS returns the current maximum packet size (payload bytes).
func (s *Socket) CurMPS() (int, error) {
	return unix.GetsockoptInt(s.fd, SolDCCP, OptGetCurMPS)
}

// CCIDs returns the CCIDs in use for sending and receiving.
func (s *Socket) CCIDs() (tx, rx int, err error) {
	if tx, err = unix.GetsockoptInt(s.fd, SolDCCP, OptTxCCID); err != nil {
		return 0, 0, err
	}
	rx, err = unix.GetsockoptInt(s.fd, SolDCCP, OptRxCCID)
	return tx, rx, err
}

// Close closes the socket.
func (s *Socket) Close() error {
	if s.fd < 0 {
		return nil
	}
	err := unix.Close(s.fd)
	s.fd = -1
	return err
}

func sockaddr(a netip.AddrPort) unix.Sockaddr {
	if ip := a.Addr(); ip.Is6() && !ip.Is4In6() {
		return &unix.SockaddrInet6{Port: int(a.Port()), Addr: ip.As16()}
	}
	return &unix.SockaddrInet4{Port: int(a.Port()), Addr: a.Addr().As4()}
}
