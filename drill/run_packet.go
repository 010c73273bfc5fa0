package drill

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/teardown-lab/teardown/clock"
)

// TCP flag bits, RFC 9293 §3.1.
const (
	flFIN = 1 << iota
	flSYN
	flRST
	flPSH
	flACK
	flURG
	flECE
	flCWR
)

var flagLetters = []struct {
	letter byte
	bit    uint8
}{{'S', flSYN}, {'F', flFIN}, {'R', flRST}, {'P', flPSH}, {'.', flACK}, {'E', flECE}, {'W', flCWR}, {'U', flURG}}

func flagBits(s string) uint8 {
	var b uint8
	for i := 0; i < len(s); i++ {
		for _, f := range flagLetters {
			if f.letter == s[i] {
				b |= f.bit
			}
		}
	}
	return b
}

func flagText(b uint8) string {
	var s []byte
	for _, f := range flagLetters {
		if b&f.bit != 0 {
			s = append(s, f.letter)
		}
	}
	return string(s)
}

// sniffed is a TCP segment the stack sent, in live numbers.
type sniffed struct {
	at           clock.Instant
	sport, dport uint16
	flags        uint8
	seq, ack     uint32
	win          uint16
	opts         []Option
	payload      uint32
	dccp         *dccpSniffed // a DCCP packet (run_dccp.go): the TCP fields are unused
}

func decodeOptions(b []byte) []Option {
	var out []Option
	for len(b) > 0 {
		switch b[0] {
		case 0:
			return append(out, Option{Kind: OptEOL})
		case 1:
			out = append(out, Option{Kind: OptNOP})
			b = b[1:]
			continue
		}
		if len(b) < 2 || int(b[1]) < 2 || int(b[1]) > len(b) {
			return out
		}
		v := b[2:b[1]]
		switch {
		case b[0] == 2 && len(v) == 2:
			out = append(out, Option{Kind: OptMSS, Value: uint32(binary.BigEndian.Uint16(v))})
		case b[0] == 3 && len(v) == 1:
			out = append(out, Option{Kind: OptWScale, Value: uint32(v[0])})
		case b[0] == 4:
			out = append(out, Option{Kind: OptSACKOK})
		case b[0] == 8 && len(v) == 8:
			out = append(out, Option{Kind: OptTS, TSVal: binary.BigEndian.Uint32(v), TSEcr: binary.BigEndian.Uint32(v[4:])})
		case b[0] == 5 && len(v)%8 == 0:
			o := Option{Kind: OptSACK}
			for i := 0; i+8 <= len(v); i += 8 {
				o.Blocks = append(o.Blocks, [2]uint32{binary.BigEndian.Uint32(v[i:]), binary.BigEndian.Uint32(v[i+4:])})
			}
			out = append(out, o)
		}
		b = b[b[1]:]
	}
	return out
}

// match compares a sent segment with an outbound line, learning the
// stack's ISN and timestamp offset from the first that shows them. It
// returns what differs, or "".
func (d *driver) match(p *Packet, s *sniffed) string {
	rport := d.rport
	if p.DstPort != 0 {
		rport = p.DstPort
	}
	if s.dport != rport {
		return fmt.Sprintf("packet to port %d, not the remote host's %d", s.dport, rport)
	}
	if p.SrcPort != 0 && s.sport != p.SrcPort {
		return fmt.Sprintf("packet from port %d, expected %d", s.sport, p.SrcPort)
	}
	if p.dccp != nil || s.dccp != nil {
		return d.matchDCCP(p, s) // run_dccp.go
	}
	if want := flagBits(p.Flags); s.flags != want {
		return fmt.Sprintf("flags %s, expected %s", flagText(s.flags), flagText(want))
	}
	f := d.flow(rport)
	if s.flags&flSYN != 0 { // a new connection: its own ISN, port, TS clock
		f.localOff, f.tsKnown = s.seq-p.Seq, false
		f.lport = s.sport
	}
	if f.lport == 0 {
		f.lport = s.sport
	}
	if got := s.seq - f.localOff; got != p.Seq || s.payload != p.Len {
		return fmt.Sprintf("seq %d:%d(%d), expected %d:%d(%d)", got, got+s.payload, s.payload, p.Seq, p.Seq+p.Len, p.Len)
	}
	if p.HasAck {
		if got := s.ack - f.remoteOff; got != p.Ack {
			return fmt.Sprintf("ack %d, expected %d", got, p.Ack)
		}
	}
	if p.HasWin && uint32(s.win) != p.Win {
		return fmt.Sprintf("win %d, expected %d", s.win, p.Win)
	}
	for _, o := range s.opts {
		if o.Kind == OptTS && !f.tsKnown {
			for _, w := range p.Options {
				if w.Kind == OptTS {
					f.tsOff, f.tsKnown = o.TSVal-w.TSVal, true
				}
			}
		}
	}
	if !p.OptsGiven || p.AnyOptions {
		return ""
	}
	if len(s.opts) != len(p.Options) {
		return fmt.Sprintf("options <%s>, expected <%s>", d.optText(s.opts, f), d.optText(p.Options, nil))
	}
	for i, w := range p.Options {
		g := s.opts[i]
		ok := g.Kind == w.Kind
		switch {
		case !ok:
		case w.Kind == OptMSS || w.Kind == OptWScale:
			ok = g.Value == w.Value
		case w.Kind == OptTS:
			ok = g.TSEcr == w.TSEcr // val is the stack's clock: not judged
		case w.Kind == OptSACK:
			ok = len(g.Blocks) == len(w.Blocks)
			for j := 0; ok && j < len(w.Blocks); j++ {
				ok = g.Blocks[j][0]-f.remoteOff == w.Blocks[j][0] && g.Blocks[j][1]-f.remoteOff == w.Blocks[j][1]
			}
		}
		if !ok {
			return fmt.Sprintf("options <%s>, expected <%s>", d.optText(s.opts, f), d.optText(p.Options, nil))
		}
	}
	return ""
}

// optText writes options in the script's words; live ones (f not nil)
// are mapped back to script numbers with f's numbering.
func (d *driver) optText(opts []Option, f *flow) string {
	live := f != nil
	var parts []string
	for _, o := range opts {
		switch o.Kind {
		case OptNOP:
			parts = append(parts, "nop")
		case OptEOL:
			parts = append(parts, "eol")
		case OptSACKOK:
			parts = append(parts, "sackOK")
		case OptMSS:
			parts = append(parts, fmt.Sprintf("mss %d", o.Value))
		case OptWScale:
			parts = append(parts, fmt.Sprintf("wscale %d", o.Value))
		case OptTS:
			val := o.TSVal
			if live {
				val -= f.tsOff
			}
			parts = append(parts, fmt.Sprintf("TS val %d ecr %d", val, o.TSEcr))
		case OptSACK:
			s := "sack"
			for _, b := range o.Blocks {
				if live {
					b[0], b[1] = b[0]-f.remoteOff, b[1]-f.remoteOff
				}
				s += fmt.Sprintf(" %d:%d", b[0], b[1])
			}
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ",")
}

// format writes a sent segment as an outbound line, in script numbers.
func (d *driver) format(s *sniffed) string {
	if s.dccp != nil {
		return d.formatDCCP(s) // run_dccp.go
	}
	f := d.flow(s.dport)
	ports := ""
	if s.dport != d.rport {
		ports = fmt.Sprintf("%d>%d ", s.sport, s.dport)
	}
	seq := s.seq - f.localOff
	out := fmt.Sprintf("%s > %s%s %d:%d(%d)", d.since(s.at), ports, flagText(s.flags), seq, seq+s.payload, s.payload)
	if s.flags&flACK != 0 {
		out += fmt.Sprintf(" ack %d", s.ack-f.remoteOff)
	}
	out += fmt.Sprintf(" win %d", s.win)
	if len(s.opts) > 0 {
		out += " <" + d.optText(s.opts, f) + ">"
	}
	return out
}
