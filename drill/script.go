// Package drill runs scripts in packetdrill's language against the stack
// on the simulator, in virtual time.
//
// A script drives one side of a TCP conversation, "local", which is our
// stack: its syscall lines call the stack's sockets, its "<" lines are
// packets a fake remote host sends, its ">" lines are packets the stack
// must send, each at its time. The language and its matching rules are
// packetdrill's (google/packetdrill); this package is written from its
// documented behaviour, not from its code. What the runner does not
// implement is reported as unsupported, apart from failures.
package drill

import (
	"fmt"
	"time"
)

// Script is a parsed script.
type Script struct {
	Name      string
	Tolerance time.Duration // --tolerance_usecs; zero means the default 4 ms
	Events    []Event
	// Unsupported names constructs the parser accepted but the runner
	// cannot judge (a shell line, a Python block, an unknown option),
	// with their line; a script that has one is reported unsupported.
	Unsupported []Construct
	// Sysctls are the settings of the script's shell lines, in order.
	Sysctls []Sysctl
	// Defines are the -D / --define symbols, substituted in the lines
	// after them.
	Defines map[string]string
	// MSS is --mss: inbound packets longer than this are cut into
	// segments of this size, as the kernel cuts packetdrill's GSO writes
	// to its tun device; zero leaves them whole.
	MSS int
	// IPv6 is --ip_version=ipv6: the run uses LocalAddr6 and RemoteAddr6.
	IPv6 bool
}

// DCCP says whether the script has DCCP lines (our extension, run on the
// simulator only).
func (s *Script) DCCP() bool {
	for _, ev := range s.Events {
		if ev.Packet != nil && ev.Packet.dccp != nil {
			return true
		}
	}
	return false
}

// Construct is a piece of a script named with its line.
type Construct struct {
	Line int
	What string
}

func (c Construct) String() string { return fmt.Sprintf("line %d: %s", c.Line, c.What) }

// TimeKind says how an event's time is written.
type TimeKind uint8

const (
	TimeAbs TimeKind = iota // "0.100": from the start of the script
	TimeRel                 // "+0.100": from the previous event
	TimeAny                 // "*": whenever it happens
)

// When is an event's time: a point, a range a~b (outbound packets), or a
// blocking call's start...end.
type When struct {
	Kind  TimeKind
	At    time.Duration
	Range bool // At~End
	Block bool // At...End: a call that blocks until End
	// End is the range's or the blocking call's end; EndRel says it is
	// relative to At's resolved time rather than absolute.
	End    time.Duration
	EndRel bool
}

// Event is one timed line of a script.
type Event struct {
	Line   int
	Text   string // the line as written, for reports
	When   When
	Packet *Packet    // a "<" or ">" line
	Call   *Call      // a syscall line
	Info   *InfoCheck // a %{ }% block of tcp_info assertions (parse_info.go)
}

// Packet is a TCP packet line.
type Packet struct {
	Inbound bool // "<": sent by the remote host to the stack
	// SrcPort and DstPort are packetdrill's "src>dst" ports before the
	// flags, zero when not given: the remote host's port (src of an
	// inbound line, dst of an outbound one) picks the connection the line
	// belongs to, so that one script can drive several.
	SrcPort, DstPort uint16
	// DCCP is set for a DCCP line (parse_dccp.go); the TCP fields are
	// then unused.
	dccp   *dccpPacket
	Flags  string // in the script's letters, "." for ACK: "S.", "F.", "P.", "R"
	Seq    uint32 // relative to the sender's script ISN
	Len    uint32
	HasAck bool
	Ack    uint32
	HasWin bool
	Win    uint32
	// Options: nil with AnyOptions means "<...>"; nil without it, that
	// the script gave none (an outbound line then matches any options,
	// an inbound one is sent without).
	Options    []Option
	OptsGiven  bool
	AnyOptions bool
}

// OptionKind names a TCP option in a script.
type OptionKind uint8

const (
	OptNOP OptionKind = iota
	OptEOL
	OptMSS
	OptWScale
	OptSACKOK
	OptSACK
	OptTS
)

// Option is one TCP option of a packet line.
type Option struct {
	Kind   OptionKind
	Value  uint32      // MSS, window scale shift
	TSVal  uint32      // TS val
	TSEcr  uint32      // TS ecr
	Blocks [][2]uint32 // SACK blocks, relative
}

// Call is a syscall line: name(args) = result.
type Call struct {
	Name string
	Args []Arg
	// Ret is the expected result; RetAny for "= ...". Errno is the
	// symbolic errno of a -1 result ("ECONNRESET").
	Ret    int64
	RetAny bool
	Errno  string
}

// arg is argument i of the call, or "..." (ArgAny) where the script gave
// fewer.
func (c *Call) arg(i int) Arg {
	if i < len(c.Args) {
		return c.Args[i]
	}
	return Arg{Kind: ArgAny}
}

// ArgKind says what an argument is.
type ArgKind uint8

const (
	ArgAny    ArgKind = iota // ...
	ArgInt                   // 1, -1, 0x10
	ArgSym                   // SOL_SOCKET, O_RDWR|O_NONBLOCK (Syms)
	ArgList                  // [1]
	ArgStruct                // {l_onoff=1, l_linger=0}
	ArgString                // "text"
)

// Arg is one argument of a call.
type Arg struct {
	Kind   ArgKind
	Int    int64
	Syms   []string // for ArgSym: the names or-ed together
	Elems  []Arg    // for ArgList
	Fields []Field  // for ArgStruct
	Text   string   // for ArgString, and the raw text of any argument
}

// Field is one name=value of a struct argument.
type Field struct {
	Name  string
	Value Arg
}

// ParseError is a script error with its line.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}
