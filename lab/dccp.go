package lab

// DCCP (SCENARIOS.md §2, seed 001_*). The DCCP core exists in
// internal/dccp; until stack/ exposes it (stack.DialDCCP and
// stack.ListenDCCP) these scenarios are registered with their text and
// refuse to run.

const dccpNeeds = "DCCP in stack/ (stack.DialDCCP and stack.ListenDCCP)"

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
				`RFC 4340 §8.3: the server asks with CloseReq and the client keeps TIMEWAIT, or the closer sends Close and keeps TIMEWAIT itself.`,
				`CloseReq and Close are retransmitted with backoff until answered; the server-timewait option makes the server send Close.`)},
		{ID: "dccp-simultaneous-close", Summary: "both ends send Close at once and wait in CLOSING for a Reset",
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
				`Where TCP drops the SYN in silence, DCCP answers Reset code 9 "Too Busy" (RFC 4340 §5.6).`,
				`The same: the client's connect fails at once.`)},
	} {
		s.Group, s.Client, s.Server, s.Needs = "dccp", "client", "server", dccpNeeds
		s.Profiles = []string{"linux", "rfc-naive"}
		register(s)
	}
}
