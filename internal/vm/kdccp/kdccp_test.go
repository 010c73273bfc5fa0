//go:build linux

package kdccp

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/teardown-lab/teardown/internal/vm"
)

// envInVM is set in the VM's environment: the test runs its guest half.
const envInVM = "TEARDOWN_IN_VM"

// inVM runs the calling test inside a VM with the DCCP modules loaded: on
// the host it builds this package's test binary, boots it with
// -test.run=^name$ and fails with the guest's log if the guest half fails;
// it returns true only in the guest, where the test goes on.
//
// This is the pattern doc.go of internal/vm describes for interop tests.
func inVM(t *testing.T) bool {
	if os.Getenv(envInVM) == "1" {
		return true
	}
	if testing.Short() {
		t.Skip("SKIP: -short: the VM tests boot qemu")
	}
	if err := vm.Available(); err != nil {
		t.Skipf("SKIP (kernel DCCP needs the VM, which cannot run here): %v", err)
	}
	ctx := context.Background()
	bin, err := vm.BuildTest(ctx, "./internal/vm/kdccp")
	if err != nil {
		t.Fatal(err)
	}
	res, err := vm.Boot(ctx, vm.Config{
		Binary:  bin,
		Args:    []string{"-test.run=^" + t.Name() + "$", "-test.v", "-test.count=1"},
		Env:     []string{envInVM + "=1"},
		Modules: []string{"dccp", "dccp_ipv4"},
		Timeout: 90 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitStatus != 0 || !bytes.Contains(res.Output, []byte("--- PASS: "+t.Name())) {
		t.Fatalf("in the VM: exit status %d\n%s", res.ExitStatus, res.Output)
	}
	t.Logf("passed in the VM (boot %v, run %v)", res.BootTime.Round(time.Millisecond), res.Duration.Round(time.Millisecond))
	return false
}

func pair(t *testing.T, port uint16, o Options) (client, server *Socket) {
	t.Helper()
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
	ln, err := Listen(addr, o, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = Dial(addr, o)
	if err != nil {
		t.Fatal(err)
	}
	server, _, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// TestKernelDCCP_TooBigIsEMSGSIZE: a write larger than the current maximum
// packet size is refused whole, never split (RFC 4340 §14).
func TestKernelDCCP_TooBigIsEMSGSIZE(t *testing.T) {
	if !inVM(t) {
		return
	}
	c, _ := pair(t, 6001, Options{Service: 1, Timeout: 10 * time.Second})
	mps, err := c.CurMPS()
	if err != nil || mps <= 0 {
		t.Fatalf("CurMPS = %d, %v", mps, err)
	}
	if err := c.Send(make([]byte, mps+1)); !errors.Is(err, unix.EMSGSIZE) {
		t.Errorf("Send(%d bytes) with MPS %d: %v, want EMSGSIZE", mps+1, mps, err)
	}
	if err := c.Send(make([]byte, mps)); err != nil {
		t.Errorf("Send(MPS = %d bytes): %v", mps, err)
	}
}

// TestKernelDCCP_CloseWithUnreadDataResets: Linux answers close() with
// unread data by Reset code 2 ("Aborted"); the peer's read then returns 0,
// as after a clean close, and only SO_ERROR says ECONNRESET (docs/peer-facts.md).
func TestKernelDCCP_CloseWithUnreadDataResets(t *testing.T) {
	if !inVM(t) {
		return
	}
	c, s := pair(t, 6002, Options{Service: 2, Timeout: 10 * time.Second})
	if err := c.Send([]byte("never read")); err != nil {
		t.Fatal(err)
	}
	waitQueued(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := c.Recv(buf)
	if err != nil || n != 0 {
		t.Fatalf("client read after the Reset: %d, %v; want 0, nil", n, err)
	}
	if err := c.SoError(); !errors.Is(err, unix.ECONNRESET) {
		t.Errorf("SO_ERROR after Reset(Aborted) = %v, want ECONNRESET", err)
	}
}

// waitQueued polls SIOCINQ until the socket has a packet queued to read.
func waitQueued(t *testing.T, s *Socket) {
	t.Helper()
	for range 500 {
		if n, err := unix.IoctlGetInt(s.fd, unix.SIOCINQ); err == nil && n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no packet reached the server's receive queue within 5 s")
}
