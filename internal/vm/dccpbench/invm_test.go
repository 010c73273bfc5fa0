//go:build linux && vmguest

package dccpbench

import (
	"encoding/json"
	"os"
	"testing"
)

// TestBenchInVM is the job Run boots the VM for: BuildTest compiles this
// package with the vmguest tag, so on the host it is not compiled at all.
func TestBenchInVM(t *testing.T) {
	if os.Getenv("TEARDOWN_IN_VM") == "" {
		t.Skip("runs only inside the VM (Run boots it)")
	}
	var o GuestOptions
	if err := json.Unmarshal([]byte(os.Getenv(guestEnv)), &o); err != nil {
		t.Fatalf("%s: %v", guestEnv, err)
	}
	if err := RunGuest(os.Stdout, o); err != nil {
		t.Fatal(err)
	}
}
