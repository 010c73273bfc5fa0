package drill

import (
	"fmt"
	"strconv"
	"strings"
)

// cursor walks a statement's text.
type cursor struct {
	s string
	i int
}

func (c *cursor) skip() {
	for c.i < len(c.s) && (c.s[c.i] == ' ' || c.s[c.i] == '\t' || c.s[c.i] == '\r' || c.s[c.i] == '\n') {
		c.i++
	}
}

func (c *cursor) done() bool { c.skip(); return c.i >= len(c.s) }

// eat consumes lit if it comes next.
func (c *cursor) eat(lit string) bool {
	c.skip()
	if strings.HasPrefix(c.s[c.i:], lit) {
		c.i += len(lit)
		return true
	}
	return false
}

// word returns the next run of characters that are not space or one of stop.
func (c *cursor) word(stop string) string {
	c.skip()
	j := c.i
	for j < len(c.s) && !strings.ContainsRune(" \t\r\n"+stop, rune(c.s[j])) {
		j++
	}
	w := c.s[c.i:j]
	c.i = j
	return w
}

func (c *cursor) uint32(what string) (uint32, error) {
	w := c.word(":(),<>")
	n, err := strconv.ParseUint(w, 0, 32)
	if err != nil {
		return 0, fmt.Errorf("bad %s %q: want a number up to 4294967295", what, w)
	}
	return uint32(n), nil
}

func (c *cursor) rest() string { c.skip(); return c.s[c.i:] }

// parsePacket reads "< S. 0:0(0) ack 1 win 65535 <mss 1460,...>".
func parsePacket(t string) (*Packet, error) {
	c := &cursor{s: t}
	p := &Packet{Inbound: t[0] == '<'}
	c.i = 1
	c.skip()
	if c.i < len(c.s) && c.s[c.i] >= '0' && c.s[c.i] <= '9' {
		if err := parsePorts(c, p); err != nil {
			return nil, err
		}
	}
	if c.eat("dccp ") {
		if err := parseDCCP(c, p); err != nil {
			return nil, err
		}
		return p, nil
	}
	p.Flags = c.word("")
	if p.Flags == "" {
		return nil, fmt.Errorf("a packet line needs its flags (S, S., ., P., F., R...)")
	}
	for _, f := range p.Flags {
		if !strings.ContainsRune("SFRP.EWU", f) {
			return nil, fmt.Errorf("unknown TCP flag %q in %q (want S F R P . E W U)", f, p.Flags)
		}
	}
	c.skip()
	if c.i < len(c.s) && c.s[c.i] >= '0' && c.s[c.i] <= '9' {
		seq, err := c.uint32("sequence number")
		if err != nil {
			return nil, err
		}
		if !c.eat(":") {
			return nil, fmt.Errorf("want start:end(length) after the flags")
		}
		end, err := c.uint32("end sequence number")
		if err != nil {
			return nil, err
		}
		if !c.eat("(") {
			return nil, fmt.Errorf("want (length) after %d:%d", seq, end)
		}
		n, err := c.uint32("length")
		if err != nil {
			return nil, err
		}
		if !c.eat(")") {
			return nil, fmt.Errorf("want ) after the length")
		}
		if end-seq != n {
			return nil, fmt.Errorf("%d:%d is %d bytes, not (%d)", seq, end, end-seq, n)
		}
		if n > 65000 {
			return nil, fmt.Errorf("length %d is larger than a packet", n)
		}
		p.Seq, p.Len = seq, n
	} else if !p.Inbound || !c.done() && !strings.HasPrefix(c.rest(), "ack") && !strings.HasPrefix(c.rest(), "win") {
		return nil, fmt.Errorf("want start:end(length) after the flags, not %q", c.rest())
	}
	for !c.done() {
		switch {
		case c.eat("ack"):
			n, err := c.uint32("ack number")
			if err != nil {
				return nil, err
			}
			p.HasAck, p.Ack = true, n
		case c.eat("win"):
			n, err := c.uint32("window")
			if err != nil {
				return nil, err
			}
			if n > 65535 {
				return nil, fmt.Errorf("window %d does not fit the 16-bit field", n)
			}
			p.HasWin, p.Win = true, n
		case c.eat("<"):
			j := strings.IndexByte(c.s[c.i:], '>')
			if j < 0 {
				return nil, fmt.Errorf("options start with < but do not end with >")
			}
			body := strings.TrimSpace(c.s[c.i : c.i+j])
			c.i += j + 1
			p.OptsGiven = true
			if body == "..." {
				p.AnyOptions = true
				if p.Inbound {
					return nil, fmt.Errorf("<...> means any options: an inbound packet needs its own")
				}
				continue
			}
			opts, err := parseOptions(body)
			if err != nil {
				return nil, err
			}
			p.Options = opts
		default:
			return nil, fmt.Errorf("unexpected %q in a packet line (want ack, win or <options>)", c.word(""))
		}
	}
	return p, nil
}

// parsePorts reads packetdrill's "src>dst" ports before the flags.
func parsePorts(c *cursor, p *Packet) error {
	var port [2]uint16
	for i := range port {
		n, err := strconv.ParseUint(c.word(">"), 10, 16)
		if err != nil || n == 0 {
			return fmt.Errorf("bad port in a packet line: want src>dst, two ports from 1 to 65535")
		}
		port[i] = uint16(n)
		if i == 0 && !c.eat(">") {
			return fmt.Errorf("want src>dst ports before the flags")
		}
	}
	p.SrcPort, p.DstPort = port[0], port[1]
	return nil
}

// parseOptions reads "mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7".
func parseOptions(body string) ([]Option, error) {
	var out []Option
	if body == "" {
		return nil, nil
	}
	for _, item := range strings.Split(body, ",") {
		f := strings.Fields(item)
		if len(f) == 0 {
			return nil, fmt.Errorf("an empty option in <%s>", body)
		}
		num := func(i int, what string) (uint32, error) {
			if i >= len(f) {
				return 0, fmt.Errorf("option %q needs its %s", item, what)
			}
			n, err := strconv.ParseUint(f[i], 0, 32)
			if err != nil {
				return 0, fmt.Errorf("bad %s %q in option %q", what, f[i], item)
			}
			return uint32(n), nil
		}
		var o Option
		var err error
		want := 1
		switch f[0] {
		case "nop":
			o.Kind = OptNOP
		case "eol":
			o.Kind = OptEOL
		case "sackOK":
			o.Kind = OptSACKOK
		case "mss":
			o.Kind, want = OptMSS, 2
			if o.Value, err = num(1, "value"); err == nil && o.Value > 65535 {
				err = fmt.Errorf("mss %d does not fit 16 bits", o.Value)
			}
		case "wscale":
			o.Kind, want = OptWScale, 2
			if o.Value, err = num(1, "shift"); err == nil && o.Value > 255 {
				err = fmt.Errorf("wscale %d does not fit a byte", o.Value)
			}
		case "TS":
			o.Kind, want = OptTS, 5
			if len(f) < 5 || f[1] != "val" || f[3] != "ecr" {
				return nil, fmt.Errorf("want TS val N ecr M, not %q", item)
			}
			if o.TSVal, err = num(2, "TS val"); err == nil {
				o.TSEcr, err = num(4, "TS ecr")
			}
		case "sack":
			o.Kind, want = OptSACK, len(f)
			if len(f) < 2 || len(f) > 5 {
				return nil, fmt.Errorf("want sack with 1 to 4 blocks a:b, not %q", item)
			}
			for _, b := range f[1:] {
				l, r, ok := strings.Cut(b, ":")
				lo, err1 := strconv.ParseUint(l, 0, 32)
				hi, err2 := strconv.ParseUint(r, 0, 32)
				if !ok || err1 != nil || err2 != nil {
					return nil, fmt.Errorf("bad SACK block %q", b)
				}
				o.Blocks = append(o.Blocks, [2]uint32{uint32(lo), uint32(hi)})
			}
		default:
			return nil, fmt.Errorf("unknown TCP option %q", f[0])
		}
		if err != nil {
			return nil, err
		}
		if len(f) != want {
			return nil, fmt.Errorf("option %q has extra words", item)
		}
		out = append(out, o)
	}
	return out, nil
}

// parseCall reads "name(args) = result".
func parseCall(t string) (*Call, error) {
	c := &cursor{s: t}
	call := &Call{Name: c.word("(")}
	if call.Name == "" || !isIdent(call.Name) {
		return nil, fmt.Errorf("want a packet (< or >), a call name(...) or a shell command, not %q", shorten(t))
	}
	if !c.eat("(") {
		return nil, fmt.Errorf("want ( after %s", call.Name)
	}
	if !c.eat(")") {
		for {
			a, err := parseArg(c, 0)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", call.Name, err)
			}
			call.Args = append(call.Args, a)
			if c.eat(")") {
				break
			}
			if !c.eat(",") {
				return nil, fmt.Errorf("%s: want , or ) after an argument", call.Name)
			}
		}
	}
	if !c.eat("=") {
		return nil, fmt.Errorf("%s(...) needs its result: = N", call.Name)
	}
	if c.eat("...") {
		call.RetAny = true
	} else {
		w := c.word("(")
		n, err := strconv.ParseInt(w, 0, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: bad result %q", call.Name, w)
		}
		call.Ret = n
		if n == -1 {
			call.Errno = c.word("(")
			if !strings.HasPrefix(call.Errno, "E") || !isIdent(call.Errno) {
				return nil, fmt.Errorf("%s: a -1 result needs its errno (-1 ECONNRESET ...)", call.Name)
			}
		}
	}
	if c.eat("(") { // the errno's text, free: "(Connection reset by peer)"
		if !strings.HasSuffix(c.rest(), ")") {
			return nil, fmt.Errorf("%s: the errno text does not end with )", call.Name)
		}
		c.i = len(c.s)
	}
	if !c.done() {
		return nil, fmt.Errorf("%s: unexpected %q after the result", call.Name, shorten(c.rest()))
	}
	return call, nil
}

func isIdent(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// parseArg reads one argument: ..., a number, SYM|SYM, [list], {struct}
// or "string". depth bounds nesting.
func parseArg(c *cursor, depth int) (Arg, error) {
	if depth > 8 {
		return Arg{}, fmt.Errorf("arguments nested too deep")
	}
	c.skip()
	start := c.i
	var a Arg
	switch {
	case c.eat("..."):
		a.Kind = ArgAny
	case c.eat("["):
		a.Kind = ArgList
		for !c.eat("]") {
			e, err := parseArg(c, depth+1)
			if err != nil {
				return a, err
			}
			a.Elems = append(a.Elems, e)
			if !c.eat(",") && !strings.HasPrefix(c.rest(), "]") {
				return a, fmt.Errorf("want , or ] in a list")
			}
		}
	case c.eat("{"):
		a.Kind = ArgStruct
		for !c.eat("}") {
			// name=value, name(N)=value (packetdrill's msg_iov(1)=...), or
			// a value alone ({..., 1000}, an iovec).
			save := c.i
			name := c.word("=,}(")
			if c.eat("(") {
				j := strings.IndexByte(c.s[c.i:], ')')
				if j < 0 {
					return a, fmt.Errorf("%s( does not close in a struct", name)
				}
				c.i += j + 1
			}
			if !isIdent(name) || !c.eat("=") {
				c.i, name = save, ""
			}
			v, err := parseArg(c, depth+1)
			if err != nil {
				return a, err
			}
			a.Fields = append(a.Fields, Field{name, v})
			if !c.eat(",") && !strings.HasPrefix(c.rest(), "}") {
				return a, fmt.Errorf("want , or } in a struct")
			}
		}
	case c.eat(`"`):
		j := strings.IndexByte(c.s[c.i:], '"')
		if j < 0 {
			return a, fmt.Errorf("a string does not end")
		}
		a.Kind, a.Text = ArgString, c.s[c.i:c.i+j]
		c.i += j + 1
		return a, nil
	default:
		w := c.word(",)]}")
		if n, err := strconv.ParseInt(w, 0, 64); err == nil {
			a.Kind, a.Int = ArgInt, n
			break
		}
		for _, s := range strings.Split(w, "|") {
			if !isIdent(s) {
				return a, fmt.Errorf("bad argument %q", w)
			}
			a.Syms = append(a.Syms, s)
		}
		a.Kind = ArgSym
	}
	a.Text = strings.TrimSpace(c.s[start:c.i])
	return a, nil
}
