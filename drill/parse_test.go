package drill

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
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
	if len(s.Unsupported) != 2 || s.Unsupported[0].Line != 6 || s.Unsupported[1].Line != 9 {
		t.Fatalf("unsupported: %v", s.Unsupported)
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
