package drill

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/profile"
)

func parseOne(t *testing.T, line string) Event {
	t.Helper()
	s, err := Parse("t.pkt", []byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Events) != 1 {
		t.Fatalf("%d events from %q", len(s.Events), line)
	}
	return s.Events[0]
}

func TestParse_Times(t *testing.T) {
	cases := []struct {
		text string
		want When
	}{
		{"0 close(3) = 0", When{Kind: TimeAbs}},
		{"1.5 close(3) = 0", When{Kind: TimeAbs, At: 1500 * time.Millisecond}},
		{"+.1 close(3) = 0", When{Kind: TimeRel, At: 100 * time.Millisecond}},
		{"* > . 1:1(0) ack 1", When{Kind: TimeAny}},
		{"+0~+0.2 > . 1:1(0) ack 1", When{Kind: TimeRel, Range: true, End: 200 * time.Millisecond, EndRel: true}},
		{"0.1~0.3 > . 1:1(0) ack 1", When{Kind: TimeAbs, At: 100 * time.Millisecond, Range: true, End: 300 * time.Millisecond}},
		{"+0...0.25 accept(3, ..., ...) = 4", When{Kind: TimeRel, Block: true, End: 250 * time.Millisecond}},
		{"0.000001 close(3) = 0", When{Kind: TimeAbs, At: time.Microsecond}},
	}
	for _, c := range cases {
		if got := parseOne(t, c.text).When; got != c.want {
			t.Errorf("%q: got %+v, want %+v", c.text, got, c.want)
		}
	}
}

func TestParse_Packet(t *testing.T) {
	ev := parseOne(t, "+0 < S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7,sack 1:5 9:10,eol>")
	want := &Packet{Inbound: true, Flags: "S.", HasAck: true, Ack: 1, HasWin: true, Win: 65535, OptsGiven: true,
		Options: []Option{{Kind: OptMSS, Value: 1460}, {Kind: OptSACKOK}, {Kind: OptTS, TSVal: 100},
			{Kind: OptNOP}, {Kind: OptWScale, Value: 7}, {Kind: OptSACK, Blocks: [][2]uint32{{1, 5}, {9, 10}}}, {Kind: OptEOL}}}
	if !reflect.DeepEqual(ev.Packet, want) {
		t.Fatalf("got %+v\nwant %+v", ev.Packet, want)
	}
	ev = parseOne(t, "+0 > P. 1001:2001(1000) ack 1 <...>")
	if p := ev.Packet; p.Inbound || p.Seq != 1001 || p.Len != 1000 || !p.AnyOptions || p.HasWin {
		t.Fatalf("got %+v", p)
	}
}

func TestParse_Call(t *testing.T) {
	ev := parseOne(t, "+0 setsockopt(4, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}, 8) = 0")
	c := ev.Call
	if c.Name != "setsockopt" || len(c.Args) != 5 || c.Args[3].Kind != ArgStruct ||
		c.Args[3].Fields[1].Name != "l_linger" || c.Args[3].Fields[1].Value.Int != 0 {
		t.Fatalf("got %+v", c)
	}
	ev = parseOne(t, "+0 read(4, ..., 1000) = -1 ECONNRESET (Connection reset by peer)")
	if c := ev.Call; c.Ret != -1 || c.Errno != "ECONNRESET" || c.Args[1].Kind != ArgAny {
		t.Fatalf("got %+v", c)
	}
	ev = parseOne(t, "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0")
	if a := ev.Call.Args[2]; a.Kind != ArgSym || !reflect.DeepEqual(a.Syms, []string{"O_RDWR", "O_NONBLOCK"}) {
		t.Fatalf("got %+v", a)
	}
}

func TestParse_CommentsShellAndOptions(t *testing.T) {
	src := "--tolerance_usecs=14000\n// a comment\n/* a\nlong\ncomment */\n`sysctl -q a=1\nsysctl -q b=2`\n" +
		"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3 // trailing\n%{\nassert x\n}%\n"
	s, err := Parse("t.pkt", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if s.Tolerance != 14*time.Millisecond || len(s.Events) != 1 || s.Events[0].Line != 8 {
		t.Fatalf("got tolerance %v, events %+v", s.Tolerance, s.Events)
	}
	if len(s.Unsupported) != 1 || s.Unsupported[0].Line != 9 {
		t.Fatalf("unsupported: %v", s.Unsupported)
	}
	want := []Sysctl{{6, "a", "1"}, {6, "b", "2"}}
	if !reflect.DeepEqual(s.Sysctls, want) {
		t.Fatalf("sysctls %v, want %v", s.Sysctls, want)
	}
}

// A bad script is rejected with the line of its error.
func TestParse_ErrorsNameTheLine(t *testing.T) {
	cases := []struct {
		src  string
		line int
		says string
	}{
		{"0 close(3) = 0\n+0 > X 1:1(0)", 2, "unknown TCP flag"},
		{"0 > . 1:5(3)", 1, "is 4 bytes, not (3)"},
		{"\n\n0 < S 0:0(0) <mss 1460", 3, "do not end"},
		{"0 < S 0:0(0) <mss>", 1, "needs its value"},
		{"0 < S 0:0(0) <bogus 1>", 1, "unknown TCP option"},
		{"0 close(3)", 1, "needs its result"},
		{"0 close(3) = -1", 1, "needs its errno"},
		{"abc close(3) = 0", 1, "bad time"},
		{"0", 1, "needs an event"},
		{"0 < . 1:1(0) win 70000", 1, "16-bit"},
		{"0 < S 0:0(0) <...>", 1, "inbound packet needs its own"},
		{"0~1 close(3) = 0", 1, "not a range"},
		{"0\n`unterminated", 2, "unterminated"},
		{"0 setsockopt(3, [[[[[[[[[[1]]]]]]]]]]) = 0", 1, "nested too deep"},
		{"--tolerance_usecs=x", 1, "tolerance_usecs"},
	}
	for _, c := range cases {
		_, err := Parse("bad.pkt", []byte(c.src))
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line != c.line || !strings.Contains(pe.Msg, c.says) {
			t.Errorf("%q: want line %d saying %q, got %v", c.src, c.line, c.says, err)
		}
	}
}

// The parser never panics, and what it accepts carries a line inside
// the script.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.pkt")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Parse("fuzz.pkt", src)
		lines := strings.Count(string(src), "\n") + 1
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Line > lines {
				t.Fatalf("error without a line inside the script: %v", err)
			}
			return
		}
		for _, ev := range s.Events {
			kinds := 0
			for _, is := range []bool{ev.Packet != nil, ev.Call != nil, ev.Info != nil} {
				if is {
					kinds++
				}
			}
			if ev.Line < 1 || ev.Line > lines || kinds != 1 {
				t.Fatalf("bad event %+v", ev)
			}
		}
	})
}

// packetdrill's "src>dst" ports before the flags pick a connection.
func TestParse_PacketPorts(t *testing.T) {
	p := parseOne(t, "+0 < 50001>8080 S 0:0(0) win 100").Packet
	if p.SrcPort != 50001 || p.DstPort != 8080 || p.Flags != "S" {
		t.Fatalf("got %+v", p)
	}
	p = parseOne(t, "+0 > 8080>50001 S. 0:0(0) ack 1 <...>").Packet
	if p.SrcPort != 8080 || p.DstPort != 50001 || p.Flags != "S." {
		t.Fatalf("got %+v", p)
	}
	for _, bad := range []string{"+0 < 50001 S 0:0(0)", "+0 < 0>8080 S 0:0(0)", "+0 < 70000>8080 S 0:0(0)"} {
		if _, err := Parse("t.pkt", []byte(bad)); err == nil || !strings.Contains(err.Error(), "port") {
			t.Errorf("%q: want a port error, got %v", bad, err)
		}
	}
}

// The usual shell preamble becomes settings; other commands are
// unsupported, each named.
func TestParse_ShellPreamble(t *testing.T) {
	src := "`../common/defaults.sh`\n" +
		"`sysctl -q net.ipv4.tcp_timestamps=0 net.ipv4.tcp_sack=0; echo 1 > /proc/sys/net/ipv4/tcp_rfc1337`\n" +
		"`sysctl -q net.ipv4.tcp_wmem=\"4096 $((64*1024)) 4194304\" > /dev/null 2>&1`\n" +
		"`tc qdisc add dev tun0 root fq`\n0 close(3) = 0\n"
	s, err := Parse("t.pkt", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Unsupported) != 1 || s.Unsupported[0].Line != 4 || !strings.Contains(s.Unsupported[0].What, "tc qdisc") {
		t.Fatalf("unsupported: %v", s.Unsupported)
	}
	n := len(defaultsSh)
	want := []Sysctl{{2, "net.ipv4.tcp_timestamps", "0"}, {2, "net.ipv4.tcp_sack", "0"},
		{2, "net.ipv4.tcp_rfc1337", "1"}, {3, "net.ipv4.tcp_wmem", "4096 65536 4194304"}}
	if len(s.Sysctls) != n+len(want) || s.Sysctls[0] != (Sysctl{1, "net.ipv4.tcp_rmem", "4096 540000 15728640"}) ||
		!reflect.DeepEqual(s.Sysctls[n:], want) {
		t.Fatalf("sysctls %v", s.Sysctls)
	}
	c := simConfigFor(s, profile.Linux)
	if !c.tcp.NoTimestamps || !c.tcp.NoSACK || c.tcp.SendBuffer != 65536 || c.tcp.ReceiveBuffer != 540000 || c.tcp.MaxReceiveBuffer != 15<<20 ||
		!c.profile.IgnoreRSTInTimeWait || c.tcp.CongestionControl != "cubic" || c.listen.NoSYNCookies {
		t.Fatalf("config %+v", c)
	}
	if !slices.Contains(c.notApplied, "net.ipv4.tcp_frto=2") || slices.Contains(c.notApplied, "net.ipv4.tcp_sack=1") {
		t.Fatalf("not applied: %v", c.notApplied)
	}
}

// -D and --define name words that later lines use; --mss and
// --ip_version=ipv6 are read.
func TestParse_DefinesMSSAndIPv6(t *testing.T) {
	src := "--ip_version=ipv6\n--mss=1000\n-D FD=3\n--define=HOW=SHUT_WR\n0 shutdown(FD, HOW) = 0\n"
	s, err := Parse("t.pkt", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	c := s.Events[0].Call
	if !s.IPv6 || s.MSS != 1000 || c.Args[0].Int != 3 || c.Args[1].Syms[0] != "SHUT_WR" {
		t.Fatalf("got %+v, call %+v", s, c)
	}
	for _, bad := range []string{"-D 3X=1", "--mss=x", "--define=novalue"} {
		if _, err := Parse("t.pkt", []byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// A call whose brackets are open at the end of a line goes on to the
// next (packetdrill's msghdr structs); name(N)=value fields and values
// alone parse.
func TestParse_CallOverSeveralLines(t *testing.T) {
	src := "0 sendmsg(4, {msg_name(...)=...,\n   msg_iov(2)=[{..., 40}, {..., 60}],\n   msg_flags=0}, 0) = 100\n+0 close(4) = 0\n"
	s, err := Parse("t.pkt", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Events) != 2 || s.Events[1].Line != 4 {
		t.Fatalf("events %+v", s.Events)
	}
	msg := s.Events[0].Call.Args[1]
	if msg.Kind != ArgStruct || msg.Fields[1].Name != "msg_iov" || msg.Fields[1].Value.Elems[1].Fields[1].Value.Int != 60 {
		t.Fatalf("msghdr %+v", msg)
	}
	if n, err := msgLen(s.Events[0].Call); err != nil || n.Int != 100 {
		t.Fatalf("msgLen %v, %v", n, err)
	}
}
