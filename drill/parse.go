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
	s := &Script{Name: name}
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
// backquoted shell command and a %{ }% block may span lines. Comments
// (// to the end of the line, /* */) are removed.
func statements(src string) ([]statement, error) {
	var out []statement
	var cur strings.Builder
	line, start := 1, 1
	var inShell, inPy, inComment bool
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
		case c == '\n':
			flush()
			start = line + 1
		default:
			if empty && c != ' ' && c != '\t' && c != '\r' {
				start, empty = line, false
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
		s.Unsupported = append(s.Unsupported, Construct{st.line, "shell command " + shorten(t)})
		return nil
	case strings.HasPrefix(t, "%{"):
		s.addInfo(st.line, When{Kind: TimeRel}, t) // untimed: with the previous event
		return nil
	case strings.HasPrefix(t, "-D"):
		s.Unsupported = append(s.Unsupported, Construct{st.line, "symbol definition " + t})
		return nil
	}
	when, rest, err := parseWhen(t)
	if err != nil {
		return err
	}
	ev := Event{Line: st.line, Text: t, When: when}
	switch {
	case strings.HasPrefix(rest, "`"):
		s.Unsupported = append(s.Unsupported, Construct{st.line, "shell command " + shorten(rest)})
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
	case "ip_version":
		if strings.TrimSpace(val) != "ipv4" {
			s.Unsupported = append(s.Unsupported, Construct{line, "option " + t})
		}
	default:
		s.Unsupported = append(s.Unsupported, Construct{line, "option " + t})
	}
	return nil
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
