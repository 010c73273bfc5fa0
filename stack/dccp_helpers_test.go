package stack_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/profile"
	"github.com/teardown-lab/teardown/stack"
)

const dccpPort = 5001

var dccpProfiles = []profile.Profile{profile.RFCNaive, profile.Linux}

// dccpPacket is one DCCP packet seen on the simulated wire.
type dccpPacket struct {
	at   clock.Instant
	from string
	typ  wire.DCCPType
	code wire.DCCPResetCode
}

func (p dccpPacket) String() string {
	if p.typ == wire.DCCPReset {
		return fmt.Sprintf("%s Reset(%v)", p.from, p.code)
	}
	return fmt.Sprintf("%s %v", p.from, p.typ)
}

// dccpNet is a simNet whose DCCP packets are recorded as they are sent.
type dccpNet struct {
	*simNet
	pkts []dccpPacket
}

func newDCCPNet(t *testing.T, seed uint64, p profile.Profile, link netsim.LinkConfig) *dccpNet {
	n := &dccpNet{simNet: newSimNet(t, seed, simOpts{link: link, clientProfile: p, serverProfile: p})}
	n.sim.Observe(func(e netsim.PacketEvent) {
		if e.Kind != netsim.Sent {
			return
		}
		ip, err := wire.ParseIP(e.Packet)
		if err != nil || ip.Protocol != wire.IPProtoDCCP {
			return
		}
		d, err := wire.ParseDCCP(ip.Payload)
		if err != nil {
			return
		}
		n.pkts = append(n.pkts, dccpPacket{at: e.Time, from: e.From, typ: d.Type(), code: d.ResetCode()})
	})
	return n
}

// sent returns the packets a host sent of one type, in order.
func (n *dccpNet) sent(from string, typ wire.DCCPType) []dccpPacket {
	var out []dccpPacket
	for _, p := range n.pkts {
		if p.from == from && p.typ == typ {
			out = append(out, p)
		}
	}
	return out
}

func (n *dccpNet) dump() string {
	s := ""
	for _, p := range n.pkts {
		s += fmt.Sprintf("  %v %v\n", time.Duration(p.at-n.pkts[0].at), p)
	}
	return s
}

func (n *dccpNet) dial(opts stack.DCCPOptions) (*stack.DCCPConn, error) {
	return n.client.DialDCCP(context.Background(), netip.AddrPortFrom(n.serverIP, dccpPort), opts)
}

func (n *dccpNet) listen(opts stack.DCCPListenOptions) *stack.DCCPListener {
	n.t.Helper()
	l, err := n.server.ListenDCCP(dccpPort, opts)
	if err != nil {
		n.t.Fatal(err)
	}
	return l
}

// readAll reads datagrams until an error; it returns them and the error.
func readAll(c *stack.DCCPConn) ([]string, error) {
	var got []string
	buf := make([]byte, 2048)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return got, err
		}
		got = append(got, string(buf[:n]))
	}
}

// writeN writes datagrams "d0".."d<n-1>".
func writeN(t *testing.T, c *stack.DCCPConn, n int) {
	for i := range n {
		if _, err := c.Write([]byte(fmt.Sprintf("d%d", i))); err != nil {
			t.Errorf("write %d: %v", i, err)
			return
		}
	}
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }

func profileLinux() profile.Profile { return profile.Linux }

func errDeadline() error { return os.ErrDeadlineExceeded }
