package profile

import (
	"strings"
	"testing"
)

func TestByNameRoundTrip(t *testing.T) {
	for _, n := range Names() {
		p, err := ByName(n)
		if err != nil {
			t.Fatalf("ByName(%q): %v", n, err)
		}
		if p.Name != n {
			t.Errorf("ByName(%q).Name = %q", n, p.Name)
		}
	}
	if len(Names()) != 7 {
		t.Errorf("Names() = %v, want the 7 profiles of docs/scenarios.md", Names())
	}
}

func TestByNameUnknown(t *testing.T) {
	_, err := ByName("windows-95")
	if err == nil || !strings.Contains(err.Error(), "linux") {
		t.Fatalf("ByName(unknown) error = %v, want one listing the known names", err)
	}
}

func TestProfilesDifferFromLinuxInOneField(t *testing.T) {
	cases := []struct {
		p    Profile
		diff func(Profile) bool
	}{
		{DiscardOnRST, func(p Profile) bool { return !p.DeliverQueuedDataBeforeReset }},
		{NoRSTOnClose, func(p Profile) bool { return !p.RSTOnCloseWithUnread }},
		{RFC1337, func(p Profile) bool { return p.IgnoreRSTInTimeWait }},
		{VOS171, func(p Profile) bool { return p.HoldFINWhileUnread }},
	}
	for _, c := range cases {
		if !c.diff(c.p) || c.diff(Linux) {
			t.Errorf("%s: its defining field does not distinguish it from linux", c.p.Name)
		}
	}
	if !Linux.RSTOnCloseWithUnread || !Linux.DeliverQueuedDataBeforeReset || Linux.IgnoreRSTInTimeWait {
		t.Errorf("linux profile = %+v, want RST on close with unread, data before reset, RST ends TIME-WAIT", Linux)
	}
}

// The listen-backlog fields of the three profiles the backlog scenarios
// compare (docs/scenarios.md, seed 003).
func TestBacklogFields(t *testing.T) {
	if !Linux.SYNACKBeforeAccept || !Linux.SeparateSYNQueue || !Linux.AcceptQueueExtraSlot || !Linux.SYNCookies ||
		!Linux.AcceptReturnsReset || Linux.RSTOnFullBacklog || Linux.DupACKAtAccept || !Linux.ReadErrorOnce {
		t.Errorf("linux backlog fields: %+v", Linux)
	}
	if !VOS171.SYNACKBeforeAccept || VOS171.SeparateSYNQueue || VOS171.SYNCookies || VOS171.AcceptReturnsReset ||
		!VOS171.DupACKAtAccept || VOS171.RSTOnFullBacklog || VOS171.DeliverQueuedDataBeforeReset {
		t.Errorf("vos-17.1 backlog fields: %+v", VOS171)
	}
	if VOSLegacy.SYNACKBeforeAccept || !VOSLegacy.RSTOnFullBacklog {
		t.Errorf("vos-legacy backlog fields: %+v", VOSLegacy)
	}
}
