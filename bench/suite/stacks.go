package suite

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	gvtcp "gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"github.com/teardown-lab/teardown/bench/gvlink"
	"github.com/teardown-lab/teardown/bench/shape"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/link/pipe"
	"github.com/teardown-lab/teardown/stack"
)

// Stack names, as in the JSON columns.
const (
	Ours   = "ours"
	GVisor = "gvisor"
	Kernel = "kernel"
	// GVisorDrained is gVisor over gvlink.Pair, drained by the writing
	// goroutine, instead of GVisor's gvlink.PumpedPair (a goroutine per
	// direction, the reference link model, and the faster of the
	// two for gVisor in bulk and churn).
	GVisorDrained = "gvisor-drained"
	// GVisorTuned is gVisor configured as tailscale configures it
	// (gvlink.StackOptions.Tailscale: RACK off, Reno, receive-buffer
	// moderation on, its buffer ranges) over the same link as GVisor.
	GVisorTuned = "gvisor-tuned"
	// OursChecked is Ours over a pipe that does not vouch for checksums
	// (pipe.VouchChecksums): every received segment's checksum is
	// verified again, as over a wire. Ours's pipe vouches: it cannot
	// corrupt a packet, and GVisorRXOffload is gVisor with the same trust.
	OursChecked = "ours-checked"
	// GVisorRXOffload is GVisor with receive checksum offload on both
	// channel endpoints (stack.CapabilityRXChecksumOffload): gVisor then
	// skips verifying received checksums, as ours does over a vouching
	// pipe. GVisor and GVisorTuned verify every segment.
	GVisorRXOffload = "gvisor-rxcsum"
)

// BufferSize is the send and receive buffer of every connection of ours
// and gVisor's (the kernel keeps its own autotuned sizes).
const BufferSize = 1 << 20

// timeWait is TIME-WAIT's length for ours and gVisor in the churn runs,
// and ephemeralPorts their range of local ports: short and wide, so that
// ports come back within a run — a client opening c connections a second
// holds c × timeWait ports in TIME-WAIT, here at most 49,536 (above
// 99,000 conn/s a run would fail with EADDRNOTAVAIL). It was 1 s until
// ours passed 49,000 conn/s in churn-64 at a quiet moment and a run failed
// so. The kernel keeps its 60 s and its own range, and reuses TIME-WAIT
// ports on loopback (tcp_tw_reuse = 2).
const timeWait = 500 * time.Millisecond

var ephemeralPorts = [2]uint16{16000, 65535} // gVisor's default range

var (
	clientAddr = netip.MustParseAddr("10.7.0.1")
	serverAddr = netip.MustParseAddr("10.7.0.2")
)

// Pair is a client host and a server host joined by an in-memory link.
type Pair interface {
	Listen(port uint16) (net.Listener, error)
	Dial(ctx context.Context, port uint16) (net.Conn, error)
	// Retransmits sums the segments both hosts retransmitted.
	Retransmits() uint64
	Close()
}

// NewPair builds the named stack's pair over a link of the given MTU.
func NewPair(name string, mtu int) (Pair, error) {
	return NewPathPair(name, mtu, shape.Path{}, shape.Path{})
}

// NewPathPair is NewPair with each direction of the link taking a path:
// up from client to server, down back. The kernel takes no path.
func NewPathPair(name string, mtu int, up, down shape.Path) (Pair, error) {
	impaired := up != (shape.Path{}) || down != (shape.Path{})
	switch name {
	case Ours:
		return newOursPath(mtu, up, down, pipe.VouchChecksums())
	case OursChecked:
		return newOursPath(mtu, up, down)
	case GVisor:
		return newGVisor(mtu, true, false, up, down)
	case GVisorRXOffload:
		if impaired {
			return nil, ErrNotMeasurable
		}
		return newGVisor(mtu, true, false, up, down, gvstack.CapabilityRXChecksumOffload)
	case GVisorTuned:
		return newGVisor(mtu, true, true, up, down)
	case GVisorDrained:
		if impaired {
			return nil, ErrNotMeasurable
		}
		return newGVisor(mtu, false, false, up, down)
	case Kernel:
		if impaired {
			return nil, ErrNotMeasurable
		}
		return kernelPair{}, nil
	}
	return nil, fmt.Errorf("suite: unknown stack %q", name)
}

type oursPair struct{ client, server *stack.Stack }

func newOurs(mtu int) (*oursPair, error) {
	return newOursPath(mtu, shape.Path{}, shape.Path{}, pipe.VouchChecksums())
}

// newOursPath joins two of our stacks by a pipe that lends the writer's
// buffers and has the extra options popts.
func newOursPath(mtu int, up, down shape.Path, popts ...pipe.Option) (*oursPair, error) {
	var a, b link.Endpoint
	a, b = pipe.New(mtu, append(popts, pipe.ShareBuffers())...)
	if up != (shape.Path{}) || down != (shape.Path{}) {
		a, b = shape.NewLink(a, up), shape.NewLink(b, down)
	}
	opts := stack.TCPOptions{SendBuffer: BufferSize, ReceiveBuffer: BufferSize, MSL: timeWait / 2}
	c, err := stack.New(stack.Config{Name: "client", Addrs: []netip.Addr{clientAddr}, Link: a, TCP: opts, EphemeralPorts: ephemeralPorts})
	if err != nil {
		return nil, err
	}
	s, err := stack.New(stack.Config{Name: "server", Addrs: []netip.Addr{serverAddr}, Link: b, TCP: opts})
	if err != nil {
		return nil, err
	}
	return &oursPair{c, s}, nil
}

func (p *oursPair) Listen(port uint16) (net.Listener, error) {
	return p.server.ListenTCP(port, stack.ListenOptions{Backlog: 4096})
}

func (p *oursPair) Dial(ctx context.Context, port uint16) (net.Conn, error) {
	return p.client.DialTCP(ctx, netip.AddrPortFrom(serverAddr, port))
}

func (p *oursPair) Retransmits() uint64 {
	return p.client.Stats().TCP.Retransmits + p.server.Stats().TCP.Retransmits
}

func (p *oursPair) Close() { p.client.Close(); p.server.Close() }

type gvPair struct {
	client, server *gvstack.Stack
	stop           func()
}

// newGVisor joins two gVisor stacks by channel endpoints, pumped or
// drained, whose capabilities are caps.
func newGVisor(mtu int, pumped, tailscale bool, up, down shape.Path, caps ...gvstack.LinkEndpointCapabilities) (*gvPair, error) {
	var a, b *channel.Endpoint
	stop := func() {}
	if up != (shape.Path{}) || down != (shape.Path{}) {
		a, b, stop = gvlink.PathPair(mtu, up, down)
	} else if pumped {
		a, b, stop = gvlink.PumpedPair(mtu)
	} else {
		a, b = gvlink.Pair(mtu)
	}
	for _, c := range caps {
		a.LinkEPCapabilities |= c
		b.LinkEPCapabilities |= c
	}
	opts := func(addr netip.Addr) gvlink.StackOptions {
		return gvlink.StackOptions{Addr: addr, SendBuffer: BufferSize, ReceiveBuffer: BufferSize, Tailscale: tailscale}
	}
	c, err := gvlink.NewStack(a, opts(clientAddr))
	if err != nil {
		stop()
		return nil, err
	}
	s, err := gvlink.NewStack(b, opts(serverAddr))
	if err != nil {
		c.Close()
		stop()
		return nil, err
	}
	for _, st := range []*gvstack.Stack{c, s} {
		tw := tcpip.TCPTimeWaitTimeoutOption(timeWait)
		if err := st.SetTransportProtocolOption(gvtcp.ProtocolNumber, &tw); err != nil {
			return nil, fmt.Errorf("suite: gVisor TIME-WAIT: %v", err)
		}
		if err := st.SetPortRange(ephemeralPorts[0], ephemeralPorts[1]); err != nil {
			return nil, fmt.Errorf("suite: gVisor port range: %v", err)
		}
	}
	return &gvPair{c, s, stop}, nil
}

func (p *gvPair) Listen(port uint16) (net.Listener, error) {
	return gonet.ListenTCP(p.server, gvlink.FullAddr(netip.AddrPortFrom(serverAddr, port)), ipv4.ProtocolNumber)
}

func (p *gvPair) Dial(ctx context.Context, port uint16) (net.Conn, error) {
	return gonet.DialContextTCP(ctx, p.client, gvlink.FullAddr(netip.AddrPortFrom(serverAddr, port)), ipv4.ProtocolNumber)
}

func (p *gvPair) Retransmits() uint64 {
	return p.client.Stats().TCP.Retransmits.Value() + p.server.Stats().TCP.Retransmits.Value()
}

func (p *gvPair) Close() {
	p.client.Close()
	p.server.Close()
	p.client.Wait()
	p.server.Wait()
	p.stop()
}

// kernelPair is Linux over 127.0.0.1; port 0 listens on any free port.
type kernelPair struct{}

func (kernelPair) Listen(uint16) (net.Listener, error) { return net.Listen("tcp4", "127.0.0.1:0") }

func (kernelPair) Dial(context.Context, uint16) (net.Conn, error) {
	return nil, fmt.Errorf("suite: the kernel pair dials its listener's address (use dialer)")
}

func (kernelPair) Retransmits() uint64 { return 0 }
func (kernelPair) Close()              {}

// dialer returns how to dial l on p: the kernel's listener has its own
// port, the in-memory stacks use the one they were given.
func dialer(p Pair, l net.Listener, port uint16) func(ctx context.Context) (net.Conn, error) {
	if _, ok := p.(kernelPair); ok {
		addr := l.Addr().String()
		var d net.Dialer
		return func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, "tcp4", addr) }
	}
	return func(ctx context.Context) (net.Conn, error) { return p.Dial(ctx, port) }
}
