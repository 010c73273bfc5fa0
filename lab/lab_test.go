package lab

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/internal/trace"
)

// every id docs/scenarios.md names, in its order.
var scenarioIDs = []string{
	"tcp-primes", "tcp-primes-six", "tcp-echo-one",
	"dccp-close-unread", "dccp-closereq-unread", "dccp-active-close", "dccp-simultaneous-close",
	"dccp-close-crosses-closereq", "dccp-abort-unread", "dccp-backlog-full",
	"backlog-full", "backlog-nothing", "backlog-data", "backlog-fin", "backlog-data-fin",
	"backlog-data-fin-gone", "backlog-fin-gone", "backlog-data-rst", "backlog-rst",
}

func TestEveryScenarioOfTheCatalogueIsRegistered(t *testing.T) {
	ids := IDs()
	for _, id := range scenarioIDs {
		if !slices.Contains(ids, id) {
			t.Errorf("docs/scenarios.md names %s but the lab has no such scenario", id)
		}
	}
	for _, s := range Scenarios() {
		if s.Summary == "" || len(s.Variants) == 0 {
			t.Errorf("%s: needs a summary and variants", s.ID)
		}
		for _, v := range s.Variants {
			if v.Why == "" {
				t.Errorf("%s/%s: no explanation", s.ID, v.Name)
			}
		}
		if !s.Runnable() && s.Needs == "" {
			t.Errorf("%s: not runnable but does not say what it needs", s.ID)
		}
	}
}

// Every scenario docs/scenarios.md names runs, in every variant.
func TestEveryScenarioRuns(t *testing.T) {
	for _, id := range scenarioIDs {
		s, err := Lookup(id)
		if err != nil || !s.Runnable() {
			t.Errorf("%s: not runnable (%v)", id, err)
			continue
		}
		for _, v := range s.VariantNames() {
			if _, err := Run(id, Options{Variant: v}); err != nil {
				t.Errorf("%s/%s: %v", id, v, err)
			}
		}
	}
}

func TestListOrderIsStable(t *testing.T) {
	a, b := IDs(), IDs()
	if !slices.Equal(a, b) || a[0] != "tcp-primes" {
		t.Fatalf("ids not stable or not in docs/scenarios.md order: %v / %v", a, b)
	}
}

func TestUnknownNamesListTheValidOnes(t *testing.T) {
	_, err := Run("tcp-nosuch", Options{})
	if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "tcp-echo-one") {
		t.Errorf("unknown id: %v; want ErrUnknown naming the valid ids", err)
	}
	_, err = Run("tcp-echo-one", Options{Variant: "bogus"})
	if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "naive, shutdown, linger") {
		t.Errorf("unknown variant: %v; want ErrUnknown naming the variants", err)
	}
	_, err = Run("tcp-echo-one", Options{Profile: "bsd"})
	if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "discard-on-rst") {
		t.Errorf("unknown profile: %v; want ErrUnknown naming the profiles", err)
	}
}

func TestNotRunnableSaysWhatItNeeds(t *testing.T) {
	for _, s := range Scenarios() {
		if s.Runnable() {
			continue
		}
		_, err := Run(s.ID, Options{})
		if !errors.Is(err, ErrNotRunnable) || !strings.Contains(err.Error(), s.Needs) {
			t.Errorf("%s: %v; want ErrNotRunnable naming %q", s.ID, err, s.Needs)
		}
	}
}

// run runs a scenario or fails the test.
func run(t *testing.T, id, variant, prof string) *Result {
	t.Helper()
	res, err := Run(id, Options{Variant: variant, Profile: prof})
	if err != nil {
		t.Fatalf("%s/%s/%s: %v", id, variant, prof, err)
	}
	return res
}

// outcomes returns the results of host's calls of one name, in order,
// with the data of each recv ("data:h", "reset", "eof").
func outcomes(tr *trace.Trace, host string, name trace.CallName) []string {
	var out []string
	for _, e := range tr.Events {
		if e.Kind == trace.KindCall && e.Host == host && e.Call.Name == name {
			s := string(e.Call.Result)
			if e.Call.Result == trace.ResultData {
				s += ":" + e.Call.Detail
			}
			out = append(out, s)
		}
	}
	return out
}

// rsts counts the TCP segments with RST on the wire, by sender.
func rsts(tr *trace.Trace) map[string]int {
	n := map[string]int{}
	for _, e := range tr.Events {
		if e.Kind == trace.KindPacket && strings.Contains(e.Packet.Kind, "RST") {
			n[e.Packet.From]++
		}
	}
	return n
}

func TestEchoOneOutcomes(t *testing.T) {
	naive := run(t, "tcp-echo-one", "naive", "").trace
	if got := outcomes(naive, "client", trace.CallRecv); !slices.Equal(got, []string{"data:h", "reset"}) {
		t.Errorf("naive: client reads %v; want \"h\" then reset (RFC 2525 §2.17 RST, linux hands over the queued byte first)", got)
	}
	if naive.Verdict.LostBytes != 4 || !naive.Verdict.DataLost {
		t.Errorf("naive: verdict %+v; want 4 bytes (\"ello\") never read", naive.Verdict)
	}
	if len(naive.Verdict.Errors) != 1 || naive.Verdict.Errors[0].Host != "client" ||
		!strings.Contains(naive.Verdict.Errors[0].Error, "reset") {
		t.Errorf("naive: errors %+v; want the client's reset", naive.Verdict.Errors)
	}
	shut := run(t, "tcp-echo-one", "shutdown", "").trace
	if got := outcomes(shut, "client", trace.CallRecv); !slices.Equal(got, []string{"data:h", "eof"}) {
		t.Errorf("shutdown: client reads %v; want \"h\" then EOF (FIN before the RST)", got)
	}
	if rsts(shut)["server"] == 0 {
		t.Errorf("shutdown: the close with unread data must still send RST after the FIN")
	}
	linger := run(t, "tcp-echo-one", "linger", "").trace
	if got := outcomes(linger, "client", trace.CallRecv); !slices.Equal(got, []string{"data:h", "eof"}) {
		t.Errorf("linger: client reads %v; want \"h\" then EOF", got)
	}
	if n := rsts(linger); len(n) != 0 {
		t.Errorf("linger: RSTs on the wire %v; the lingering close sends none", n)
	}
	if linger.Verdict.DataLost || len(linger.Verdict.Errors) != 0 {
		t.Errorf("linger: verdict %+v; want nothing lost, no error", linger.Verdict)
	}
	norst := run(t, "tcp-echo-one", "naive", "no-rst-on-close").trace
	if got := outcomes(norst, "client", trace.CallRecv); !slices.Equal(got, []string{"data:h", "eof"}) || len(rsts(norst)) != 0 {
		t.Errorf("no-rst-on-close: client reads %v, RSTs %v; want \"h\", EOF and no RST", got, rsts(norst))
	}
}

func TestPrimesOutcomes(t *testing.T) {
	linux := run(t, "tcp-primes", "naive", "").trace
	if got := outcomes(linux, "A", trace.CallRecv); !slices.Equal(got, []string{"data:ERROR\n", "reset"}) {
		t.Errorf("linux: A reads %v; want ERROR then reset", got)
	}
	if linux.Verdict.LostBytes != 12 {
		t.Errorf("linux: lost %d bytes; want the 12 bytes of three unread numbers", linux.Verdict.LostBytes)
	}
	discard := run(t, "tcp-primes", "naive", "discard-on-rst").trace
	if got := outcomes(discard, "A", trace.CallRecv); !slices.Equal(got, []string{"reset"}) {
		t.Errorf("discard-on-rst: A reads %v; want only the reset: the RST discards ERROR", got)
	}
	if discard.Verdict.LostBytes != 12+len("ERROR\n") {
		t.Errorf("discard-on-rst: lost %d bytes; want the numbers and ERROR", discard.Verdict.LostBytes)
	}
	if !strings.Contains(discard.Explanation, "discard-on-rst") {
		t.Errorf("discard-on-rst: the explanation does not name the profile")
	}
	six := run(t, "tcp-primes-six", "naive", "").trace
	if got := outcomes(six, "A", trace.CallRecv); !slices.Equal(got, []string{"data:OK\n", "reset"}) || six.Verdict.LostBytes != 4 {
		t.Errorf("six: A reads %v, lost %d; want OK then reset, the sixth number (4 bytes) unread", got, six.Verdict.LostBytes)
	}
	linger := run(t, "tcp-primes", "linger", "").trace
	if len(rsts(linger)) != 0 || linger.Verdict.DataLost {
		t.Errorf("linger: RSTs %v, verdict %+v; want no RST and nothing lost", rsts(linger), linger.Verdict)
	}
}

func TestAlsoCoveredOutcomes(t *testing.T) {
	abort := run(t, "tcp-linger-zero", "abort", "").trace
	if got := outcomes(abort, "client", trace.CallRecv); !slices.Equal(got, []string{"data:bye", "reset"}) || abort.Verdict.DataLost {
		t.Errorf("linger 0: client reads %v, verdict %+v; want bye, reset, nothing lost", got, abort.Verdict)
	}
	late := run(t, "tcp-data-after-close", "naive", "").trace
	if rsts(late)["server"] != 1 || late.Verdict.LostBytes != len("late") {
		t.Errorf("data after close: RSTs %v, lost %d; want one RST from the server and \"late\" lost", rsts(late), late.Verdict.LostBytes)
	}
	// The RST reaches the client in CLOSE-WAIT (the server's FIN came
	// first): Linux fails its next write with EPIPE, not ECONNRESET.
	if got := outcomes(late, "client", trace.CallSend); !slices.Equal(got, []string{"ok", "ok", "error"}) {
		t.Errorf("data after close: client's sends %v; want ok, ok, then broken pipe", got)
	}
	fixed := run(t, "tcp-data-after-close", "fixed", "").trace
	if len(rsts(fixed)) != 0 || fixed.Verdict.DataLost {
		t.Errorf("data after close, fixed: RSTs %v verdict %+v", rsts(fixed), fixed.Verdict)
	}
	for _, v := range []string{"naive", "shutdown"} {
		unsent := run(t, "tcp-close-unsent", v, "").trace
		got := 0
		for _, e := range unsent.Events {
			if e.Kind == trace.KindCall && e.Host == "client" && e.Call.Result == trace.ResultData {
				got += e.Call.Bytes
			}
		}
		if got >= len(bigReply) || got == 0 || outcomes(unsent, "client", trace.CallRecv)[len(outcomes(unsent, "client", trace.CallRecv))-1] != "reset" {
			t.Errorf("close with unsent data, %s: client got %d of %d bytes, recvs %v; want part of the reply then reset",
				v, got, len(bigReply), outcomes(unsent, "client", trace.CallRecv))
		}
	}
	lingered := run(t, "tcp-close-unsent", "linger", "").trace
	if lingered.Verdict.DataLost || len(rsts(lingered)) != 0 {
		t.Errorf("close with unsent data, linger: verdict %+v RSTs %v; want the whole reply", lingered.Verdict, rsts(lingered))
	}
	half := run(t, "tcp-rst-half-closed", "naive", "").trace
	if got := outcomes(half, "client", trace.CallRecv); !slices.Equal(got, []string{"data:h", "reset"}) {
		t.Errorf("half-closed: client reads %v; want h then reset", got)
	}
}

// Same arguments, same bytes: text, JSON and pcap.
func TestRunIsDeterministic(t *testing.T) {
	for _, id := range []string{"tcp-echo-one", "tcp-close-unsent", "tcp-primes"} {
		a, b := run(t, id, "naive", ""), run(t, id, "naive", "")
		if trace.Text(a.trace, trace.TextOptions{}) != trace.Text(b.trace, trace.TextOptions{}) {
			t.Errorf("%s: two runs drew different diagrams", id)
		}
		var ja, jb bytes.Buffer
		trace.WriteJSON(&ja, a.trace)
		trace.WriteJSON(&jb, b.trace)
		if !bytes.Equal(ja.Bytes(), jb.Bytes()) {
			t.Errorf("%s: two runs wrote different JSON", id)
		}
		if !bytes.Equal(a.Pcap, b.Pcap) || len(a.Pcap) < 100 {
			t.Errorf("%s: two runs wrote different pcaps (%d, %d bytes)", id, len(a.Pcap), len(b.Pcap))
		}
	}
	a := run(t, "tcp-echo-one", "naive", "")
	c, err := Run("tcp-echo-one", Options{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Pcap, c.Pcap) {
		t.Errorf("seeds 1 and 2 gave the same pcap: the seed must reach the ISNs")
	}
}

func TestDCCPOutcomes(t *testing.T) {
	naive := run(t, "dccp-close-unread", "naive", "").trace
	if got := outcomes(naive, "client", trace.CallRecv); !slices.Equal(got, []string{"eof"}) || naive.Verdict.LostBytes != 50 {
		t.Errorf("close-unread naive: client reads %v, lost %d; want only EOF: the Reset erased 5 datagrams (50 bytes)", got, naive.Verdict.LostBytes)
	}
	fixed := run(t, "dccp-close-unread", "fixed", "").trace
	if got := outcomes(fixed, "client", trace.CallRecv); len(got) != 6 || got[5] != "eof" || fixed.Verdict.DataLost {
		t.Errorf("close-unread fixed: client reads %v; want five datagrams then EOF (PASSIVE_CLOSE)", got)
	}
	closes := func(tr *trace.Trace) int {
		n := 0
		for _, e := range tr.Events {
			if e.Kind == trace.KindPacket && e.Packet.Kind == "Close" {
				n++
			}
		}
		return n
	}
	pingpong := run(t, "dccp-simultaneous-close", "naive", "").trace
	tie := run(t, "dccp-simultaneous-close", "fixed", "").trace
	if closes(pingpong) < 10 || closes(tie) != 2 {
		t.Errorf("simultaneous close: %d Close packets without the tie-breaker (want a ping-pong), %d with it (want 2)",
			closes(pingpong), closes(tie))
	}
	abort := run(t, "dccp-abort-unread", "naive", "").trace
	if len(abort.Verdict.Errors) != 1 || abort.Verdict.Errors[0].Host != "server" {
		t.Errorf("abort-unread: errors %+v; want the server's read reset once", abort.Verdict.Errors)
	}
}

// The seed's table (vos-17.1) and Linux's differences, row by row.
func TestBacklogRows(t *testing.T) {
	for _, c := range []struct {
		id, prof string
		accept   string
		reads    []string
	}{
		{"backlog-nothing", "vos-17.1", "ok", []string{"blocked"}},
		{"backlog-data", "vos-17.1", "ok", []string{"data:hello", "blocked"}},
		{"backlog-fin", "vos-17.1", "ok", []string{"eof"}},
		{"backlog-data-fin", "vos-17.1", "ok", []string{"data:hello", "eof"}},
		{"backlog-data-rst", "vos-17.1", "blocked", nil},
		{"backlog-rst", "vos-17.1", "blocked", nil},
		{"backlog-data-rst", "linux", "ok", []string{"data:hello", "reset"}},
		{"backlog-rst", "linux", "ok", []string{"reset"}},
		// The "gone" rows: the slow reader (the seed's table), the fast
		// reader, and linux, which acknowledged the FIN long ago.
		{"backlog-data-fin-gone", "vos-17.1", "ok", []string{"reset", "reset"}},
		{"backlog-data-fin-gone", "fast-reader", "ok", []string{"data:hello", "reset"}},
		{"backlog-data-fin-gone", "linux", "ok", []string{"data:hello", "eof"}},
		{"backlog-fin-gone", "vos-17.1", "ok", []string{"eof", "reset"}},
		{"backlog-fin-gone", "linux", "ok", []string{"eof", "eof"}},
	} {
		tr := run(t, c.id, c.prof, "").trace
		acc := outcomes(tr, "server", trace.CallAccept)
		reads := outcomes(tr, "server", trace.CallRecv)
		if len(acc) != 1 || acc[0] != c.accept || !slices.Equal(reads, c.reads) {
			t.Errorf("%s under %s: accept %v, reads %v; want accept %s, reads %v", c.id, c.prof, acc, reads, c.accept, c.reads)
		}
	}
}

// backlog-data-fin-gone: under vos-17.1 the held FIN is retransmitted
// until the client vanishes, and the RST comes from the client's host.
// backlog-fin-gone: the server's write after EOF draws the RST.
func TestBacklogGoneWire(t *testing.T) {
	slow := run(t, "backlog-data-fin-gone", "vos-17.1", "").trace
	fins := 0
	for _, e := range slow.Events {
		if e.Kind == trace.KindPacket && e.Packet.From == "client" && strings.Contains(e.Packet.Kind, "FIN") {
			fins++
		}
	}
	if fins < 2 || rsts(slow)["client"] == 0 || rsts(slow)["server"] != 0 {
		t.Errorf("vos-17.1: %d FINs from the client (want it retransmitted), RSTs %v (want from the client only)", fins, rsts(slow))
	}
	if slow.Verdict.LostBytes != len("hello") {
		t.Errorf("vos-17.1 slow reader: lost %d bytes, want \"hello\"", slow.Verdict.LostBytes)
	}
	if n := rsts(run(t, "backlog-data-fin-gone", "linux", "").trace); len(n) != 0 {
		t.Errorf("linux: RSTs %v, want none (nothing is sent to the vanished client)", n)
	}
	for _, v := range []string{"vos-17.1", "linux"} {
		fin := run(t, "backlog-fin-gone", v, "").trace
		if rsts(fin)["client"] != 1 || fin.Verdict.LostBytes != len("late") {
			t.Errorf("backlog-fin-gone %s: RSTs %v, lost %d; want one RST from the client's host for \"late\"",
				v, rsts(fin), fin.Verdict.LostBytes)
		}
	}
}

// backlog-full: what each profile does to the connections beyond the
// backlog, on the wire and at connect().
func TestBacklogFull(t *testing.T) {
	count := func(tr *trace.Trace, from, kind string) int {
		n := 0
		for _, e := range tr.Events {
			if e.Kind == trace.KindPacket && e.Packet.From == from && e.Packet.Kind == kind {
				n++
			}
		}
		return n
	}
	linux := run(t, "backlog-full", "linux", "").trace
	if got := outcomes(linux, "client", trace.CallConnect); !slices.Equal(got, []string{"ok", "ok", "ok", "ok", "ok"}) {
		t.Errorf("linux: connects %v, want all five through in the end", got)
	}
	if count(linux, "client", "SYN") < 6 || count(linux, "server", "SYN|ACK") < 6 || len(rsts(linux)) != 0 {
		t.Errorf("linux: %d SYNs, %d SYN-ACKs, RSTs %v; want a SYN and a SYN-ACK retransmitted, no RST",
			count(linux, "client", "SYN"), count(linux, "server", "SYN|ACK"), rsts(linux))
	}
	abort := run(t, "backlog-full", "abort-on-overflow", "").trace
	if rsts(abort)["server"] != 1 || !slices.Contains(outcomes(abort, "client", trace.CallRecv), "reset") {
		t.Errorf("abort-on-overflow: RSTs %v, client reads %v; want one RST and a reset client",
			rsts(abort), outcomes(abort, "client", trace.CallRecv))
	}
	vos := run(t, "backlog-full", "vos-17.1", "").trace
	if count(vos, "client", "SYN") < 6 || len(rsts(vos)) != 0 {
		t.Errorf("vos-17.1: %d SYNs, RSTs %v; want retransmitted SYNs, no RST", count(vos, "client", "SYN"), rsts(vos))
	}
	legacy := run(t, "backlog-full", "vos-legacy", "").trace
	got := outcomes(legacy, "client", trace.CallConnect)
	refused := 0
	for _, r := range got {
		if r == "refused" {
			refused++
		}
	}
	if refused != 3 || rsts(legacy)["server"] != 3 {
		t.Errorf("vos-legacy: connects %v, RSTs %v; want three refused by RST", got, rsts(legacy))
	}
}

// dccp-active-close: the server's close packets are lost for 3 s and
// retransmitted with doubling intervals until one gets through.
func TestDCCPActiveCloseBackoff(t *testing.T) {
	for v, kind := range map[string]string{"naive": "CloseReq", "fixed": "Close"} {
		tr := run(t, "dccp-active-close", v, "").trace
		var sent []int64
		lost, arrived := 0, 0
		for _, e := range tr.Events {
			if e.Kind == trace.KindPacket && e.Packet.From == "server" && e.Packet.Kind == kind {
				sent = append(sent, int64(e.T))
				if e.Packet.Dropped {
					lost++
				} else {
					arrived++
				}
			}
		}
		if lost < 3 || arrived != 1 {
			t.Fatalf("%s: %d %s lost, %d arrived; want several lost, then one through", v, lost, kind, arrived)
		}
		for i := 2; i < len(sent); i++ {
			if a, b := sent[i-1]-sent[i-2], sent[i]-sent[i-1]; b != 2*a {
				t.Errorf("%s: %s intervals %d then %d ns; want exponential backoff (doubling)", v, kind, a, b)
			}
		}
		if got := outcomes(tr, "client", trace.CallRecv); !slices.Equal(got, []string{"eof"}) {
			t.Errorf("%s: client reads %v, want EOF once the close gets through", v, got)
		}
	}
}

// dccp-backlog-full: Reset (Too Busy) refuses the second connect; Linux's
// errno for it is EUSERS, and the lab records a refusal.
func TestDCCPBacklogFullRefused(t *testing.T) {
	tr := run(t, "dccp-backlog-full", "fixed", "").trace
	if got := outcomes(tr, "client", trace.CallConnect); !slices.Equal(got, []string{"ok", "refused"}) {
		t.Errorf("connects %v; want ok, then refused", got)
	}
	if len(tr.Verdict.Errors) != 1 || !strings.Contains(tr.Verdict.Errors[0].Error, "too many users") {
		t.Errorf("errors %+v; want the EUSERS of the Too Busy reset", tr.Verdict.Errors)
	}
}
