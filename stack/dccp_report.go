package stack

import (
	"fmt"
	"time"

	"github.com/teardown-lab/teardown/internal/dccp"
)

// DCCPCloseReport says how a DCCP connection ended and what the ending
// cost: the answer to "did my datagrams arrive?" as far as this end knows
// (DCCP is unreliable: datagrams sent may still have been lost).
type DCCPCloseReport struct {
	// How is "closed" (Close/CloseReq answered by Reset(Closed)), "reset
	// sent", "reset received", "gave up" (retransmissions ran out) or
	// "not ended".
	How string
	// Code and CodeName are the Reset code sent or received at the end
	// (RFC 4340 §5.6).
	Code     uint8
	CodeName string
	// ActiveClose reports that this end closed first.
	ActiveClose bool
	// State is the connection state now.
	State string
	// DatagramsRead and DatagramsWritten count the application's calls.
	DatagramsRead, DatagramsWritten uint64
	// UnreadDiscarded counts datagrams received but never read (the data
	// loss of the seed 001 when the passive-close states are missing).
	UnreadDiscarded int
	// UnsentDiscarded counts datagrams written but never sent.
	UnsentDiscarded int
	// EndedAt is when the connection reached CLOSED or TIMEWAIT (zero
	// while it goes on).
	EndedAt time.Time
}

// String summarises the report on one line.
func (r DCCPCloseReport) String() string {
	return fmt.Sprintf("%s (%s) in %s, active=%v, read %d, written %d, unread discarded %d, unsent discarded %d",
		r.How, r.CodeName, r.State, r.ActiveClose, r.DatagramsRead, r.DatagramsWritten, r.UnreadDiscarded, r.UnsentDiscarded)
}

// Report returns the close report (How is "not ended" until the end).
func (c *DCCPConn) Report() DCCPCloseReport {
	c.lock()
	defer c.unlock()
	return c.report()
}

func (c *DCCPConn) report() DCCPCloseReport {
	sum := c.core.Summary()
	r := DCCPCloseReport{
		How: sum.How.String(), ActiveClose: sum.ActiveClose, State: c.core.State().String(),
		DatagramsRead: c.read, DatagramsWritten: c.written,
		UnreadDiscarded: sum.UnreadDiscarded, UnsentDiscarded: sum.UnsentDiscarded,
	}
	if sum.How != dccp.NotEnded {
		r.Code, r.CodeName = uint8(sum.Code), sum.Code.String()
	}
	if sum.EndedAt != 0 {
		r.EndedAt = time.Unix(0, int64(sum.EndedAt))
	}
	return r
}
