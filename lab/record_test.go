package lab

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/internal/trace"
	"github.com/teardown-lab/teardown/link/pcap"
)

// eventIndex returns the index of the first event of tr that match finds,
// or fails the test.
func eventIndex(t *testing.T, tr *trace.Trace, what string, match func(e trace.Event) bool) int {
	t.Helper()
	i := slices.IndexFunc(tr.Events, match)
	if i < 0 {
		t.Fatalf("the trace has no %s", what)
	}
	return i
}

// Packets are recorded in the order the stacks wrote them, not the order
// the network saw them (after every woken application had its turn): the
// echo server's reply leaves before its close(), and the ACK it owes for
// "hello" before accept() returns, so no packet seems to come from a
// socket already CLOSED.
func TestRecord_PacketsInTheOrderTheStackWroteThem(t *testing.T) {
	tr := run(t, "tcp-echo-one", "naive", "").trace
	server := tr.Hosts[1]
	reply := eventIndex(t, tr, "server's reply", func(e trace.Event) bool {
		return e.Kind == trace.KindPacket && e.Host == server && e.Packet.Len == 1
	})
	ackOfHello := eventIndex(t, tr, "server's ACK of hello", func(e trace.Event) bool {
		return e.Kind == trace.KindPacket && e.Host == server && e.Packet.Kind == "ACK" && e.Packet.Len == 0
	})
	accepted := eventIndex(t, tr, "accept's return", func(e trace.Event) bool {
		return e.Kind == trace.KindReturn && e.Call.Name == trace.CallAccept
	})
	closed := eventIndex(t, tr, "server's close()", func(e trace.Event) bool {
		return e.Kind == trace.KindCall && e.Host == server && e.Call.Name == trace.CallClose
	})
	toClosed := eventIndex(t, tr, "server's change to CLOSED", func(e trace.Event) bool {
		return e.Kind == trace.KindState && e.Host == server && e.State.To == "CLOSED"
	})
	if !(ackOfHello < accepted && reply < closed && closed < toClosed) {
		t.Errorf("events ACK of hello %d, accept returns %d, reply %d, close() %d, CLOSED %d: want ACK before accept's return, the reply before close(), close() before CLOSED",
			ackOfHello, accepted, reply, closed, toClosed)
	}
	if err := tr.Validate(); err != nil {
		t.Error(err)
	}
}

// Every packet of the trace carries its frame number in the capture: the
// n-th packet drawn is the n-th frame, with the same flags and length.
func TestRecord_FramesNumberThePcap(t *testing.T) {
	for _, id := range []string{"tcp-close-unsent", "dccp-close-crosses-closereq", "backlog-full"} {
		res := run(t, id, "", "")
		rd, err := pcap.NewReader(bytes.NewReader(res.Pcap))
		if err != nil {
			t.Fatal(err)
		}
		var frames []trace.Packet
		for {
			p, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			q, ok := decodePacket(p.IP)
			if !ok {
				t.Fatalf("%s: frame %d does not decode", id, len(frames)+1)
			}
			frames = append(frames, q)
		}
		n := 0
		for _, e := range res.trace.Events {
			if e.Kind != trace.KindPacket {
				continue
			}
			n++
			p := e.Packet
			if p.Frame != n || p.Frame > len(frames) {
				t.Fatalf("%s: packet %d (%s) has frame %d of %d", id, n, p.Kind, p.Frame, len(frames))
			}
			f := frames[p.Frame-1]
			if f.Kind != p.Kind || f.Seq != p.Seq || f.Len != p.Len {
				t.Errorf("%s: frame %d is %s seq=%d len=%d, the trace says %s seq=%d len=%d",
					id, p.Frame, f.Kind, f.Seq, f.Len, p.Kind, p.Seq, p.Len)
			}
		}
		if n != len(frames) {
			t.Errorf("%s: the trace has %d packets, the capture %d frames", id, n, len(frames))
		}
	}
}

// The Mermaid and PlantUML exports draw the same order: the echo server's
// reply before its close() and its change to CLOSED, and the whole reason
// of that change.
func TestRecord_ExportsKeepTheOrder(t *testing.T) {
	res := run(t, "tcp-echo-one", "naive", "")
	for name, doc := range map[string]string{"mermaid": res.Mermaid(), "plantuml": res.PlantUML()} {
		reply := strings.Index(doc, "PSH|ACK seq=1 ack=6 len=1")
		closed := strings.Index(doc, "close() → ok")
		reason := strings.Index(doc, "[ESTABLISHED → CLOSED] close with 4 unread bytes: RFC 2525 §2.17\n")
		if reply < 0 || !(reply < closed && closed < reason) {
			t.Errorf("%s: reply at %d, close() at %d, the whole reason at %d: want them in this order\n%s",
				name, reply, closed, reason, doc)
		}
	}
}
