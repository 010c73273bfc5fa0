package drill

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxEvents bounds a script, so that a hostile one cannot make the
// runner schedule without end.
const maxEvents = 100000

// Parse parses a script. name is used in errors (the file name). Every
// error names its line; the parser never panics on bad input.
func Parse(name string, src []byte) (*Script, error) {
	return ParseWith(name, src, nil)
}

// ParseWith is Parse with symbols defined before the script's first line,
// as packetdrill's command-line -D NAME=VALUE defines them.
func ParseWith(name string, src []byte, defines map[string]string) (*Script, error) {
	s := &Script{Name: name}
	for k, v := range defines {
		if err := s.define(k + "=" + v); err != nil {
			return nil, &ParseError{File: name, Msg: "-D: " + err.Error()}
		}
	}
	stmts, err := statements(string(src))
	if err != nil {
		err.(*ParseError).File = name
		return nil, err
	}
	for _, st := range stmts {
		if err := s.addStatement(st); err != nil {
			return nil, &ParseError{File: name, Line: st.line, Msg: err.Error()}
		}
		if len(s.Events) > maxEvents {
			return nil, &ParseError{File: name, Line: st.line, Msg: "too many events"}
		}
	}
	return s, nil
}

type statement struct {
	line int
	text string
}

// statements splits src into statements: one per line, except that a
// backquoted shell command and a %{ }% block may span lines, and so may a
// call whose brackets are still open at the end of a line (packetdrill's
// grammar is free-form; its sendmsg lines spread a struct over several).
// Comments (// to the end of the line, /* */) are removed.
func statements(src string) ([]statement, error) {
	var out []statement
	var cur strings.Builder
	line, start := 1, 1
	var inShell, inPy, inComment bool
	depth := 0    // open ( [ { outside shell and Python
	empty := true // cur holds only blanks so far
	flush := func() {
		if t := strings.TrimSpace(cur.String()); t != "" {
			out = append(out, statement{line: start, text: t})
		}
		cur.Reset()
		empty = true
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case inComment:
			if c == '*' && i+1 < len(src) && src[i+1] == '/' {
				inComment = false
				i++
			} else if c == '\n' {
				line++
			}
			continue
		case inShell:
			cur.WriteByte(c)
			if c == '`' {
				inShell = false
			}
		case inPy:
			cur.WriteByte(c)
			if c == '}' && i+1 < len(src) && src[i+1] == '%' {
				cur.WriteByte('%')
				i++
				inPy = false
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			i-- // the newline is handled below
			continue
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			inComment = true
			i++
			continue
		case c == '`':
			if empty {
				start, empty = line, false
			}
			inShell = true
			cur.WriteByte(c)
		case c == '%' && i+1 < len(src) && src[i+1] == '{':
			if empty {
				start, empty = line, false
			}
			inPy = true
			cur.WriteString("%{")
			i++
		case c == '\n' && depth > 0:
			cur.WriteByte(' ')
		case c == '\n':
			flush()
			start = line + 1
		default:
			if empty && c != ' ' && c != '\t' && c != '\r' {
				start, empty = line, false
			}
			switch c {
			case '(', '[', '{':
				depth++
			case ')', ']', '}':
				depth = max(depth-1, 0)
			}
			cur.WriteByte(c)
		}
		if c == '\n' {
			line++
		}
	}
	switch {
	case inShell:
		return nil, &ParseError{Line: start, Msg: "unterminated ` shell command"}
	case inPy:
		return nil, &ParseError{Line: start, Msg: "unterminated %{ block"}
	case inComment:
		return nil, &ParseError{Line: line, Msg: "unterminated /* comment"}
	}
	flush()
	return out, nil
}

func (s *Script) addStatement(st statement) error {
	t := st.text
	switch {
	case strings.HasPrefix(t, "--"):
		return s.option(st.line, t)
	case strings.HasPrefix(t, "`"):
		s.shell(st.line, t)
		return nil
	case strings.HasPrefix(t, "%{"):
		s.addInfo(st.line, When{Kind: TimeRel}, t) // untimed: with the previous event
		return nil
	case strings.HasPrefix(t, "-D"):
		return s.define(strings.TrimSpace(strings.TrimPrefix(t, "-D")))
	}
	t = s.substitute(t)
	when, rest, err := parseWhen(t)
	if err != nil {
		return err
	}
	ev := Event{Line: st.line, Text: t, When: when}
	switch {
	case strings.HasPrefix(rest, "`"):
		// A timed shell line runs at its time in packetdrill; here its
		// settings apply from the start.
		s.shell(st.line, rest)
		return nil
	case strings.HasPrefix(rest, "%{"):
		s.addInfo(st.line, when, rest)
		return nil
	case strings.HasPrefix(rest, "<") || strings.HasPrefix(rest, ">"):
		p, err := parsePacket(rest)
		if err != nil {
			return err
		}
		if when.Block {
			return fmt.Errorf("a packet cannot block (%q)", t)
		}
		if p.Inbound && (when.Range || when.Kind == TimeAny) {
			return fmt.Errorf("an inbound packet needs one time, not a range or *")
		}
		ev.Packet = p
	default:
		c, err := parseCall(rest)
		if err != nil {
			return err
		}
		if when.Range {
			return fmt.Errorf("a call takes a time or a blocking start...end, not a range")
		}
		ev.Call = c
	}
	s.Events = append(s.Events, ev)
	return nil
}

// option reads a command-line option written in the script.
func (s *Script) option(line int, t string) error {
	name, val, _ := strings.Cut(strings.TrimPrefix(t, "--"), "=")
	switch name {
	case "tolerance_usecs":
		n, err := strconv.ParseUint(strings.TrimSpace(val), 10, 32)
		if err != nil {
			return fmt.Errorf("--tolerance_usecs wants a whole number of microseconds, not %q", val)
		}
		s.Tolerance = time.Duration(n) * time.Microsecond
	case "define":
		return s.define(val)
	case "mss":
		n, err := strconv.ParseUint(strings.TrimSpace(val), 10, 16)
		if err != nil || n < 64 {
			return fmt.Errorf("--mss wants a segment size from 64 to 65535, not %q", val)
		}
		s.MSS = int(n)
	case "ip_version":
		switch strings.TrimSpace(val) {
		case "ipv4":
		case "ipv6":
			s.IPv6 = true
		default: // ipv4-mapped-ipv6
			s.Unsupported = append(s.Unsupported, Construct{line, "option " + t})
		}
	default:
		s.Unsupported = append(s.Unsupported, Construct{line, "option " + t})
	}
	return nil
}

// define reads a symbol definition NAME=VALUE (packetdrill's -D and
// --define): from here on, the word NAME in a line stands for VALUE.
func (s *Script) define(def string) error {
	name, val, ok := strings.Cut(def, "=")
	if !ok || !isIdent(name) {
		return fmt.Errorf("a definition is NAME=VALUE, not %q", def)
	}
	if s.Defines == nil {
		s.Defines = map[string]string{}
	}
	s.Defines[name] = val
	return nil
}

// substitute replaces each defined word of t by its value, as
// packetdrill's lexer does with every word; a quoted value stands for the
// text between the quotes' string.
func (s *Script) substitute(t string) string {
	if len(s.Defines) == 0 {
		return t
	}
	var b strings.Builder
	for i := 0; i < len(t); {
		c := t[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b.WriteByte(c)
			i++
			continue
		}
		j := i
		for j < len(t) && (t[j] == '_' || t[j] >= 'a' && t[j] <= 'z' || t[j] >= 'A' && t[j] <= 'Z' || t[j] >= '0' && t[j] <= '9') {
			j++
		}
		if v, ok := s.Defines[t[i:j]]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(t[i:j])
		}
		i = j
	}
	return b.String()
}

func shorten(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + "..."
	}
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// parseWhen reads the time at the start of a line: "*", "0.1", "+0.1",
// "0.1~0.2", "+0...0.5" or "+0...+0.5".
func parseWhen(t string) (When, string, error) {
	var w When
	word, rest := t, ""
	if i := strings.IndexAny(t, " \t"); i >= 0 {
		word, rest = t[:i], strings.TrimSpace(t[i:])
	}
	if rest == "" {
		return w, "", fmt.Errorf("a time needs an event after it: %q", t)
	}
	if word == "*" {
		w.Kind = TimeAny
		return w, rest, nil
	}
	first, second, sep := word, "", ""
	if a, b, ok := strings.Cut(word, "..."); ok {
		first, second, sep = a, b, "..."
	} else if a, b, ok := strings.Cut(word, "~"); ok {
		first, second, sep = a, b, "~"
	}
	rel, d, err := parseTime(first)
	if err != nil {
		return w, "", err
	}
	w.At = d
	if rel {
		w.Kind = TimeRel
	}
	if sep != "" {
		w.Block, w.Range = sep == "...", sep == "~"
		w.EndRel, w.End, err = parseTime(second)
		if err != nil {
			return w, "", err
		}
		if !w.EndRel && w.Kind == TimeAbs && w.End < w.At {
			return w, "", fmt.Errorf("%q ends before it starts", word)
		}
	}
	return w, rest, nil
}

// parseTime reads "[+]seconds" with up to microsecond precision.
func parseTime(s string) (rel bool, d time.Duration, err error) {
	if strings.HasPrefix(s, "+") {
		rel, s = true, s[1:]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || s == "" || s[0] == '-' || s[0] == '+' || f > 1e6 || f != f {
		return false, 0, fmt.Errorf("bad time %q: want seconds such as 0.1 or +0.1", s)
	}
	return rel, time.Duration(f*1e6+0.5) * time.Microsecond, nil
}
