package lab

import "time"

// The listen backlog (SCENARIOS.md §3, seed 003_*). The stack's backlog
// behaviours (profile fields SYNACKBeforeAccept, RSTOnFullBacklog,
// SeparateSYNQueue, HoldFINWhileUnread) landed while the lab was written;
// the lab's client programs for the rows (send, FIN, RST, vanish before
// accept) are not written yet, so these scenarios refuse to run.

// backlogNeeds says what the backlog scenarios wait for.
const backlogNeeds = "the lab's programs for the backlog rows (a client that sends, FINs, resets or " +
	"vanishes before accept; the stack's backlog profiles exist, the lab's side is not written yet)"

var backlogProfiles = []string{"vos-17.1", "linux", "vos-legacy"}

// backlogVariants: for the backlog rows the variants are the profiles.
func backlogVariants(why string) []Variant {
	return []Variant{
		{Name: "vos-17.1", Profile: "vos-17.1", Summary: "the seed's table (STCP 17.1)", Why: why},
		{Name: "linux", Profile: "linux", Summary: "the Linux kernel", Why: why},
	}
}

func init() {
	rows := []struct{ id, summary string }{
		{"backlog-nothing", "the client does nothing before accept: accept returns, the 1st read blocks"},
		{"backlog-data", "the client sent data before accept: accept returns, data, then the read blocks"},
		{"backlog-fin", "the client sent FIN before accept: accept returns, the 1st read gives EOF"},
		{"backlog-data-fin", "data and FIN before accept: data, then EOF"},
		{"backlog-data-fin-gone", "data, FIN, then the client's socket vanished: reset (data, if read before the RST lands)"},
		{"backlog-fin-gone", "FIN, then the client's socket vanished: EOF; a write draws RST"},
		{"backlog-data-rst", "data, then RST before accept: accept never sees it (vos-17.1); linux returns it, then reset"},
		{"backlog-rst", "RST before accept: accept never sees it (vos-17.1); linux returns it, then reset"},
	}
	for _, r := range rows {
		needs, prog := backlogNeeds, backlogPrograms[r.id]
		if prog != nil {
			needs = ""
		}
		register(&Scenario{ID: r.id, Group: "backlog", Client: "client", Server: "server", Summary: r.summary,
			Profiles: backlogProfiles, Needs: needs, program: prog, Settle: 5 * time.Second,
			Variants: backlogVariants(`A modern stack completes the handshake as soon as the SYN arrives and parks ` +
				`the connection in the accept queue, so the client can send data, FIN or RST before the server ` +
				`ever calls accept(); what accept() and the reads then return is the profile's.`)})
	}
	register(&Scenario{ID: "backlog-full", Group: "backlog", Client: "client", Server: "server",
		Summary:  "more connections than the backlog holds: modern stacks drop the SYN, legacy ones answer RST",
		Profiles: backlogProfiles, Needs: backlogNeeds,
		Variants: []Variant{
			{Name: "modern", Profile: "vos-17.1", Summary: "full backlog drops SYNs",
				Why: `Once the accept queue is full, further SYNs get no answer and the client retransmits with backoff.`},
			{Name: "legacy", Profile: "vos-legacy", Summary: "no SYN-ACK until accept; full backlog answers RST",
				Why: `Before 17.1 STCP answered a SYN only when accept() took it, and a full backlog with RST.`},
		}})
}

// slowServer is how long the server application takes to call accept:
// the client acts while its connection waits in the backlog.
const slowServer = time.Second

// backlogPrograms are the rows whose client needs no more than the
// recorded socket calls (the "gone" rows need a client socket that
// vanishes without a trace, and backlog-full many clients).
var backlogPrograms = map[string]func(p *Program){
	"backlog-nothing":  backlogRow(func(c *Conn) {}),
	"backlog-data":     backlogRow(func(c *Conn) { c.Send("hello") }),
	"backlog-fin":      backlogRow(func(c *Conn) { c.Shutdown() }),
	"backlog-data-fin": backlogRow(func(c *Conn) { c.Send("hello"); c.Shutdown() }),
	"backlog-data-rst": backlogRow(func(c *Conn) { c.Send("hello"); c.Abort() }),
	"backlog-rst":      backlogRow(func(c *Conn) { c.Abort() }),
}

// backlogRow: the client connects and does act at once; the server
// accepts one second later and reads twice (the second read only if the
// first returned data).
func backlogRow(act func(c *Conn)) func(p *Program) {
	return func(p *Program) {
		l, err := p.Server.Listen(80, 0)
		if err != nil {
			panic("lab: listen: " + err.Error())
		}
		p.Go(func() {
			p.Server.Sleep(slowServer)
			c := l.Accept()
			if c == nil {
				return
			}
			if _, err := c.Recv(64); err == nil {
				c.Recv(64)
			}
		})
		p.Go(func() {
			if c := p.Client.Dial(p.ServerAddrPort(80)); c != nil {
				act(c)
			}
		})
	}
}
