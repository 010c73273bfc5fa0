package drill

import (
	"fmt"
	"strconv"
	"strings"
)

// A %{ }% block is Python that packetdrill runs over a tcp_info snapshot
// of the socket under test. drill judges the common case, assertions
// comparing one field with a number or a constant:
//
//	%{ assert tcpi_ca_state == TCP_CA_Loss, tcpi_ca_state }%
//
// on the fields infoFields names; a block holding anything else is
// reported as not judged (unsupported), with the statement.

// InfoCheck is a %{ }% block of assertions.
type InfoCheck struct {
	Asserts []InfoAssert
}

// InfoAssert is one "assert FIELD OP VALUE".
type InfoAssert struct {
	Field string // "tcpi_snd_cwnd"
	Op    string // == != < <= > >=
	Value int64
	Text  string // the statement as written
}

// infoFields are the tcp_info fields drill judges, on both backends.
var infoFields = map[string]bool{
	"tcpi_state": true, "tcpi_ca_state": true, "tcpi_snd_cwnd": true, "tcpi_unacked": true,
	"tcpi_retrans": true, "tcpi_lost": true, "tcpi_sacked": true, "tcpi_rto": true,
}

// infoConstants are the names packetdrill's Python prelude defines for
// tcpi_state (include/net/tcp_states.h) and tcpi_ca_state.
var infoConstants = map[string]int64{
	"TCP_ESTABLISHED": 1, "TCP_SYN_SENT": 2, "TCP_SYN_RECV": 3, "TCP_FIN_WAIT1": 4,
	"TCP_FIN_WAIT2": 5, "TCP_TIME_WAIT": 6, "TCP_CLOSE": 7, "TCP_CLOSE_WAIT": 8,
	"TCP_LAST_ACK": 9, "TCP_LISTEN": 10, "TCP_CLOSING": 11,
	"TCP_CA_Open": 0, "TCP_CA_Disorder": 1, "TCP_CA_CWR": 2, "TCP_CA_Recovery": 3, "TCP_CA_Loss": 4,
}

// addInfo adds a %{ }% block at when: an event when every statement is
// an assertion drill judges, else an unsupported construct.
func (s *Script) addInfo(line int, when When, block string) {
	chk, why := parseInfo(block)
	if why != "" {
		s.Unsupported = append(s.Unsupported, Construct{line, "python block not judged: " + shorten(why)})
		return
	}
	s.Events = append(s.Events, Event{Line: line, Text: block, When: when, Info: chk})
}

// parseInfo reads the statements of "%{ ... }%"; why names the first one
// drill cannot judge.
func parseInfo(block string) (chk *InfoCheck, why string) {
	body := strings.TrimSpace(block)
	body = strings.TrimSuffix(strings.TrimPrefix(body, "%{"), "}%")
	chk = &InfoCheck{}
	for _, st := range strings.FieldsFunc(body, func(r rune) bool { return r == '\n' || r == ';' }) {
		st = strings.TrimSpace(st)
		if st == "" || strings.HasPrefix(st, "#") {
			continue
		}
		a, ok := parseAssert(st)
		if !ok {
			return nil, st
		}
		chk.Asserts = append(chk.Asserts, a)
	}
	if len(chk.Asserts) == 0 {
		return nil, "a block without assertions"
	}
	return chk, ""
}

// parseAssert reads "assert FIELD OP VALUE[, message]".
func parseAssert(st string) (InfoAssert, bool) {
	rest, ok := strings.CutPrefix(st, "assert ")
	if !ok {
		return InfoAssert{}, false
	}
	if i := strings.IndexByte(rest, ','); i >= 0 {
		rest = rest[:i] // the message Python shows on failure
	}
	f := strings.Fields(rest)
	if len(f) != 3 || !infoFields[f[0]] {
		return InfoAssert{}, false
	}
	switch f[1] {
	case "==", "!=", "<", "<=", ">", ">=":
	default:
		return InfoAssert{}, false
	}
	v, err := strconv.ParseInt(f[2], 0, 64)
	if err != nil {
		c, ok := infoConstants[f[2]]
		if !ok {
			return InfoAssert{}, false
		}
		v = c
	}
	return InfoAssert{Field: f[0], Op: f[1], Value: v, Text: st}, true
}

// holds says whether got OP want.
func (a InfoAssert) holds(got int64) bool {
	switch a.Op {
	case "==":
		return got == a.Value
	case "!=":
		return got != a.Value
	case "<":
		return got < a.Value
	case "<=":
		return got <= a.Value
	case ">":
		return got > a.Value
	}
	return got >= a.Value
}

func (a InfoAssert) String() string {
	return fmt.Sprintf("%s %s %d", a.Field, a.Op, a.Value)
}
