package guest

import "testing"

func TestExitStatus(t *testing.T) {
	tests := []struct {
		line   string
		status int
		ok     bool
	}{
		{MarkerExit + "0", 0, true},
		{MarkerExit + "137\r\n", 137, true},
		{MarkerExit + "255", 255, true},
		{MarkerExit + "256", 0, false},
		{MarkerExit + "-1", 0, false},
		{MarkerExit, 0, false},
		{MarkerExit + "2x", 0, false},
		{"[ 1.0] " + MarkerExit + "2", 0, false}, // the marker must start the line
		{MarkerError + "boom", 0, false},
	}
	for _, tt := range tests {
		st, ok := ExitStatus(tt.line)
		if st != tt.status || ok != tt.ok {
			t.Errorf("ExitStatus(%q) = %d, %v; want %d, %v", tt.line, st, ok, tt.status, tt.ok)
		}
	}
}

func TestInitError(t *testing.T) {
	if r, ok := InitError(MarkerError + "mount proc: EPERM\r\n"); !ok || r != "mount proc: EPERM" {
		t.Errorf("InitError = %q, %v", r, ok)
	}
	if _, ok := InitError(MarkerExit + "0"); ok {
		t.Error("an exit line read as an init error")
	}
}
