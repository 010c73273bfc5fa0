package vm

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// guestCommands are the programs that only make sense inside a VM.
var guestCommands = []string{"./internal/vm/cmd/vminit", "./internal/vm/cmd/dccpprobe"}

// TestGuestCommands_NotInstallable: go install ./... must install only
// teardown. The guest commands build only with GuestTag, so the module's
// only main package without it is cmd/teardown; with it they build.
func TestGuestCommands_NotInstallable(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-f", `{{if eq .Name "main"}}{{.ImportPath}}{{end}}`, "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	mains := strings.Fields(string(out))
	if want := []string{"github.com/teardown-lab/teardown/cmd/teardown"}; !slices.Equal(mains, want) {
		t.Errorf("main packages go install ./... would install: %v, want only %v", mains, want)
	}
	for _, pkg := range guestCommands {
		if _, err := BuildStatic(context.Background(), pkg); err != nil {
			t.Errorf("guest command %s does not build with the %s tag: %v", pkg, GuestTag, err)
		}
	}
}

// TestVMInit_RefusesUnlessPID1 runs the real vminit binary as an ordinary
// process: it must exit 2 with a message before touching anything. It runs
// in its own mount and PID namespaces (a shell is their PID 1, vminit is
// PID 2), so that a vminit that failed to refuse would mount over a
// private /dev and its reboot(2) would only end that PID namespace.
func TestVMInit_RefusesUnlessPID1(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIP: needs root for the mount and PID namespaces that make a failure harmless")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("SKIP: no unshare(1)")
	}
	bin, err := BuildStatic(context.Background(), "./internal/vm/cmd/vminit")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The echo after it keeps the shell from exec-ing vminit as PID 1.
	cmd := exec.CommandContext(ctx, unshare, "--mount", "--propagation", "private", "--pid", "--fork",
		"sh", "-c", `"$0"; echo "vminit exit status $?"`, bin)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("unshare: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "vminit exit status 2") {
		t.Errorf("vminit run as PID 2 did not exit with status 2:\n%s", out)
	}
	if !strings.Contains(string(out), "vminit: refusing to run as PID 2") {
		t.Errorf("vminit run as PID 2 did not say why it refused:\n%s", out)
	}
	if strings.Contains(string(out), "teardown-vm:") {
		t.Errorf("vminit started its work (printed a console marker) before refusing:\n%s", out)
	}
}
