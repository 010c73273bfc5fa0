//go:build linux

package vminit

import (
	"strings"
	"testing"
)

func TestRequirePID1_OnlyPID1Passes(t *testing.T) {
	if err := requirePID1(1); err != nil {
		t.Errorf("PID 1 refused: %v", err)
	}
	for _, pid := range []int{0, 2, 4242} {
		err := requirePID1(pid)
		if err == nil {
			t.Errorf("PID %d accepted: vminit would mount over /dev and power off a machine it does not own", pid)
			continue
		}
		if !strings.Contains(err.Error(), "PID 1") {
			t.Errorf("PID %d: error %q does not say vminit must be PID 1", pid, err)
		}
	}
}
