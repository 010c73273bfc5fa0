package lab

import (
	"fmt"
	"time"

	"github.com/teardown-lab/teardown/stack"
)

// The listen backlog (docs/scenarios.md, seed 003): what accept() and the
// reads return when the client acts while its connection waits in the
// backlog, and what a full backlog does to new connections. The stack's
// behaviours are profile fields (docs/backlog.md); the variants here are
// the profiles.

var backlogProfiles = []string{"vos-17.1", "linux", "vos-legacy"}

const whyBacklogCommon = `A modern stack completes the handshake as soon as the SYN arrives and parks ` +
	`the connection in the accept queue (profile field SYNACKBeforeAccept), so the client can send data, ` +
	`FIN or RST before the server ever calls accept(); what accept() and the reads then return is the profile's.`

// backlogVariants: for the backlog rows the variants are the profiles.
func backlogVariants(seed, linux string) []Variant {
	return []Variant{
		{Name: "vos-17.1", Profile: "vos-17.1", Summary: "the seed's table (STCP 17.1)", Why: whyBacklogCommon + " " + seed},
		{Name: "linux", Profile: "linux", Summary: "the Linux kernel", Why: whyBacklogCommon + " " + linux},
	}
}

// backlogRows are the rows of the seed's table, with what decides each
// under vos-17.1 and under linux.
var backlogRows = []struct{ id, summary, seed, linux string }{
	{"backlog-nothing", "the client does nothing before accept: accept returns, the 1st read blocks",
		`Nothing arrived, so the read waits.`, `The same under linux.`},
	{"backlog-data", "the client sent data before accept: accept returns, data, then the read blocks",
		`Data that arrives on a queued connection is acknowledged and kept for the reader.`, `The same under linux.`},
	{"backlog-fin", "the client sent FIN before accept: accept returns, the 1st read gives EOF",
		`The queued FIN is end-of-stream for the first read.`, `The same under linux.`},
	{"backlog-data-fin", "data and FIN before accept: data, then EOF",
		`The data, then the FIN.`, `The same under linux.`},
	{"backlog-data-fin-gone", "data, FIN, then the client's socket vanished: reset (data, if read before the RST lands)",
		`Under vos-17.1 the server holds the FIN unacknowledged while data is unread (HoldFINWhileUnread), so the ` +
			`client's FIN is retransmitted until its socket vanishes; at accept the server sends a duplicate ACK ` +
			`(DupACKAtAccept), the client's host no longer knows the connection and answers RST (RFC 9293 §3.10.7.1). ` +
			`A reader that waits lets that RST land first: both reads report the reset and the data is lost. ` +
			`The fast-reader variant reads at once after accept and gets the data before the RST lands.`,
		`Linux acknowledges the FIN at once, whatever is unread, so nothing is sent to the vanished client and ` +
			`nothing comes back: the reads give the data, then EOF.`},
	{"backlog-fin-gone", "FIN, then the client's socket vanished: EOF; a write draws RST",
		`Nothing is unread, so the FIN is acknowledged and the first read returns EOF. The server then writes: ` +
			`the client's host has forgotten the connection and answers RST (RFC 9293 §3.10.7.1), so the write ` +
			`is lost and the next call reports the reset.`,
		`Under linux the vanished client's host answers the write with RST as well, but the read after it ` +
			`still returns EOF: a read after the peer's FIN reports end-of-stream, not the later reset ` +
			`(FINBeforeResetReadsEOF). The write's data is lost all the same.`},
	{"backlog-data-rst", "data, then RST before accept: accept never sees it (vos-17.1); linux returns it, then reset",
		`Under vos-17.1 an RST takes the connection off the accept queue: accept never returns it and the data is lost.`,
		`Linux leaves a reset connection in the accept queue (AcceptReturnsReset): accept returns it, the queued ` +
			`data is read (DeliverQueuedDataBeforeReset), then the read reports the reset.`},
	{"backlog-rst", "RST before accept: accept never sees it (vos-17.1); linux returns it, then reset",
		`Under vos-17.1 an RST takes the connection off the accept queue: accept never returns it.`,
		`Linux leaves a reset connection in the accept queue (AcceptReturnsReset): accept returns it and ` +
			`the first read reports the reset (once: ReadErrorOnce).`},
}

func init() {
	for _, r := range backlogRows {
		vs := backlogVariants(r.seed, r.linux)
		if r.id == "backlog-data-fin-gone" {
			vs = append(vs, Variant{Name: "fast-reader", Profile: "vos-17.1",
				Summary: "vos-17.1, the server reads at once after accept",
				Why: whyBacklogCommon + ` Under vos-17.1 the FIN was held while the data was unread and the duplicate ` +
					`ACK sent at accept draws the vanished client's RST (RFC 9293 §3.10.7.1). This reader reads at once ` +
					`after accept, while that RST is still on its way: it gets the data, and its second read the reset. ` +
					`The outcome is a race between the reader and one round trip.`})
		}
		register(&Scenario{ID: r.id, Group: "backlog", Client: "client", Server: "server", Summary: r.summary,
			Profiles: backlogProfiles, program: backlogRow(backlogActs[r.id], r.id), Settle: 5 * time.Second,
			Variants: vs})
	}
	registerBacklogFull()
}

// acceptAfter is how long the server application takes to call accept:
// the client acts while its connection waits in the backlog. The "gone"
// rows give the client's FIN time to be retransmitted before its socket
// vanishes.
const (
	acceptAfter     = time.Second
	acceptAfterGone = 5 * time.Second
	goneAfter       = 2 * time.Second
	slowReader      = time.Second
)

// backlogActs are what each row's client does once connected.
var backlogActs = map[string]func(c *Conn){
	"backlog-nothing":  func(c *Conn) {},
	"backlog-data":     func(c *Conn) { c.Send("hello") },
	"backlog-fin":      func(c *Conn) { c.Shutdown() },
	"backlog-data-fin": func(c *Conn) { c.Send("hello"); c.Shutdown() },
	"backlog-data-fin-gone": func(c *Conn) {
		c.Send("hello")
		c.Close()
		c.h.Sleep(goneAfter)
		c.Vanish()
	},
	"backlog-fin-gone": func(c *Conn) {
		c.Close()
		c.h.Sleep(goneAfter)
		c.Vanish()
	},
	"backlog-data-rst": func(c *Conn) { c.Send("hello"); c.Abort() },
	"backlog-rst":      func(c *Conn) { c.Abort() },
}

// backlogRow: the client connects and acts at once; the server accepts
// later and reads twice (the second read only if the first returned
// data). In the "gone" rows a slow reader waits a second after accept
// (the fast-reader variant does not), and a read that returns EOF is
// followed by a write, to show the RST it draws.
func backlogRow(act func(c *Conn), id string) func(p *Program) {
	gone := id == "backlog-data-fin-gone" || id == "backlog-fin-gone"
	return func(p *Program) {
		l, err := p.Server.Listen(80, 0)
		if err != nil {
			panic("lab: listen: " + err.Error())
		}
		p.Go(func() {
			if !gone {
				p.Server.Sleep(acceptAfter)
			} else {
				p.Server.Sleep(acceptAfterGone)
			}
			c := l.Accept()
			if c == nil {
				return
			}
			if gone && p.Variant != "fast-reader" {
				p.Server.Sleep(slowReader)
			}
			_, err := c.Recv(64)
			switch {
			case err == nil:
				if gone {
					p.Server.Sleep(slowReader)
				}
				c.Recv(64)
			case gone && isEOF(err):
				c.Send("late")
				p.Server.Sleep(slowReader)
				c.Recv(64)
			case gone:
				c.Recv(64) // the seed's 2nd column: reset again
			}
		})
		p.Go(func() {
			if c := p.Client.Dial(p.ServerAddrPort(80)); c != nil {
				act(c)
			}
		})
	}
}

// registerBacklogFull registers backlog-full: five clients against a
// backlog of 2 that the server does not accept from for 2 s.
func registerBacklogFull() {
	register(&Scenario{ID: "backlog-full", Group: "backlog", Client: "client", Server: "server",
		Summary:  "more connections than the backlog holds: modern stacks drop the SYN, legacy ones answer RST",
		Profiles: backlogProfiles, Settle: 5 * time.Second, program: backlogFull,
		Variants: []Variant{
			{Name: "linux", Profile: "linux", Summary: "accept queue holds backlog+1; final ACK dropped, SYN-ACK retransmitted",
				Why: `Five clients, backlog 2, the server accepts only after 2 s. Linux's accept queue is full only ` +
					`when it holds more than the backlog (AcceptQueueExtraSlot): three connections queue. The fourth ` +
					`client's SYN was answered, but its final ACK found the queue full and was dropped ` +
					`(SeparateSYNQueue): that client believes it is connected while the server retransmits its ` +
					`SYN-ACK with backoff (1 s, 2 s, ...) until an accept makes room. The fifth SYN is dropped ` +
					`without answer and the client retransmits it (RFC 6298 §5 backoff, initial RTO 1 s). ` +
					`No RST: every client gets in once the server accepts. The abort-on-overflow variant answers RST instead.`},
			{Name: "abort-on-overflow", Profile: "linux", Summary: "linux with tcp_abort_on_overflow=1",
				Why: `With tcp_abort_on_overflow=1 (ListenOptions.AbortOnOverflow) a final ACK that finds the accept ` +
					`queue full is answered with RST instead of being dropped: the client that believed it was ` +
					`connected is reset, and learns it only at its first read or write.`},
			{Name: "vos-17.1", Profile: "vos-17.1", Summary: "one backlog of 2; further SYNs get no answer",
				Why: `Under vos-17.1 (the seed: "subsequent connection requests are not sent a response") one backlog ` +
					`counts the connections from their SYN: two queue, the other SYNs are dropped in silence ` +
					`(RSTOnFullBacklog=false) and the clients retransmit them with backoff until an accept makes room.`},
			{Name: "vos-legacy", Profile: "vos-legacy", Summary: "no SYN-ACK until accept; a full backlog answers RST",
				Why: `Before 17.1 STCP answered a SYN only when accept() took it (SYNACKBeforeAccept=false): the two ` +
					`SYNs the backlog holds wait unanswered, and further SYNs are answered with RST ` +
					`(RSTOnFullBacklog), so those clients' connect fails at once with "connection refused". ` +
					`Accept then completes the queued handshakes one at a time.`},
		}})
}

// backlogFullStarts are when the five clients of backlog-full dial:
// clients 3 and 4 together, so both SYNs arrive before either final ACK.
var backlogFullStarts = []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond,
	200 * time.Millisecond, 500 * time.Millisecond}

func backlogFull(p *Program) {
	l, err := p.Server.ListenWith(80, stack.ListenOptions{Backlog: 2, AbortOnOverflow: p.Variant == "abort-on-overflow"})
	if err != nil {
		panic("lab: listen: " + err.Error())
	}
	for _, d := range backlogFullStarts {
		p.Go(func() {
			p.Client.Sleep(d)
			// Each client waits for the server's answer: EOF once the
			// server accepted and closed, or the reset of abort-on-overflow.
			if c := p.Client.Dial(p.ServerAddrPort(80)); c != nil {
				c.Recv(64)
			}
		})
	}
	p.Go(func() {
		p.Server.Sleep(2 * time.Second)
		st := l.l.Stats()
		p.Note("server", fmt.Sprintf("at 2 s: accept queue %d, SYN queue %d", st.AcceptQueue, st.SYNQueue))
		for range backlogFullStarts {
			c := l.Accept()
			if c == nil {
				return
			}
			c.Close()
		}
	})
}
