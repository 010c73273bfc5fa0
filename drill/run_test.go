package drill

import (
	"strings"
	"testing"
)

// base is a passive open, a write, a close by the peer and by us.
const base = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 7>
+.1 < . 1:1(0) ack 1 win 257
+0 accept(3, ..., ...) = 4
+0 write(4, ..., 100) = 100
+0 > P. 1:101(100) ack 1
+.1 < F. 1:1(0) ack 101 win 257
+0~+.05 > . 101:101(0) ack 2
+.1 read(4, ..., 10) = 0
+0 close(4) = 0
+0 > F. 101:101(0) ack 2
+.1 < . 2:2(0) ack 102 win 257
`

func TestBase_Passes(t *testing.T) {
	if r := run(t, base, Options{}); r.Status != Pass {
		t.Fatal(r)
	}
}

// Each change to base makes the script wrong about the stack: the run
// must fail at the changed line, saying why.
func TestRun_MismatchFailsAtItsLine(t *testing.T) {
	cases := []struct {
		name, from, to string
		line           int
		says           string
	}{
		{"wrong flag", "+0 > F. 101:101(0) ack 2", "+0 > R. 101:101(0) ack 2", 15, "flags F., expected R."},
		{"wrong seq", "+0 > P. 1:101(100) ack 1", "+0 > P. 1:51(50) ack 1", 10, "seq 1:101(100), expected 1:51(50)"},
		{"wrong ack", "+0 > P. 1:101(100) ack 1", "+0 > P. 1:101(100) ack 7", 10, "ack 1, expected 7"},
		{"wrong win", "+0 > P. 1:101(100) ack 1", "+0 > P. 1:101(100) ack 1 win 9", 10, "expected 9"},
		{"wrong options", "<mss 1460,nop,wscale 7>", "<mss 1460,nop,wscale 5>", 6, "options <mss 1460,nop,wscale 7>"},
		{"late packet", "+0 > F. 101:101(0) ack 2", "+.5 > F. 101:101(0) ack 2", 15, "too early"},
		{"missing packet", "+.1 < . 2:2(0) ack 102 win 257\n", "+.1 < . 2:2(0) ack 102 win 257\n+0 > . 102:102(0) ack 2\n", 17, "no packet sent"},
		{"stray packet", "+0 > P. 1:101(100) ack 1", "+0 > . 1:1(0) ack 1\n+0 > P. 1:101(100) ack 1", 10, "flags P., expected ."},
		{"wrong port", "+0 > P. 1:101(100) ack 1", "+0 > 8080>50001 P. 1:101(100) ack 1", 10, "packet to port 48123, not the remote host's 50001"},
		{"wrong source port", "+0 > P. 1:101(100) ack 1", "+0 > 8081>48123 P. 1:101(100) ack 1", 10, "packet from port 8080, expected 8081"},
		{"wrong result", "+.1 read(4, ..., 10) = 0", "+.1 read(4, ..., 10) = 10", 13, "read returned 0"},
		{"wrong errno", "+0 bind(3, ..., ...) = 0", "+0 bind(3, ..., ...) = -1 EADDRINUSE (Address in use)", 3, "bind returned 0"},
		{"call blocks", "+0 write(4, ..., 100) = 100", "+0 read(4, ..., 10) = 0\n+0 write(4, ..., 100) = 100", 9, "blocked"},
		{"blocking call late", "+.1 < F. 1:1(0) ack 101 win 257", "+0...0.15 read(4, ..., 10) = 0\n+.1 < F. 1:1(0) ack 101 win 257", 11, "returned at 0.200000, expected 0.250000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(base, c.from, c.to, 1)
			if src == base {
				t.Fatalf("%q is not in base", c.from)
			}
			r := run(t, src, Options{})
			if r.Status != Fail || r.Line != c.line || !strings.Contains(r.String(), c.says) {
				t.Fatalf("want a failure at line %d saying %q, got:\n%v", c.line, c.says, r)
			}
		})
	}
}

// Tolerance: a packet within 4 ms (or 12.5% of the gap) of its time
// passes, and --tolerance_usecs widens that.
func TestRun_ToleranceBoundsTiming(t *testing.T) {
	early := strings.Replace(base, "+0 > F. 101:101(0) ack 2", "+.003 > F. 101:101(0) ack 2", 1)
	if r := run(t, early, Options{}); r.Status != Pass {
		t.Fatalf("3 ms off with 4 ms tolerance: %v", r)
	}
	late := strings.Replace(base, "+0 > F. 101:101(0) ack 2", "+.02 > F. 101:101(0) ack 2", 1)
	if r := run(t, late, Options{}); r.Status != Fail {
		t.Fatalf("20 ms off with 4 ms tolerance passed: %v", r)
	}
	if r := run(t, "--tolerance_usecs=30000\n"+late, Options{}); r.Status != Pass {
		t.Fatalf("20 ms off with 30 ms tolerance: %v", r)
	}
}

// Constructs the runner cannot judge are reported apart from failures.
func TestRun_UnsupportedIsNotFailure(t *testing.T) {
	cases := []struct{ src, says string }{
		{"`tc qdisc add dev tun0 root pfifo`\n" + base, "shell command"},
		{base + "+0 %{ print(tcpi_rtt) }%\n", "python block not judged"},
		{strings.Replace(base, "+0 bind(3", "+0 ioctl(3, SIOCOUTQ, [0]) = 0\n+0 bind(3", 1), "ioctl SIOCOUTQ"},
		{strings.Replace(base, "SO_REUSEADDR", "SO_RCVLOWAT", 1), "socket option SO_RCVLOWAT"},
	}
	for _, c := range cases {
		r := run(t, c.src, Options{})
		if r.Status != Unsupported || !strings.Contains(r.Message, c.says) {
			t.Errorf("want unsupported %q, got %v", c.says, r)
		}
	}
}

// Consecutive segments count as one line until they carry its length;
// the same packets also match line by line.
func TestRun_SegmentsAggregateUpToTheLineLength(t *testing.T) {
	src := readFile(t, "testdata/nonblocking_read_accept.pkt")
	const whole = "+0   > P. 1:1501(1500) ack 1"
	if !strings.Contains(src, whole) {
		t.Fatal("the script changed")
	}
	split := strings.Replace(src, whole, "+0 > . 1:1001(1000) ack 1\n+0 > P. 1001:1501(500) ack 1", 1)
	if r := run(t, split, Options{}); r.Status != Pass {
		t.Fatal(r)
	}
	short := strings.Replace(src, whole, "+0 > P. 1:1001(1000) ack 1", 1)
	if r := run(t, short, Options{}); r.Status != Fail || !strings.Contains(r.Message, "flags ., expected P.") {
		t.Fatalf("the first segment alone has no PSH: %v", r)
	}
}

// The shell preamble's sysctls reach the stack: with tcp_sack=0 the
// SYN-ACK offers no SACK; what has no meaning here is noted.
func TestRun_SysctlsReachTheStack(t *testing.T) {
	src := strings.Replace(base, "<mss 1000,nop,wscale 7>", "<mss 1000,sackOK,nop,nop,nop,wscale 7>", 1)
	withSACK := strings.Replace(src, "<mss 1460,nop,wscale 7>", "<mss 1460,nop,nop,sackOK,nop,wscale 7>", 1)
	if r := run(t, withSACK, Options{}); r.Status != Pass || len(r.Notes) != 0 {
		t.Fatalf("SACK on by default: %v", r)
	}
	off := "`sysctl -q net.ipv4.tcp_sack=0 net.ipv4.tcp_frto=2`\n" + src
	r := run(t, off, Options{})
	if r.Status != Pass || len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "net.ipv4.tcp_frto=2") {
		t.Fatalf("tcp_sack=0: %v", r)
	}
	if r := run(t, "`sysctl -q net.ipv4.tcp_sack=0`\n"+withSACK, Options{}); r.Status != Fail || r.Line != 7 {
		t.Fatalf("tcp_sack=0 still offered SACK: %v", r)
	}
}
