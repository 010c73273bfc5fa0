package stack

import (
	"github.com/teardown-lab/teardown/internal/dccp"
	"github.com/teardown-lab/teardown/internal/tcp"
)

// The cores report their state changes as an output (Config.RecordStates,
// TakeStateChanges), which process hands to Config.OnStateChange: the
// connections of a traced stack share one configuration, as any other's.

// reportStates hands the core's state changes to the stack's
// OnStateChange, oldest first; c.mu held.
func (c *TCPConn) reportStates() {
	var buf [4]tcp.StateChange
	for _, sc := range c.core.TakeStateChanges(buf[:0]) {
		c.s.onState(sc.At, c.tuple.local, c.tuple.remote, sc.From.String(), sc.To.String(), sc.Why)
	}
}

// reportStates is TCPConn.reportStates for DCCP.
func (c *DCCPConn) reportStates() {
	var buf [4]dccp.StateChange
	for _, sc := range c.core.TakeStateChanges(buf[:0]) {
		c.s.onState(sc.At, c.tuple.local, c.tuple.remote, sc.From.String(), sc.To.String(), sc.Why)
	}
}
