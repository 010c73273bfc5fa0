//go:build linux

package pcap

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/netns"
	"github.com/teardown-lab/teardown/internal/wire"
)

// findTool returns the path of a Debian tool or skips loudly.
func findTool(t *testing.T, name string, paths ...string) string {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	t.Skipf("SKIP LOUDLY: %s not found: apt-get install %s (CI does)", name, name)
	return ""
}

// tcpdumpRun is a tcpdump started inside a namespace.
type tcpdumpRun struct {
	cmd  *exec.Cmd
	file string
}

// startTcpdump runs tcpdump in ns with -U and --immediate-mode (every
// packet reaches the file as soon as it is seen) and waits, for a bounded
// time, until it says it is listening. Immediate mode gives each packet a
// ring slot of the snapshot length, so the default 262144 would fit eight
// packets in tcpdump's 2 MB buffer and drop bursts: -s 2048 -B 16384.
func startTcpdump(t *testing.T, tcpdump string, ns *netns.NS, file string, args ...string) *tcpdumpRun {
	t.Helper()
	all := append([]string{"netns", "exec", ns.Name(), tcpdump, "-U", "--immediate-mode", "-s", "2048", "-B", "16384", "-w", file}, args...)
	cmd := exec.Command("ip", all...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start tcpdump: %v", err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		var seen []string
		for sc.Scan() {
			seen = append(seen, sc.Text())
			if strings.Contains(sc.Text(), "listening on") {
				ready <- ""
				io.Copy(io.Discard, stderr) //nolint:errcheck // drain until exit
				return
			}
		}
		ready <- strings.Join(seen, "\n")
	}()
	select {
	case msg := <-ready:
		if msg != "" {
			cmd.Wait() //nolint:errcheck // it already failed
			t.Fatalf("tcpdump did not start: %s", msg)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill() //nolint:errcheck
		cmd.Wait()         //nolint:errcheck
		t.Fatal("tcpdump did not say it was listening within 10 s")
	}
	return &tcpdumpRun{cmd: cmd, file: file}
}

// stop waits (bounded) until the file holds at least want packets
// according to count, then interrupts tcpdump and waits for it to exit.
func (r *tcpdumpRun) stop(t *testing.T, want int, count func(path string) int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if count(r.file) >= want {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.cmd.Process.Signal(syscall.SIGINT) //nolint:errcheck // it may have exited
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill() //nolint:errcheck
		<-done
		t.Fatal("tcpdump did not exit within 10 s of SIGINT")
	}
}

// countPackets reads a capture as far as it goes (a file being written may
// end inside a record) and returns how many packets it holds.
func countPackets(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	r, err := NewReader(f)
	if err != nil {
		return 0
	}
	n := 0
	for {
		if _, err := r.Next(); err != nil {
			return n
		}
		n++
	}
}

// echoOnce makes one TCP connection inside ns on 127.0.0.1: the client
// sends "hello", the server echoes it, both close. It returns the port.
func echoOnce(t *testing.T, ns *netns.NS) int {
	t.Helper()
	var ln net.Listener
	var c net.Conn
	err := ns.Do(func() error {
		var err error
		if ln, err = net.Listen("tcp4", "127.0.0.1:0"); err != nil {
			return err
		}
		c, err = net.Dial("tcp4", ln.Addr().String())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srv := make(chan error, 1)
	go func() {
		s, err := ln.Accept()
		if err != nil {
			srv <- err
			return
		}
		defer s.Close()
		buf := make([]byte, 5)
		if _, err := io.ReadFull(s, buf); err != nil {
			srv <- err
			return
		}
		_, err = s.Write(buf)
		srv <- err
	}()
	c.SetDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "hello" {
		t.Fatalf("echo: %q, %v", got, err)
	}
	c.Close()
	if err := <-srv; err != nil {
		t.Fatal(err)
	}
	return ln.Addr().(*net.TCPAddr).Port
}

// tsharkFlags returns the TCP flags of every frame as tshark decodes them.
func tsharkFlags(t *testing.T, tshark, path string) []wire.TCPFlags {
	t.Helper()
	out, err := exec.Command(tshark, "-r", path, "-T", "fields", "-e", "tcp.flags").Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v", path, err)
	}
	var flags []wire.TCPFlags
	for _, line := range strings.Fields(string(out)) {
		v, err := strconv.ParseUint(line, 0, 16)
		if err != nil {
			t.Fatalf("tshark flags %q: %v", line, err)
		}
		flags = append(flags, wire.TCPFlags(v))
	}
	return flags
}

// ourFlags reads a capture with the Reader and returns the TCP flags of
// every packet and the time of each.
func ourFlags(t *testing.T, path string) (Format, []wire.TCPFlags, []Packet) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, pkts := readAll(t, data)
	var flags []wire.TCPFlags
	for _, p := range pkts {
		ip, err := wire.ParseIP(p.IP)
		if err != nil {
			t.Fatalf("packet %d: %v", p.Number, err)
		}
		seg, err := wire.ParseTCP(ip.Payload)
		if err != nil {
			t.Fatalf("packet %d: %v", p.Number, err)
		}
		flags = append(flags, seg.Flags())
	}
	return r.Format(), flags, pkts
}

// Captures written by the real tcpdump of the kernel's own traffic, in
// microsecond and nanosecond pcap and pcapng converted by editcap (not
// "-i any": in a namespace it drops loopback packets, see the report): the Reader sees exactly the frames tshark
// sees, with the same TCP flags, a SYN first and "hello" on the wire.
func TestReader_TcpdumpCaptures(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skipf("SKIP LOUDLY: %v", err)
	}
	tcpdump := findTool(t, "tcpdump", "/usr/sbin/tcpdump", "/usr/bin/tcpdump")
	tshark := findTool(t, "tshark", "/usr/bin/tshark")
	ns, err := netns.New("pcaprd")
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	dir := t.TempDir()
	micro := filepath.Join(dir, "micro.pcap")
	nano := filepath.Join(dir, "nano.pcap")
	runs := []*tcpdumpRun{
		startTcpdump(t, tcpdump, ns, micro, "-i", "lo", "tcp"),
		startTcpdump(t, tcpdump, ns, nano, "-i", "lo", "--time-stamp-precision=nano", "tcp"),
	}
	echoOnce(t, ns)
	// SYN, SYN-ACK, ACK, hello, its ACK, the echo, its ACK, two FINs and
	// their ACKs: at least 9, however the kernel merges ACKs.
	const minPackets = 9
	for _, r := range runs {
		r.stop(t, minPackets, countPackets)
	}
	ng := filepath.Join(dir, "converted.pcapng")
	editcap := findTool(t, "editcap", "/usr/bin/editcap")
	if out, err := exec.Command(editcap, "-F", "pcapng", micro, ng).CombinedOutput(); err != nil {
		t.Fatalf("editcap: %v\n%s", err, out)
	}
	for _, c := range []struct {
		path     string
		format   Format
		linkType int
	}{
		{micro, FormatPcap, LinkTypeEthernet},
		{nano, FormatPcap, LinkTypeEthernet},
		{ng, FormatPcapNG, LinkTypeEthernet},
	} {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			format, flags, pkts := ourFlags(t, c.path)
			want := tsharkFlags(t, tshark, c.path)
			if format != c.format || len(pkts) < minPackets || pkts[0].LinkType != c.linkType {
				t.Fatalf("format %s, %d packets, link type %d; want %s, >= %d, %d",
					format, len(pkts), pkts[0].LinkType, c.format, minPackets, c.linkType)
			}
			if len(flags) != len(want) {
				t.Fatalf("we read %d packets, tshark %d", len(flags), len(want))
			}
			for i := range flags {
				if flags[i] != want[i] {
					t.Errorf("packet %d: flags %v, tshark says %v", i+1, flags[i], want[i])
				}
			}
			if flags[0] != wire.SYN {
				t.Errorf("first packet %v, want the SYN", flags[0])
			}
			hello := false
			for i, p := range pkts {
				hello = hello || bytes.HasSuffix(p.IP, []byte("hello"))
				if p.Time == 0 || i > 0 && p.Time < pkts[i-1].Time {
					t.Errorf("packet %d: time %d is zero or earlier than the packet before", p.Number, p.Time)
				}
			}
			if !hello {
				t.Error(`no packet ends with "hello"`)
			}
		})
	}
}
