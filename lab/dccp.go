package lab

import (
	"fmt"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/stack"
)

// DCCP (docs/scenarios.md, seed 001), on stack.DialDCCP/ListenDCCP.

func dccpVariants(naive, fixed string) []Variant {
	return []Variant{
		{Name: "naive", Profile: "rfc-naive", Summary: "profile rfc-naive", Why: naive},
		{Name: "fixed", Profile: "linux", Summary: "passive-close states, tie-breaker", Why: fixed},
	}
}

func init() {
	for _, s := range []*Scenario{
		{ID: "dccp-close-unread", Summary: "the server sends datagrams, then Close: the client must read them before its Reset",
			Variants: dccpVariants(
				`Answering a Close with Reset at once (RFC 4340 §8.3 read naively) erases the receive queue: the application reads nothing.`,
				`In PASSIVE_CLOSE the client's application reads every datagram, then end-of-stream, and only then is the Reset sent (profile field DCCPPassiveCloseStates).`)},
		{ID: "dccp-closereq-unread", Summary: "the server sends datagrams, then CloseReq: the client's Close must wait for the reader",
			Variants: dccpVariants(
				`Answering CloseReq with Close at once draws the server's Reset, which wipes the client's queue.`,
				`PASSIVE_CLOSEREQ holds the Close until the application has drained the queue and closed.`)},
		{ID: "dccp-active-close", Summary: "CLOSEREQ and CLOSING are separate states; Close and CloseReq are retransmitted until answered",
			Variants: dccpVariants(
				`The server's application closes and, without the server-timewait option, asks the client to close with `+
					`CloseReq (RFC 4340 §8.3), entering CLOSEREQ, a state of its own. The link from the server loses `+
					`everything for 3 s: the CloseReq is retransmitted with exponential backoff until answered (RFC 4340 §8.3; `+
					`here after 400 ms, 0.8 s, 1.6 s and 3.2 s). The one that gets through is answered with Close, the `+
					`server's Reset ends it, and the client, which was asked to close, keeps TIMEWAIT.`,
				`With the server-timewait option (DCCPListenOptions.ServerTimewait) the server sends Close itself and `+
					`enters CLOSING, a different state from CLOSEREQ (RFC 4340 §8.3). The lost Closes are retransmitted `+
					`with the same backoff until answered. The client, in PASSIVE_CLOSE, lets its application read to `+
					`end-of-stream before it answers with Reset (DCCPPassiveCloseStates); the server keeps TIMEWAIT.`)},
		{ID: "dccp-simultaneous-close", Settle: 3 * time.Minute, Summary: "both ends send Close at once and wait in CLOSING for a Reset",
			Variants: dccpVariants(
				`Each end waits in CLOSING for a Reset neither sends: Close packets ping-pong until the final timeout, more than 64 s.`,
				`The tie-breaker: the client, on a Close received in CLOSING, answers Reset; both finish within a round trip (DCCPCloseTieBreaker).`)},
		{ID: "dccp-close-crosses-closereq", Summary: "the client's Close crosses the server's CloseReq",
			Variants: dccpVariants(
				`The client in CLOSING answers the CloseReq with another Close; the server, already CLOSED, answers Reset code 3 (No Connection).`,
				`The client in TIMEWAIT ignores that Reset.`)},
		{ID: "dccp-abort-unread", Summary: "an application closes with datagrams unread: Reset code 2 (Aborted)",
			Variants: dccpVariants(
				`DCCP has no half-close, so shutdown is no fix: a close with unread datagrams aborts with Reset code 2, as Linux does (DCCPAbortOnUnread).`,
				`Only the passive-close states protect the reader.`)},
		{ID: "dccp-backlog-full", Summary: "a full DCCP backlog answers a Request with Reset code 9 (Too Busy)",
			Variants: dccpVariants(
				`Where TCP drops the SYN in silence, a DCCP listener whose backlog is full answers the Request with `+
					`Reset code 9 "Too Busy" (RFC 4340 §5.6): the second connect is refused at once, without `+
					`retransmission. Linux reports it as EUSERS ("too many users"; net/dccp/input.c maps Reset codes to `+
					`errnos), not ECONNREFUSED, so the lab records a refusal whose error is EUSERS.`,
				`The same under linux: Too Busy is the protocol's answer, not a bug; the client should retry later.`)},
	} {
		s.Group, s.Client, s.Server = "dccp", "client", "server"
		s.Profiles = []string{"linux", "rfc-naive"}
		s.program = dccpPrograms[s.ID]
		if s.Settle == 0 {
			s.Settle = 10 * time.Second
		}
		register(s)
	}
}

const dccpPort = 5001

// dccp-active-close: the server closes closeAt into the run, and the link
// from the server loses everything for lossFor from then on.
const (
	closeAt = 100 * time.Millisecond
	lossFor = 3 * time.Second
)

// busy is how long a DCCP client's application is busy before reading:
// the server's datagrams and its Close or CloseReq have arrived by then.
const busy = time.Second

// dccpPrograms are the scenarios' applications, by id.
var dccpPrograms = map[string]func(p *Program){
	"dccp-close-unread":    dccpCloseUnread(true),
	"dccp-closereq-unread": dccpCloseUnread(false),
	"dccp-active-close": func(p *Program) {
		// The server's first close packets are lost, so that its
		// retransmission with backoff shows.
		start := p.r.Now()
		p.loseFrom("server", closeAt, lossFor)
		dccpPair(p, stack.DCCPListenOptions{ServerTimewait: p.Variant == "fixed"},
			func(c *Conn) {
				sleepUntil(c.h, p, start.Add(closeAt))
				p.Note("", fmt.Sprintf("the link from server to client loses everything for %v", lossFor))
				c.Close()
			},
			func(c *Conn) { readAll(c, recvSize); c.Close() })
	},
	"dccp-simultaneous-close":     dccpBothClose(true),
	"dccp-close-crosses-closereq": dccpBothClose(false),
	"dccp-abort-unread": func(p *Program) {
		dccpPair(p, stack.DCCPListenOptions{},
			func(c *Conn) { sendN(c, 3); readAll(c, recvSize); c.Close() },
			func(c *Conn) {
				c.h.Sleep(busy)
				if p.Variant == "fixed" {
					for range 3 {
						c.Recv(recvSize)
					}
				}
				c.Close()
			})
	},
	"dccp-backlog-full": func(p *Program) {
		l, err := p.Server.ListenDCCP(dccpPort, stack.DCCPListenOptions{Backlog: 1})
		if err != nil {
			panic("lab: listen: " + err.Error())
		}
		_ = l // the server application is slow: it never calls accept
		p.Go(func() {
			p.Client.DialDCCP(p.ServerAddrPort(dccpPort), stack.DCCPOptions{})
			p.Client.DialDCCP(p.ServerAddrPort(dccpPort), stack.DCCPOptions{})
		})
	},
}

// dccpPair runs server and client functions over one DCCP connection.
func dccpPair(p *Program, lo stack.DCCPListenOptions, server, client func(c *Conn)) {
	l, err := p.Server.ListenDCCP(dccpPort, lo)
	if err != nil {
		panic("lab: listen: " + err.Error())
	}
	p.Go(func() {
		if c := l.Accept(); c != nil {
			server(c)
		}
	})
	p.Go(func() {
		if c := p.Client.DialDCCP(p.ServerAddrPort(dccpPort), stack.DCCPOptions{}); c != nil {
			client(c)
		}
	})
}

func sendN(c *Conn, n int) {
	for i := range n {
		c.Send(fmt.Sprintf("datagram %d", i+1))
	}
}

// dccpCloseUnread: the server sends five datagrams and closes (with Close
// when it holds TIMEWAIT itself, else CloseReq) while the client is busy.
func dccpCloseUnread(serverTimewait bool) func(p *Program) {
	return func(p *Program) {
		dccpPair(p, stack.DCCPListenOptions{ServerTimewait: serverTimewait},
			func(c *Conn) { sendN(c, 5); c.Close() },
			func(c *Conn) { c.h.Sleep(busy); readAll(c, recvSize); c.Close() })
	}
}

// dccpBothClose: both applications close at the same instant, one second
// into the run.
func dccpBothClose(serverTimewait bool) func(p *Program) {
	return func(p *Program) {
		at := p.r.Now().Add(busy)
		dccpPair(p, stack.DCCPListenOptions{ServerTimewait: serverTimewait},
			func(c *Conn) { sleepUntil(c.h, p, at); c.Close() },
			func(c *Conn) { sleepUntil(c.h, p, at); c.Close() })
	}
}

func sleepUntil(h *Host, p *Program, at clock.Instant) {
	if d := at.Sub(p.r.Now()); d > 0 {
		h.Sleep(d)
	}
}
