//go:build linux

package analyze

import (
	"bytes"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/netns"
)

// ip runs the ip command, failing the test on an error.
func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// TestKernelCapture_VXLANFragmented captures the Linux kernel's own TCP
// inside a VXLAN tunnel between two namespaces, on the underlay, where
// the outer UDP packets of full-sized segments (1500 + 50 bytes of VXLAN
// over a 1400-byte link) leave as IPv4 fragments: analyze must reassemble
// them, open the tunnel and read the connection, as tshark does.
func TestKernelCapture_VXLANFragmented(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skipf("SKIP LOUDLY: %v", err)
	}
	tcpdumpPath(t)
	a, err := netns.New("vxa")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := netns.New("vxb")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ip(t, "-n", a.Name(), "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b.Name())
	for _, s := range []struct{ ns, dev, under, over, remote string }{
		{a.Name(), "va", "10.9.0.1/24", "10.10.0.1/24", "10.9.0.2"},
		{b.Name(), "vb", "10.9.0.2/24", "10.10.0.2/24", "10.9.0.1"},
	} {
		ip(t, "-n", s.ns, "addr", "add", s.under, "dev", s.dev)
		ip(t, "-n", s.ns, "link", "set", s.dev, "mtu", "9000", "up")
		out, err := exec.Command("ip", "-n", s.ns, "link", "add", "vx0", "type", "vxlan", "id", "42",
			"remote", s.remote, "dstport", "4789", "dev", s.dev).CombinedOutput()
		if err != nil {
			t.Skipf("SKIP LOUDLY: no VXLAN in this kernel: %v: %s", err, out)
		}
		ip(t, "-n", s.ns, "link", "set", "vx0", "mtu", "1500", "up")
		ip(t, "-n", s.ns, "addr", "add", s.over, "dev", "vx0")
		// The underlay shrinks below the tunnel's packets: VXLAN does not
		// set DF (df unset), so the kernel fragments the outer packets.
		ip(t, "-n", s.ns, "link", "set", s.dev, "mtu", "1400")
	}
	file := filepath.Join(t.TempDir(), "vxlan.pcap")
	stop := startCaptureOn(t, a, file, "-i", "va", "-s", "4096")

	const size = 20000
	var ln net.Listener
	if err := b.Do(func() (err error) { ln, err = net.Listen("tcp4", "10.10.0.2:0"); return }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		s, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer s.Close()
		if _, err := io.ReadFull(s, make([]byte, size)); err != nil {
			done <- err
			return
		}
		s.Write([]byte("ok")) //nolint:errcheck
		s.(*net.TCPConn).CloseWrite()
		_, err = io.Copy(io.Discard, s)
		done <- err
	}()
	var c net.Conn
	if err := a.Do(func() (err error) { c, err = net.DialTimeout("tcp4", ln.Addr().String(), 5*time.Second); return }); err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
	if _, err := c.Write(bytes.Repeat([]byte("x"), size)); err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(c); string(got) != "ok" || err != nil {
		t.Fatalf("client read %q, %v", got, err)
	}
	c.Close()
	if err := <-done; err != nil {
		t.Fatalf("server: %v", err)
	}
	graceful := func(rep *Report) *Connection {
		for _, c := range rep.Connections {
			if strings.HasPrefix(c.Client, "10.10.0.1:") && c.Verdict == VerdictGraceful {
				return c
			}
		}
		return nil
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if rep, err := File(file, Options{}); err == nil && graceful(rep) != nil {
			break
		}
	}
	stop()
	rep, err := File(file, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	rep.WriteText(&text) //nolint:errcheck
	t.Logf("analysis of the VXLAN capture:\n%s", text.String())
	conn := graceful(rep)
	if conn == nil {
		t.Fatalf("no graceful connection from 10.10.0.1 inside the tunnel")
	}
	if conn.Setup.Kind != SetupHandshake || conn.ClientToServer.DataBytes < size || conn.ServerToClient.DataBytes < 2 {
		t.Errorf("setup %s, data %d / %d bytes", conn.Setup.Kind, conn.ClientToServer.DataBytes, conn.ServerToClient.DataBytes)
	}
	if rep.Counts.Opened["vxlan"] == 0 || rep.Counts.Reassembled == 0 || rep.Counts.Skipped["fragment_overlap"] != 0 {
		t.Errorf("counts %+v: want VXLAN opened and fragments reassembled", rep.Counts)
	}
	if _, err := exec.LookPath("tshark"); err == nil {
		checked, diffs := tsharkCheck(t, file, rep)
		for _, d := range diffs {
			t.Errorf("tshark: %s", d)
		}
		if checked == 0 {
			t.Errorf("no connection compared with tshark")
		}
	}
}
