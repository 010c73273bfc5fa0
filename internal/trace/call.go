package trace

import (
	"strconv"
	"strings"
)

// CallName is an application call, spelled as the lab's JSON contract
// spells it.
type CallName string

// The calls of the JSON contract. Listen is not among them: a listening
// socket is set up before a scenario starts. An abortive close
// (SO_LINGER with a zero timeout) is CallClose with Call.Arg "linger=0".
const (
	CallSend          CallName = "send"
	CallRecv          CallName = "recv"
	CallClose         CallName = "close"
	CallShutdown      CallName = "shutdown"
	CallAccept        CallName = "accept"
	CallConnect       CallName = "connect"
	CallGracefulClose CallName = "gracefulclose"
)

// Valid reports whether n is one of the contract's calls.
func (n CallName) Valid() bool {
	switch n {
	case CallSend, CallRecv, CallClose, CallShutdown, CallAccept, CallConnect, CallGracefulClose:
		return true
	}
	return false
}

// Result is what a call returned, spelled as the JSON contract spells it.
type Result string

// The results of the JSON contract.
const (
	// ResultOK: the call succeeded (send, close, shutdown, accept, connect).
	ResultOK Result = "ok"
	// ResultData: a recv returned Bytes bytes (Call.Detail holds them).
	ResultData Result = "data"
	// ResultEOF: a recv saw the end of the peer's stream (its FIN, or a
	// DCCP close after the queue was drained).
	ResultEOF Result = "eof"
	// ResultReset: the connection was reset (ECONNRESET).
	ResultReset Result = "reset"
	// ResultRefused: the peer refused the connection (ECONNREFUSED).
	ResultRefused Result = "refused"
	// ResultBlocked: the call had not returned when the run ended.
	ResultBlocked Result = "blocked"
	// ResultTimeout: the call gave up after a timeout.
	ResultTimeout Result = "timeout"
	// ResultError: any other error (Call.Detail holds its text).
	ResultError Result = "error"
)

// Valid reports whether r is one of the contract's results.
func (r Result) Valid() bool {
	switch r {
	case ResultOK, ResultData, ResultEOF, ResultReset, ResultRefused,
		ResultBlocked, ResultTimeout, ResultError:
		return true
	}
	return false
}

// Call is one application call and, once known, its result.
type Call struct {
	// Host is the host whose application made the call.
	Host string
	// Name is the call.
	Name CallName
	// Arg is an optional short argument shown in the diagram: the read
	// size of a recv ("1"), "write" for a shutdown, "linger=0" for an
	// abortive close. The data of a send goes in Detail.
	Arg string
	// Result is the outcome; ResultBlocked while the call has not
	// returned.
	Result Result
	// Bytes is how many bytes were sent or received.
	Bytes int
	// Detail is the data itself for a send or a recv that returned data
	// ("hello", "ERROR"), or the error's text for a failed call.
	Detail string
}

// carriesData reports whether Detail holds application data (quoted when
// shown) rather than an error's text.
func (c *Call) carriesData() bool {
	return c.Result == ResultData || (c.Name == CallSend && c.Result == ResultOK)
}

// label is "recv(1)", "send("hello")", "close()".
func (c *Call) label(ascii bool) string {
	arg := c.Arg
	// A send's data is in Detail while the send succeeded (or blocks);
	// once it failed, Detail is the error and the data, if any, is in Arg.
	if c.Name == CallSend && c.Detail != "" && (c.Result == ResultOK || c.Result == ResultBlocked) {
		arg = quote(c.Detail, ascii, 12)
	}
	return string(c.Name) + "(" + arg + ")"
}

// outcome is "ok", "data "h"", "reset", "error: text", with the byte
// count where it says something.
func (c *Call) outcome(ascii bool) string {
	s := string(c.Result)
	switch {
	case c.Result == ResultData:
		s += " " + quote(c.Detail, ascii, 12)
	case c.Name == CallSend && c.Result == ResultOK:
		s += " " + plural(c.Bytes, "byte")
	case c.Detail != "" && !c.carriesData():
		s += ": " + c.Detail
	}
	return s
}

// quote quotes data for display, cut to max runes of content with "...".
func quote(s string, ascii bool, max int) string {
	r := []rune(s)
	cut := false
	if max > 0 && len(r) > max {
		r, cut = r[:max], true
	}
	var q string
	if ascii {
		q = strconv.QuoteToASCII(string(r))
	} else {
		q = strconv.Quote(string(r))
	}
	if cut {
		q = strings.TrimSuffix(q, `"`) + `..."`
	}
	return q
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// StateChange is a transition of one connection's protocol state.
type StateChange struct {
	// Conn names the connection when a host has several ("client:49152").
	Conn string
	// From and To are RFC spellings ("ESTABLISHED", "FIN-WAIT-1",
	// "PASSIVE_CLOSEREQ"), as the cores' State.String returns them.
	From, To string
	// Reason is what caused it ("RST received", "close with unread data").
	Reason string
}
