package lab

import "github.com/teardown-lab/teardown/stack"

// The TCP close group (docs/scenarios.md, seed 000): closing with unread
// data, and the fixes.

// appScenario returns a program that runs app's server on the server host
// and its client on the client host, one connection.
func appScenario(app *App, client func(c *Conn, variant string)) func(p *Program) {
	if client == nil {
		client = app.Client
	}
	return func(p *Program) {
		l, err := p.Server.Listen(app.Port, 0)
		if err != nil {
			panic("lab: listen: " + err.Error())
		}
		p.Go(func() {
			if c := l.Accept(); c != nil {
				app.Server(c, p.Variant)
			}
		})
		p.Go(func() {
			if c := p.Client.Dial(p.ServerAddrPort(app.Port)); c != nil {
				client(c, p.Variant)
			}
		})
	}
}

const (
	whyShutdownCommon = `shutdown(write) queues a FIN behind the reply, so the FIN reaches the peer first. ` +
		`The close() that follows still finds unread data and still sends RST (RFC 2525 §2.17), ` +
		`but a reader that already has the FIN gets end-of-stream: under linux a read after FIN and RST ` +
		`returns EOF (profile field FINBeforeResetReadsEOF). The RST stays on the wire and the unread bytes ` +
		`were never read; only the linger variant avoids both.`
	whyLingerCommon = `This is the lingering close servers use: shutdown(write) sends the FIN, then the application ` +
		`reads and discards until the peer's FIN (or a timeout), and only then calls close(). The receive ` +
		`queue is empty at close, so RFC 2525 §2.17 does not apply: FIN both ways, no RST, and the side that ` +
		`closed first holds TIME-WAIT (RFC 9293 §3.6).`
)

// closeProfileWhy are the profile sentences every close scenario shares.
var closeProfileWhy = map[string]string{
	"discard-on-rst": `Under profile discard-on-rst a received RST throws away the data queued for the reader ` +
		`(DeliverQueuedDataBeforeReset=false): a reply that arrived just before the RST is lost unless the ` +
		`application had already read it.`,
	"no-rst-on-close": `Under profile no-rst-on-close close() ignores the receive queue and sends FIN ` +
		`(RSTOnCloseWithUnread=false, as FreeBSD, smoltcp and picoTCP do): the peer sees end-of-stream, ` +
		`and the unread bytes are acknowledged and silently dropped.`,
	"rfc1337": `Under profile rfc1337 an RST that reaches TIME-WAIT is ignored (RFC 1337 §3, IgnoreRSTInTimeWait); ` +
		`linux lets it end TIME-WAIT early.`,
}

func init() {
	primes := Apps["primes"]
	register(&Scenario{
		ID: "tcp-primes", Group: "tcp-close", Client: "A", Server: "B",
		Summary:  "A sends five numbers; B answers ERROR at the 2nd (not prime) and closes with three unread",
		Profiles: []string{"linux", "discard-on-rst", "no-rst-on-close"},
		Variants: []Variant{
			{Name: "naive", Summary: "B closes at once", Why: `B read "003", then "004", which is not prime: ` +
				`it wrote "ERROR" and called close() with three numbers still in its receive queue. ` +
				`RFC 2525 §2.17 ("Failure to RST on close with data pending") tells a TCP to answer that close ` +
				`with RST, not FIN (profile field RSTOnCloseWithUnread). A, about to read B's verdict, is aborted: ` +
				`under linux it first reads the "ERROR" that arrived before the RST (DeliverQueuedDataBeforeReset) ` +
				`and then gets "connection reset by peer". The shutdown variant lets A read ERROR and EOF; ` +
				`the linger variant drains A's numbers before closing, and no RST is sent at all.`},
			{Name: "shutdown", Summary: "B: shutdown(write), close", Why: whyShutdownCommon},
			{Name: "linger", Summary: "B: shutdown(write), drain, close", Why: whyLingerCommon},
		},
		ProfileWhy: closeProfileWhy,
		program:    appScenario(primes, nil),
	})
	register(&Scenario{
		ID: "tcp-primes-six", Group: "tcp-close", Client: "A", Server: "B",
		Summary:  "A breaks the protocol with six primes; B reads five, answers OK, closes with one unread",
		Profiles: []string{"linux", "discard-on-rst", "no-rst-on-close"},
		Variants: []Variant{
			{Name: "naive", Summary: "B closes at once", Why: `B read the five numbers the protocol promises, ` +
				`all prime, answered "OK" and closed, but A had sent a sixth: it was still unread, so the close ` +
				`sent RST (RFC 2525 §2.17). Reading exactly what the protocol promises is no defence: a server ` +
				`cannot know its receive queue is empty when it closes, and more may arrive between a last read ` +
				`and the close. The linger variant is the defence: it drains until A's FIN.`},
			{Name: "shutdown", Summary: "B: shutdown(write), close", Why: whyShutdownCommon},
			{Name: "linger", Summary: "B: shutdown(write), drain, close", Why: whyLingerCommon},
		},
		ProfileWhy: closeProfileWhy,
		program:    appScenario(primes, primesClient([]int{2, 3, 5, 7, 11, 13})),
	})
	register(&Scenario{
		ID: "tcp-echo-one", Group: "tcp-close", Client: "client", Server: "server",
		Summary:  `an echo server reads one byte, writes it back and closes; the client sent "hello"`,
		Profiles: []string{"linux", "discard-on-rst", "no-rst-on-close"},
		Variants: []Variant{
			{Name: "naive", Summary: "server closes at once", Why: `The server read one byte of "hello", wrote it ` +
				`back and closed with "ello" still unread. RFC 2525 §2.17 makes that close send RST instead of FIN ` +
				`(profile field RSTOnCloseWithUnread): the client's next read fails with "connection reset by peer". ` +
				`Under linux the client still reads the "h" that arrived before the RST ` +
				`(DeliverQueuedDataBeforeReset). A client that sends one byte never sees this. The shutdown ` +
				`variant lets the client read "h" and EOF; the linger variant sends no RST at all.`},
			{Name: "shutdown", Summary: "server: shutdown(write), close", Why: whyShutdownCommon},
			{Name: "linger", Summary: "server: shutdown(write), drain, close", Why: whyLingerCommon},
		},
		ProfileWhy: closeProfileWhy,
		program:    appScenario(Apps["echo-one"], nil),
	})
	registerMoreClose()
}

// smallWindow gives the client a small receive buffer, so a large reply
// cannot all be sent at once.
func smallWindow(host string, o *stack.TCPOptions) {
	if host == "client" {
		o.ReceiveBuffer = 2048
	}
}
