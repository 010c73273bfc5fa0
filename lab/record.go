package lab

import (
	"fmt"
	"net/netip"
	"sync"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/trace"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/netsim"
)

// recorder fills a Trace from three sources: the applications' calls (on
// program goroutines), the simulator's packet events (on the driving
// goroutine) and the stacks' state changes (on either). Under simrun they
// take turns, but a mutex keeps the race detector and live runs honest.
//
// In live runs (Serve, Dial) a recorder keeps nothing: each call goes to
// its sink as it completes (newSinkRecorder), so memory does not grow with
// the bytes and calls of a long run.
type recorder struct {
	mu     sync.Mutex
	tr     *trace.Trace
	now    func() clock.Instant
	frozen bool // the run ended: record nothing more

	inFlight map[string][]*trace.Packet // packet bytes → sent, not yet arrived
	written  map[string][]*trace.Packet // packet bytes → written by a stack, not yet sent
	frames   int                        // packets the network has seen sent (the capture's frames)
	states   []stateRec                 // to name connections afterwards
	errText  map[*trace.Call]string     // error words of failed sends
	sent     map[string][]byte          // host → bytes its application sent
	read     map[string][]byte          // host → bytes its application read
	// sink, if set, takes every call as it completes instead of the
	// trace (live runs): nothing is kept.
	sink func(c *trace.Call, start, end clock.Instant)
}

// stateRec remembers which connection a state change belonged to.
type stateRec struct {
	sc            *trace.StateChange
	host          string
	local, remote netip.AddrPort
}

func newRecorder(tr *trace.Trace, now func() clock.Instant) *recorder {
	return &recorder{tr: tr, now: now, inFlight: map[string][]*trace.Packet{}, written: map[string][]*trace.Packet{},
		errText: map[*trace.Call]string{}, sent: map[string][]byte{}, read: map[string][]byte{}}
}

// newSinkRecorder returns a recorder for live runs: it keeps no trace, no
// bytes and no call, and hands each call to sink as it completes.
func newSinkRecorder(now func() clock.Instant, sink func(c *trace.Call, start, end clock.Instant)) *recorder {
	return &recorder{now: now, sink: sink}
}

// freeze ends the recording: what happens while the lab tears the run down
// is not part of it.
func (r *recorder) freeze() {
	r.mu.Lock()
	r.frozen = true
	r.dropUnsent()
	r.mu.Unlock()
}

// begin records the start of a call and returns it with its start time.
func (r *recorder) begin(host string, name trace.CallName, arg, detail string) (*trace.Call, clock.Instant) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.now()
	if r.sink != nil {
		return &trace.Call{Host: host, Name: name, Arg: arg, Detail: detail}, t
	}
	if r.frozen {
		return &trace.Call{Host: host, Name: name}, t
	}
	return r.tr.AddCall(t, trace.Call{Host: host, Name: name, Arg: arg, Detail: detail}), t
}

// end records the outcome of c: in place if it returned at the instant it
// started, as a return event if it blocked.
func (r *recorder) end(c *trace.Call, start clock.Instant, res trace.Result, n int, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frozen {
		return
	}
	t := r.now()
	if r.sink != nil {
		r.endLive(c, start, t, res, n, detail)
		return
	}
	switch c.Name {
	case trace.CallSend:
		r.sent[c.Host] = append(r.sent[c.Host], c.Detail[:n]...)
		if res == trace.ResultOK {
			detail = c.Detail
		} else {
			// The diagram labels a send with its Detail: keep the data in
			// Arg and the error's words for the verdict only.
			r.errText[c] = detail
			c.Arg, detail = quoteCut(c.Detail, 12), ""
		}
	case trace.CallRecv:
		if res == trace.ResultData {
			r.read[c.Host] = append(r.read[c.Host], detail...)
		}
	}
	if t == start {
		c.Result, c.Bytes, c.Detail = res, n, detail
	} else {
		r.tr.Return(t, c, res, n, detail)
	}
}

// endLive completes c for the sink: a failed send shows its data in Arg
// and the error in Detail, as callLine prints them.
func (r *recorder) endLive(c *trace.Call, start, t clock.Instant, res trace.Result, n int, detail string) {
	if c.Name == trace.CallSend {
		if res == trace.ResultOK {
			detail = c.Detail
		} else {
			c.Arg = quoteCut(c.Detail, 12)
		}
	}
	c.Result, c.Bytes, c.Detail = res, n, detail
	r.sink(c, start, t)
}

// note records a remark across the diagram (host "") or at a host.
func (r *recorder) note(host, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.frozen && r.sink == nil {
		r.tr.AddNote(r.now(), host, text)
	}
}

// state is the stacks' OnStateChange hook for host.
func (r *recorder) state(host string) func(now clock.Instant, local, remote netip.AddrPort, from, to, why string) {
	return func(now clock.Instant, local, remote netip.AddrPort, from, to, why string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.frozen {
			return
		}
		r.tr.AddState(now, host, trace.StateChange{From: from, To: to, Reason: why})
		sc := r.tr.Events[len(r.tr.Events)-1].State
		r.states = append(r.states, stateRec{sc: sc, host: host, local: local, remote: remote})
	}
}

// nameConns labels state changes with their connection ("client:49152")
// on hosts that had more than one connection.
func (r *recorder) nameConns() {
	conns := map[string]map[[2]netip.AddrPort]bool{}
	for _, s := range r.states {
		if conns[s.host] == nil {
			conns[s.host] = map[[2]netip.AddrPort]bool{}
		}
		conns[s.host][[2]netip.AddrPort{s.local, s.remote}] = true
	}
	for _, s := range r.states {
		if len(conns[s.host]) > 1 {
			s.sc.Conn = fmt.Sprintf("%s:%d", s.host, s.local.Port())
		}
	}
}

// packet is the simulator's observer: a packet is recorded when it is
// sent (or, if the stack's link tap recorded it when it was written, its
// record is found again), and completed when it is delivered or dropped.
func (r *recorder) packet(ev netsim.PacketEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frozen {
		return
	}
	key := string(ev.Packet)
	switch ev.Kind {
	case netsim.Sent:
		r.frames++
		p := r.takeWritten(key, ev.From)
		if p == nil {
			q, ok := decodePacket(ev.Packet)
			if !ok {
				return
			}
			q.From = ev.From
			r.tr.AddPacket(ev.Time, q)
			p = r.tr.Events[len(r.tr.Events)-1].Packet
		}
		p.To, p.Frame = ev.To, r.frames
		r.inFlight[key] = append(r.inFlight[key], p)
	case netsim.Delivered, netsim.Dropped:
		q := r.inFlight[key]
		if len(q) == 0 {
			return
		}
		p := q[0]
		if len(q) == 1 {
			delete(r.inFlight, key)
		} else {
			r.inFlight[key] = q[1:]
		}
		if ev.Kind == netsim.Delivered {
			p.Arrive = ev.Time
		} else {
			p.Dropped = true
			p.Extra = ev.Reason.String()
		}
	}
}

// decodePacket reads the fields the diagram shows from an IP packet.
func decodePacket(b []byte) (trace.Packet, bool) {
	ip, err := wire.ParseIP(b)
	if err != nil {
		return trace.Packet{}, false
	}
	switch ip.Protocol {
	case wire.IPProtoTCP:
		t, err := wire.ParseTCP(ip.Payload)
		if err != nil {
			return trace.Packet{}, false
		}
		p := trace.Packet{Proto: trace.ProtoTCP, SrcPort: t.SrcPort(), DstPort: t.DstPort(),
			Kind: trace.TCPKind(t.Flags()), Seq: uint64(t.Seq()), Ack: uint64(t.Ack()),
			Len: len(t.Payload())}
		return p, true
	case wire.IPProtoDCCP:
		d, err := wire.ParseDCCP(ip.Payload)
		if err != nil {
			return trace.Packet{}, false
		}
		p := trace.Packet{Proto: trace.ProtoDCCP, SrcPort: d.SrcPort(), DstPort: d.DstPort(),
			Kind: trace.DCCPKind(d.Type()), Seq: uint64(d.Seq()), Len: len(d.Payload())}
		if d.Type().HasAck() {
			p.Ack = uint64(d.Ack())
		}
		if d.Type() == wire.DCCPReset {
			p.Extra = d.ResetCode().String()
		}
		return p, true
	}
	return trace.Packet{}, false
}
