package stack

import (
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/dccp"
	"github.com/teardown-lab/teardown/internal/tcp"
	"github.com/teardown-lab/teardown/internal/wire"
)

// The defaults of TCPOptions, DCCPOptions and the listen options are set
// in one place, the cores' Configs (the stack passes zero through); the
// option docs repeat them for the users, who cannot read an internal
// package. This test holds the docs to the cores: a default changed in a
// core fails here until the doc says the same.
func TestOptionDocsStateTheCoreDefaults(t *testing.T) {
	tc := tcp.DefaultConfig()
	for _, c := range []struct {
		doc       string
		got, want any
	}{
		{"TCPOptions.SendBuffer: 256 KiB", tc.SendBuffer, 256 << 10},
		{"TCPOptions.ReceiveBuffer: 256 KiB", tc.RecvBuffer, 256 << 10},
		{"TCPOptions.MSL: 30 s", tc.MSL, 30 * time.Second},
		{"TCPOptions.DelayedACK: 40 ms", tc.DelayedACK, 40 * time.Millisecond},
		{"TCPOptions.RTOMin: 200 ms", tc.RTOMin, 200 * time.Millisecond},
		{"TCPOptions.RTOInitial: 1 s", tc.RTOInitial, time.Second},
		{"TCPOptions.RTOMax: 120 s", tc.RTOMax, 120 * time.Second},
		{"TCPOptions.SYNRetries: 6", tc.SYNRetries, 6},
		{"TCPOptions.Retries: 15", tc.Retries, 15},
		{"TCPOptions.FinWait2Timeout: 60 s", tc.FinWait2Timeout, 60 * time.Second},
	} {
		if c.got != c.want {
			t.Errorf("the doc says %s; tcp.Config's default is %v", c.doc, c.got)
		}
	}
	dc := dccp.DefaultConfig()
	for _, c := range []struct {
		doc       string
		got, want any
	}{
		{"DCCPOptions.CCID: 2", dc.CCID, uint8(2)},
		{"DCCPOptions.SendQueueLen: 5", dc.SendQueueLen, 5},
		{"DCCPOptions.RecvQueueLen: 64", dc.RecvQueueLen, 64},
		{"DCCPOptions.MSL: 30 s", dc.MSL, 30 * time.Second},
		{"DCCPOptions.RequestRetries: 6", dc.RequestRetries, 6},
		{"DCCPOptions.CloseRetries: 15", dc.CloseRetries, 15},
		{"DCCPOptions.SequenceWindow: 100", dc.SequenceWindow, uint64(100)},
	} {
		if c.got != c.want {
			t.Errorf("the doc says %s; dccp.Config's default is %v", c.doc, c.got)
		}
	}
	// A zero DCCP backlog reaches the core, which takes 16 (the doc's
	// default): 16 pending connections are taken, the 17th is refused.
	l := dccp.Listener{Config: dccp.Config{NewCCID: dccp.NoCCID}}
	req := &dccp.Packet{Type: wire.DCCPRequest, Seq: 1}
	for pending, wantConn := range map[int]bool{15: true, 16: false} {
		c, _, _ := l.HandlePacket(1, req, 100, pending)
		if (c != nil) != wantConn {
			t.Errorf("zero Backlog with %d pending: new connection %v, want %v (DCCPListenOptions.Backlog: default 16)", pending, c != nil, wantConn)
		}
	}
}
