package udp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
)

// manualClock moves only when told.
type manualClock struct{ now clock.Instant }

func (c *manualClock) Now() clock.Instant { return c.now }

func (c *manualClock) advance(d time.Duration) { c.now = c.now.Add(d) }

var (
	flowServer = netip.MustParseAddr("10.9.0.1")
	flowNAT    = netip.MustParseAddr("10.9.0.2")
)

// dccpPacket builds a DCCP packet of type typ from DCCP port src to port 7.
func dccpPacket(t *testing.T, typ wire.DCCPType, src uint16) wire.DCCP {
	t.Helper()
	return dccpPacketTo(t, typ, src, 7)
}

// dccpPacketTo builds a DCCP packet of type typ from DCCP port src to dst.
func dccpPacketTo(t *testing.T, typ wire.DCCPType, src, dst uint16) wire.DCCP {
	t.Helper()
	h := wire.DCCPHeader{SrcPort: src, DstPort: dst, Type: typ, X: true, Seq: 1, ServiceCode: 42}
	if typ == wire.DCCPReset {
		h.Ack, h.ResetCode = 1, wire.DCCPResetClosed
	}
	d := make([]byte, 128)
	n, err := wire.BuildDCCP(d, &h, nil, flowNAT, flowServer)
	if err != nil {
		t.Fatal(err)
	}
	return wire.DCCP(d[:n])
}

func newTestTable(idle time.Duration, max int) (*flowTable, *manualClock) {
	clk := &manualClock{now: clock.Instant(1_000_000_000)}
	t := newFlowTable(clk, idle, max)
	return &t, clk
}

// A client's Requests that are never answered leave a binding with no
// Reset to end it. Once it idled out, the same DCCP 4-tuple from another
// UDP port (a second client behind the NAT) is a new connection, not a
// port reuse.
func TestFlows_IdleBindingExpires(t *testing.T) {
	tab, clk := newTestTable(FlowIdleTimeout, MaxFlows)
	first, second := netip.AddrPortFrom(flowNAT, 1000), netip.AddrPortFrom(flowNAT, 2000)
	req := dccpPacket(t, wire.DCCPRequest, 5001)
	if ok, _ := tab.incoming(first, req); !ok {
		t.Fatal("first Request refused")
	}
	clk.advance(FlowIdleTimeout)
	if ok, full := tab.incoming(second, req); ok || full {
		t.Fatalf("other UDP port within the idle timeout: admit %v full %v, want a port reuse", ok, full)
	}
	clk.advance(time.Nanosecond)
	if ok, _ := tab.incoming(second, req); !ok {
		t.Fatal("other UDP port after the idle timeout refused: the dead binding lived on")
	}
	if ok, _ := tab.incoming(first, req); ok {
		t.Fatal("the first client's port after the rebinding was admitted")
	}
}

// Traffic either way keeps a binding alive however long the connection
// lasts; the stack's packets go to the bound UDP port throughout.
func TestFlows_TrafficKeepsBinding(t *testing.T) {
	tab, clk := newTestTable(FlowIdleTimeout, MaxFlows)
	first, second := netip.AddrPortFrom(flowNAT, 1000), netip.AddrPortFrom(flowNAT, 2000)
	def := netip.AddrPortFrom(flowNAT, Port)
	if ok, _ := tab.incoming(first, dccpPacket(t, wire.DCCPRequest, 5001)); !ok {
		t.Fatal("Request refused")
	}
	reply := dccpPacketTo(t, wire.DCCPData, 7, 5001)
	for range 6 {
		clk.advance(FlowIdleTimeout * 2 / 3)
		if to, _ := tab.outgoing(flowNAT, reply, def); to != first {
			t.Fatalf("stack's packet sent to %v, want the bound %v", to, first)
		}
	}
	if ok, _ := tab.incoming(second, dccpPacket(t, wire.DCCPData, 5001)); ok {
		t.Fatal("another UDP port took over a connection that was never idle")
	}
}

// A flood of Requests, each from a new DCCP source port, that never
// complete: the table stops at its cap and counts the excess; once the
// bindings idled out, new connections get room again. Below the cap,
// idle bindings are swept as the table grows.
func TestFlows_RequestFloodIsBounded(t *testing.T) {
	const max = 1000
	tab, clk := newTestTable(FlowIdleTimeout, max)
	from := netip.AddrPortFrom(flowNAT, 1000)
	var admitted, full int
	for p := range 5000 {
		ok, f := tab.incoming(from, dccpPacket(t, wire.DCCPRequest, uint16(10000+p)))
		if ok {
			admitted++
		}
		if f {
			full++
		}
	}
	if admitted != max || full != 5000-max || len(tab.m) != max {
		t.Fatalf("admitted %d, full %d, table %d: want %d, %d, %d", admitted, full, len(tab.m), max, 5000-max, max)
	}
	clk.advance(FlowIdleTimeout + time.Second)
	if ok, _ := tab.incoming(from, dccpPacket(t, wire.DCCPRequest, 9)); !ok {
		t.Fatal("a full table of idle bindings refused a new connection")
	}
	if len(tab.m) != 1 {
		t.Fatalf("table holds %d bindings after the sweep, want 1", len(tab.m))
	}

	tab, clk = newTestTable(FlowIdleTimeout, MaxFlows)
	for p := range 300 {
		tab.incoming(from, dccpPacket(t, wire.DCCPRequest, uint16(10000+p)))
	}
	clk.advance(FlowIdleTimeout + time.Second)
	for p := range 1000 {
		tab.incoming(from, dccpPacket(t, wire.DCCPRequest, uint16(20000+p)))
	}
	for k := range tab.m {
		if k.peerPort < 20000 {
			t.Fatalf("binding of DCCP port %d outlived its idle timeout while the table grew", k.peerPort)
		}
	}
}
