package lab

import "strings"

// The rest of the TCP close group (docs/scenarios.md, seed 000): SO_LINGER
// 0, data after close, close with unsent data queued, RST to a half-closed
// peer.

func registerMoreClose() {
	register(&Scenario{
		ID: "tcp-linger-zero", Group: "tcp-close", Client: "client", Server: "server",
		Summary:  `the server reads the whole request, answers "bye" and closes with SO_LINGER 0 (abortive close)`,
		Profiles: []string{"linux", "discard-on-rst"},
		Variants: []Variant{
			{Name: "abort", Summary: "SO_LINGER 0, then close", Why: `With SO_LINGER set to a zero timeout, close() ` +
				`aborts on purpose: RST instead of FIN, and anything still queued to send is discarded (RFC 9293 ` +
				`§3.10.4 ABORT; setsockopt SO_LINGER with l_linger 0). The request was fully read, so nothing of ` +
				`the client's was lost; the client's read after the reply fails with "connection reset by peer" ` +
				`instead of returning EOF, and under linux it still gets "bye" first. The close variant ends with FIN.`},
			{Name: "close", Summary: "ordinary close", Why: `An ordinary close() with an empty receive queue sends FIN ` +
				`after the queued reply: the client reads "bye" and then EOF.`},
		},
		ProfileWhy: closeProfileWhy,
		program: appScenario(&App{Name: "bye", Port: 7, Server: func(c *Conn, v string) {
			c.Recv(64)
			c.Send("bye")
			closeAs(c, map[string]string{"abort": "abort"}[v])
		}}, helloClient),
	})
	register(&Scenario{
		ID: "tcp-data-after-close", Group: "tcp-close", Client: "client", Server: "server",
		Summary:  `the server answers and closes; the client, ignoring the FIN, writes again: RST`,
		Profiles: []string{"linux"},
		Variants: []Variant{
			{Name: "naive", Summary: "client writes after the server's FIN", Why: `The server read "ping", answered ` +
				`and closed cleanly (FIN). The client's application had not looked for end-of-stream and wrote ` +
				`again. A FIN only says the peer will send no more; it may still read, but this server had closed ` +
				`its socket, so data arriving after close must be answered with RST (RFC 2525 §2.17, RFC 9293 ` +
				`§3.10.7.4; profile field RSTOnDataAfterClose): the data is lost and the client's next write fails. ` +
				`The fixed variant reads until EOF before writing more, and stops.`},
			{Name: "fixed", Summary: "client reads to EOF and stops", Why: `The client reads until EOF, learns the ` +
				`server is done, and closes without writing again: FIN both ways, no RST.`},
		},
		program: appScenario(&App{Name: "ping", Port: 7, Server: func(c *Conn, _ string) {
			c.Recv(64)
			c.Send("pong")
			c.Close()
		}}, lateWriter),
	})
	register(&Scenario{
		ID: "tcp-close-unsent", Group: "tcp-close", Client: "client", Server: "server",
		Summary:  `the server writes a 6000-byte reply and closes with a pipelined request unread: the RST discards the unsent reply`,
		Profiles: []string{"linux", "no-rst-on-close"},
		TCP:      smallWindow,
		Variants: []Variant{
			{Name: "naive", Summary: "server closes at once", Why: `The client pipelined a second request; the ` +
				`server answered the first with 6000 bytes and closed with the second unread. The client's small ` +
				`receive window let only part of the reply leave before close(), and the RST that RFC 2525 §2.17 ` +
				`requires also discards the send queue (RSTOnCloseWithUnread): the rest of the reply is lost even ` +
				`under linux. The linger variant keeps the connection until the client has read everything.`},
			{Name: "shutdown", Summary: "server: shutdown(write), close", Why: `shutdown(write) is no fix here: ` +
				`the FIN waits behind the unsent reply, and the close() that follows finds the second request ` +
				`unread and aborts with RST, discarding the unsent part of the reply and the FIN with it ` +
				`(RFC 2525 §2.17). Only the linger variant delivers the whole reply.`},
			{Name: "linger", Summary: "server: shutdown(write), drain, close", Why: whyLingerCommon},
		},
		ProfileWhy: closeProfileWhy,
		program: appScenario(&App{Name: "big", Port: 80, Server: func(c *Conn, v string) {
			recvFull(c, len("GET big\n"))
			c.Send(bigReply)
			closeAs(c, v)
		}}, pipelineClient),
	})
	register(&Scenario{
		ID: "tcp-rst-half-closed", Group: "tcp-close", Client: "client", Server: "server",
		Summary:  `the client sends "hello" and shuts down its side; the echo-one server's close resets the half-closed client`,
		Profiles: []string{"linux", "rfc1337"},
		Variants: []Variant{
			{Name: "naive", Summary: "server closes at once", Why: `The client sent "hello" and a FIN ` +
				`(shutdown(write)): it is half-closed, in FIN-WAIT-2, still reading. The server read one byte and ` +
				`closed with "ello" unread, so its close sent RST (RFC 2525 §2.17). A half-closed connection is ` +
				`reset like any other: the client's read fails and it never learns whether its request was handled. ` +
				`The linger variant drains "ello" and the FIN before closing.`},
			{Name: "shutdown", Summary: "server: shutdown(write), close", Why: `The server's FIN reaches the ` +
				`half-closed client first, which enters TIME-WAIT after reading "h" and EOF; the RST that the ` +
				`close with unread data sends then reaches TIME-WAIT, where linux lets it end TIME-WAIT early ` +
				`(RFC 9293 §3.10.7.4) and profile rfc1337 ignores it (RFC 1337 §3).`},
			{Name: "linger", Summary: "server: shutdown(write), drain, close", Why: whyLingerCommon},
		},
		ProfileWhy: closeProfileWhy,
		program:    appScenario(Apps["echo-one"], halfCloseClient),
	})
}

// bigReply is the 6000-byte answer of tcp-close-unsent.
var bigReply = strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz!\n", 158)[:6000]

// pipelineClient sends two requests at once, then reads until EOF or an
// error.
func pipelineClient(c *Conn, _ string) {
	c.Send("GET big\n")
	c.Send("GET more\n")
	c.h.Sleep(thinkTime)
	readAll(c, 4096)
	c.Close()
}

// halfCloseClient sends "hello", shuts down its sending side and reads
// until EOF or an error.
func halfCloseClient(c *Conn, _ string) {
	c.Send("hello")
	c.Shutdown()
	c.h.Sleep(thinkTime)
	readAll(c, 64)
	c.Close()
}

// lateWriter sends "ping", reads the answer, and then (naive) writes a
// second request without looking for the server's FIN; fixed reads until
// EOF and stops.
func lateWriter(c *Conn, variant string) {
	c.Send("ping")
	c.h.Sleep(thinkTime)
	c.Recv(64)
	if variant == "fixed" {
		readAll(c, 64)
		c.Close()
		return
	}
	c.Send("late")
	c.h.Sleep(thinkTime)
	c.Recv(64)
	c.Send("again")
	c.Close()
}
