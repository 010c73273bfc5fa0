package tcp

import (
	"testing"
	"time"
)

// A state change leaves the core as an output: EventState, and under
// RecordStates the change itself with its time and reason, taken once.
func TestEstablished_PeerFINReportsStateChange(t *testing.T) {
	h := newHarness(t, Established)
	h.stateTrace() // the changes of the way here
	h.advance(time.Second)
	h.recv(seg{flags: FIN | ACK, seq: remoteISS + 1, ack: localISS + 1})
	if h.c.TakeEvents()&EventState == 0 {
		t.Error("the peer's FIN moved the state without EventState")
	}
	got := h.c.TakeStateChanges(nil)
	want := StateChange{At: h.now, From: Established, To: CloseWait, Why: "rcvd FIN"}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("state changes %+v, want [%+v]", got, want)
	}
	if again := h.c.TakeStateChanges(nil); len(again) != 0 {
		t.Errorf("changes taken twice: %+v", again)
	}
}

// Without RecordStates the Conn keeps no changes (a plain host pays for
// none), but still says that the state changed.
func TestEstablished_PeerFINWithoutRecordStates(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) { c.RecordStates = false })
	h.recv(seg{flags: FIN | ACK, seq: remoteISS + 1, ack: localISS + 1})
	if h.c.TakeEvents()&EventState == 0 {
		t.Error("the peer's FIN moved the state without EventState")
	}
	if got := h.c.TakeStateChanges(nil); len(got) != 0 {
		t.Errorf("state changes kept without RecordStates: %+v", got)
	}
	if h.c.changes != nil {
		t.Error("a Conn without RecordStates allocated a change log")
	}
}
