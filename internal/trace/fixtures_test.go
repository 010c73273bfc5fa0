package trace

import (
	"time"

	"github.com/teardown-lab/teardown/clock"
)

// Hand-built traces that mirror what the lab records for real scenarios.
// Every link has a one-way delay of 1 ms; the ISNs are arbitrary.

// t0 is the run's start: an arbitrary instant, as netsim's epoch is.
const t0 clock.Instant = 1_700_000_000_000_000_000

func at(ms float64) clock.Instant { return t0.Add(time.Duration(ms * float64(time.Millisecond))) }

const (
	isnC = 1000 // client's ISN
	isnS = 5000 // server's ISN
)

// tcpPkt builds a client↔server TCP packet sent at ms arriving 1 ms later.
func tcpPkt(from, to, kind string, seq, ack uint64, n int, ms float64) (clock.Instant, Packet) {
	sp, dp := uint16(49152), uint16(7)
	if from == "server" {
		sp, dp = dp, sp
	}
	return at(ms), Packet{From: from, To: to, SrcPort: sp, DstPort: dp, Proto: ProtoTCP,
		Kind: kind, Seq: seq, Ack: ack, Len: n, Arrive: at(ms + 1)}
}

// handshake records connect/accept and the three-way handshake up to the
// client's ACK; the client's connect returns at 2 ms. The caller records
// the server's side of the ACK's arrival with established.
func handshake(tr *Trace) (acc *Call) {
	acc = tr.AddCall(at(0), Call{Host: "server", Name: CallAccept})
	conn := tr.AddCall(at(0), Call{Host: "client", Name: CallConnect})
	tr.AddState(at(0), "client", StateChange{From: "CLOSED", To: "SYN-SENT", Reason: "connect"})
	tr.AddPacket(tcpPkt("client", "server", "SYN", isnC, 0, 0, 0))
	tr.AddState(at(1), "server", StateChange{From: "LISTEN", To: "SYN-RECEIVED", Reason: "SYN received"})
	tr.AddPacket(tcpPkt("server", "client", "SYN|ACK", isnS, isnC+1, 0, 1))
	tr.AddState(at(2), "client", StateChange{From: "SYN-SENT", To: "ESTABLISHED"})
	tr.Return(at(2), conn, ResultOK, 0, "")
	tr.AddPacket(tcpPkt("client", "server", "ACK", isnC+1, isnS+1, 0, 2))
	return acc
}

// established records the ACK's arrival at the server at 3 ms.
func established(tr *Trace, acc *Call) {
	tr.AddState(at(3), "server", StateChange{From: "SYN-RECEIVED", To: "ESTABLISHED", Reason: "ACK received"})
	tr.Return(at(3), acc, ResultOK, 0, "")
}

// echoOneNaive is tcp-echo-one, variant naive, profile linux: the server
// reads one byte of "hello", echoes it and closes with "ello" unread.
func echoOneNaive() *Trace {
	tr := &Trace{Scenario: "tcp-echo-one", Variant: "naive", Profile: "linux", Seed: 1,
		Hosts: []string{"client", "server"}, Start: t0}
	acc := handshake(tr)
	tr.AddCall(at(2), Call{Host: "client", Name: CallSend, Result: ResultOK, Bytes: 5, Detail: "hello"})
	tr.AddPacket(tcpPkt("client", "server", "PSH|ACK", isnC+1, isnS+1, 5, 2))
	rc := tr.AddCall(at(2), Call{Host: "client", Name: CallRecv, Arg: "64"})
	established(tr, acc)
	tr.AddCall(at(3), Call{Host: "server", Name: CallRecv, Arg: "1", Result: ResultData, Bytes: 1, Detail: "h"})
	tr.AddCall(at(3), Call{Host: "server", Name: CallSend, Result: ResultOK, Bytes: 1, Detail: "h"})
	tr.AddPacket(tcpPkt("server", "client", "PSH|ACK", isnS+1, isnC+6, 1, 3))
	tr.AddCall(at(3), Call{Host: "server", Name: CallClose, Result: ResultOK})
	tr.AddState(at(3), "server", StateChange{From: "ESTABLISHED", To: "CLOSED", Reason: "close with 4 bytes unread"})
	tr.AddPacket(tcpPkt("server", "client", "RST|ACK", isnS+2, isnC+6, 0, 3))
	tr.Return(at(4), rc, ResultData, 1, "h")
	tr.AddState(at(4), "client", StateChange{From: "ESTABLISHED", To: "CLOSED", Reason: "RST received"})
	tr.AddCall(at(4), Call{Host: "client", Name: CallRecv, Arg: "64", Result: ResultReset, Detail: "connection reset by peer"})
	tr.AddCall(at(4), Call{Host: "client", Name: CallClose, Result: ResultOK})
	tr.Verdict = Verdict{DataLost: true, LostBytes: 4,
		Errors: []HostError{{Host: "client", Error: "recv: connection reset by peer"}}}
	tr.Explanation = `The server closed its socket while "ello" (4 bytes) was still unread. ` +
		`RFC 2525 §2.17 tells a TCP to answer that with RST, not FIN: the reset aborts the client, ` +
		`whose next recv fails with "connection reset by peer". Profile linux hands the queued "h" ` +
		`to the reader before the error; a discard-on-rst stack would lose it too. ` +
		`The linger variant shuts down writing, reads and discards until the client's FIN, ` +
		`and only then closes: FIN both ways and no RST.`
	return tr
}

// echoOneLinger is tcp-echo-one, variant linger: shutdown(write), read
// and discard until the client's FIN, then close.
func echoOneLinger() *Trace {
	tr := &Trace{Scenario: "tcp-echo-one", Variant: "linger", Profile: "linux", Seed: 1,
		Hosts: []string{"client", "server"}, Start: t0}
	acc := handshake(tr)
	tr.AddCall(at(2), Call{Host: "client", Name: CallSend, Result: ResultOK, Bytes: 5, Detail: "hello"})
	tr.AddPacket(tcpPkt("client", "server", "PSH|ACK", isnC+1, isnS+1, 5, 2))
	rc := tr.AddCall(at(2), Call{Host: "client", Name: CallRecv, Arg: "64"})
	established(tr, acc)
	tr.AddCall(at(3), Call{Host: "server", Name: CallRecv, Arg: "1", Result: ResultData, Bytes: 1, Detail: "h"})
	tr.AddCall(at(3), Call{Host: "server", Name: CallSend, Result: ResultOK, Bytes: 1, Detail: "h"})
	tr.AddPacket(tcpPkt("server", "client", "PSH|ACK", isnS+1, isnC+6, 1, 3))
	tr.AddCall(at(3), Call{Host: "server", Name: CallShutdown, Arg: "write", Result: ResultOK})
	tr.AddState(at(3), "server", StateChange{From: "ESTABLISHED", To: "FIN-WAIT-1", Reason: "shutdown(write)"})
	tr.AddPacket(tcpPkt("server", "client", "FIN|ACK", isnS+2, isnC+6, 0, 3))
	tr.AddCall(at(3), Call{Host: "server", Name: CallRecv, Arg: "512", Result: ResultData, Bytes: 4, Detail: "ello"})
	sr := tr.AddCall(at(3), Call{Host: "server", Name: CallRecv, Arg: "512"})
	tr.Return(at(4), rc, ResultData, 1, "h")
	tr.AddState(at(4), "client", StateChange{From: "ESTABLISHED", To: "CLOSE-WAIT", Reason: "FIN received"})
	tr.AddPacket(tcpPkt("client", "server", "ACK", isnC+6, isnS+3, 0, 4))
	tr.AddCall(at(4), Call{Host: "client", Name: CallRecv, Arg: "64", Result: ResultEOF})
	tr.AddCall(at(4), Call{Host: "client", Name: CallClose, Result: ResultOK})
	tr.AddState(at(4), "client", StateChange{From: "CLOSE-WAIT", To: "LAST-ACK", Reason: "close"})
	tr.AddPacket(tcpPkt("client", "server", "FIN|ACK", isnC+6, isnS+3, 0, 4))
	tr.AddState(at(5), "server", StateChange{From: "FIN-WAIT-1", To: "FIN-WAIT-2", Reason: "FIN acknowledged"})
	tr.AddState(at(5), "server", StateChange{From: "FIN-WAIT-2", To: "TIME-WAIT", Reason: "FIN received"})
	tr.Return(at(5), sr, ResultEOF, 0, "")
	tr.AddPacket(tcpPkt("server", "client", "ACK", isnS+3, isnC+7, 0, 5))
	tr.AddCall(at(5), Call{Host: "server", Name: CallClose, Result: ResultOK})
	tr.AddState(at(6), "client", StateChange{From: "LAST-ACK", To: "CLOSED", Reason: "FIN acknowledged"})
	tr.Explanation = `The server shuts down its sending side first (FIN), then reads and discards ` +
		`what the client still sends until the client's FIN arrives, and only then closes. ` +
		`Its receive queue is empty at close, so RFC 2525 §2.17 does not apply: no RST, ` +
		`the client reads "h" and then EOF. The server holds TIME-WAIT (RFC 9293 §3.6).`
	return tr
}

// dccpSimultaneousClose is dccp-simultaneous-close, variant fixed: both
// ends send Close; the client, receiving Close in CLOSING, breaks the tie
// with Reset(Closed).
func dccpSimultaneousClose() *Trace {
	tr := &Trace{Scenario: "dccp-simultaneous-close", Variant: "fixed", Profile: "linux", Seed: 7,
		Hosts: []string{"client", "server"}, Start: t0}
	const cs, ss = 7_000_000_011, 9_000_000_022
	pkt := func(from, to, kind string, seq, ack uint64, ms float64) (clock.Instant, Packet) {
		sp, dp := uint16(49153), uint16(3456)
		if from == "server" {
			sp, dp = dp, sp
		}
		return at(ms), Packet{From: from, To: to, SrcPort: sp, DstPort: dp, Proto: ProtoDCCP,
			Kind: kind, Seq: seq, Ack: ack, Arrive: at(ms + 1)}
	}
	tr.AddPacket(pkt("client", "server", "Request", cs, 0, 0))
	tr.AddPacket(pkt("server", "client", "Response", ss, cs, 1))
	tr.AddPacket(pkt("client", "server", "Ack", cs+1, ss, 2))
	tr.AddNote(at(3), "", "both applications close at the same instant")
	tr.AddCall(at(3), Call{Host: "client", Name: CallClose, Result: ResultOK})
	tr.AddState(at(3), "client", StateChange{From: "OPEN", To: "CLOSING", Reason: "active close"})
	tr.AddPacket(pkt("client", "server", "Close", cs+2, ss, 3))
	tr.AddCall(at(3), Call{Host: "server", Name: CallClose, Result: ResultOK})
	tr.AddState(at(3), "server", StateChange{From: "OPEN", To: "CLOSING", Reason: "server-timewait: Close"})
	tr.AddPacket(pkt("server", "client", "Close", ss+1, cs+1, 3))
	tr.AddNote(at(4), "server", "Close in CLOSING: keeps waiting")
	tr.AddState(at(4), "client", StateChange{From: "CLOSING", To: "CLOSED", Reason: "tie-breaker"})
	rst := func() (clock.Instant, Packet) { return pkt("client", "server", "Reset", cs+3, ss+1, 4) }
	t, p := rst()
	p.Extra = "Closed"
	tr.AddPacket(t, p)
	tr.AddState(at(5), "server", StateChange{From: "CLOSING", To: "TIMEWAIT", Reason: "Reset(Closed) received"})
	tr.Explanation = `Both ends closed at once, so each sent a Close and waits in CLOSING for the ` +
		`Reset that RFC 4340 §8.3 says answers a Close. Neither would send it: each end's Close ` +
		`is retransmitted until the final timeout, more than 64 s. The tie-breaker of the ` +
		`"Closing Mechanism" seed lets the client, on a Close received in CLOSING, answer with ` +
		`Reset(Closed): the server enters TIMEWAIT and both ends are done within one round trip.`
	return tr
}

// lossyTrace has a dropped data packet, its retransmission and a recv
// that never returns: the shapes no golden scenario above shows.
func lossyTrace() *Trace {
	tr := &Trace{Scenario: "lossy-example", Hosts: []string{"client", "server"}, Start: t0}
	tr.AddCall(at(0), Call{Host: "client", Name: CallSend, Result: ResultOK, Bytes: 3, Detail: "abc"})
	t, p := tcpPkt("client", "server", "PSH|ACK", isnC+1, isnS+1, 3, 0)
	p.Dropped, p.Arrive = true, 0
	tr.AddPacket(t, p)
	rc := tr.AddCall(at(0.5), Call{Host: "server", Name: CallRecv, Arg: "16"})
	tr.AddCall(at(0.5), Call{Host: "client", Name: CallRecv, Arg: "16"})
	t, p = tcpPkt("client", "server", "PSH|ACK", isnC+1, isnS+1, 3, 200)
	p.Extra = "retransmission"
	tr.AddPacket(t, p)
	tr.Return(at(201), rc, ResultData, 3, "abc")
	tr.AddPacket(tcpPkt("server", "client", "ACK", isnS+1, isnC+4, 0, 201))
	tr.Verdict.Errors = []HostError{{Host: "client", Error: "recv never returned"}}
	return tr
}
