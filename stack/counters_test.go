package stack_test

import (
	"testing"

	"github.com/teardown-lab/teardown/internal/tcp"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/stack"
)

// TCPCounters.Drops is the core's array converted as it is, so each
// TCPDropReason must index the slot the core counts that reason in.
func TestTCPDropReasonsIndexTheCoresSlots(t *testing.T) {
	pairs := []struct {
		ours stack.TCPDropReason
		core tcp.DropReason
	}{
		{stack.TCPDropNotAcceptable, tcp.DropNotAcceptable},
		{stack.TCPDropPAWS, tcp.DropPAWS},
		{stack.TCPDropRSTNotExact, tcp.DropRSTNotExact},
		{stack.TCPDropRSTOutOfWindow, tcp.DropRSTOutOfWindow},
		{stack.TCPDropSYNSynchronized, tcp.DropSYNSynchronized},
		{stack.TCPDropNoACK, tcp.DropNoACK},
		{stack.TCPDropACKTooNew, tcp.DropACKTooNew},
		{stack.TCPDropACKTooOld, tcp.DropACKTooOld},
		{stack.TCPDropBadSYNSent, tcp.DropBadSYNSent},
		{stack.TCPDropOutOfOrderFull, tcp.DropOutOfOrderFull},
		{stack.TCPDropAfterClose, tcp.DropAfterClose},
	}
	if len(pairs) != int(stack.NumTCPDropReasons) {
		t.Fatalf("the test pairs %d reasons, the stack has %d", len(pairs), stack.NumTCPDropReasons)
	}
	names := map[string]bool{}
	for _, p := range pairs {
		if uint8(p.ours) != uint8(p.core) {
			t.Errorf("%v is slot %d, the core counts it in slot %d", p.ours, p.ours, p.core)
		}
		if names[p.ours.String()] {
			t.Errorf("two reasons are named %q", p.ours)
		}
		names[p.ours.String()] = true
	}
}

// The stack's Reset codes are the RFC 4340 §5.6 numbers, with their names.
func TestDCCPResetCodesAreRFC4340s(t *testing.T) {
	for _, c := range []struct {
		code stack.DCCPResetCode
		wire wire.DCCPResetCode
		name string
	}{
		{stack.DCCPResetUnspecified, wire.DCCPResetUnspecified, "Unspecified"},
		{stack.DCCPResetClosed, wire.DCCPResetClosed, "Closed"},
		{stack.DCCPResetAborted, wire.DCCPResetAborted, "Aborted"},
		{stack.DCCPResetNoConnection, wire.DCCPResetNoConnection, "No Connection"},
		{stack.DCCPResetPacketError, wire.DCCPResetPacketError, "Packet Error"},
		{stack.DCCPResetOptionError, wire.DCCPResetOptionError, "Option Error"},
		{stack.DCCPResetMandatoryError, wire.DCCPResetMandatoryError, "Mandatory Error"},
		{stack.DCCPResetConnectionRefused, wire.DCCPResetConnectionRefused, "Connection Refused"},
		{stack.DCCPResetBadServiceCode, wire.DCCPResetBadServiceCode, "Bad Service Code"},
		{stack.DCCPResetTooBusy, wire.DCCPResetTooBusy, "Too Busy"},
		{stack.DCCPResetBadInitCookie, wire.DCCPResetBadInitCookie, "Bad Init Cookie"},
		{stack.DCCPResetAggressionPenalty, wire.DCCPResetAggressionPenalty, "Aggression Penalty"},
		{12, 12, "Reserved(12)"},
		{128, 128, "CCID-specific(128)"},
	} {
		if uint8(c.code) != uint8(c.wire) || c.code.String() != c.name {
			t.Errorf("code %d %q, want %d %q", c.code, c.code, c.wire, c.name)
		}
	}
}
