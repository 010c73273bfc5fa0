package dccp

import (
	"testing"

	"github.com/teardown-lab/teardown/profile"
)

// A state change leaves the core as an output: EventState, and under
// RecordStates the change itself with its time and reason, taken once.
func TestClosed_ConnectReportsStateChange(t *testing.T) {
	c := NewClient(t0, Config{Profile: profile.Linux, ISS: 1000, NewCCID: NoCCID, RecordStates: true})
	if c.TakeEvents()&EventState == 0 {
		t.Error("connecting moved the state without EventState")
	}
	got := c.TakeStateChanges(nil)
	want := StateChange{At: t0, From: Closed, To: Request, Why: "application connects"}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("state changes %+v, want [%+v]", got, want)
	}
	if again := c.TakeStateChanges(nil); len(again) != 0 {
		t.Errorf("changes taken twice: %+v", again)
	}
}

// Without RecordStates the Conn keeps no changes, but still says that the
// state changed.
func TestClosed_ConnectWithoutRecordStates(t *testing.T) {
	c := NewClient(t0, Config{Profile: profile.Linux, ISS: 1000, NewCCID: NoCCID})
	if c.TakeEvents()&EventState == 0 {
		t.Error("connecting moved the state without EventState")
	}
	if got := c.TakeStateChanges(nil); len(got) != 0 {
		t.Errorf("state changes kept without RecordStates: %+v", got)
	}
}
