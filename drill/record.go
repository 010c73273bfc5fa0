package drill

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/trace"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/pcap"
)

// The hosts of a run as the diagram names them.
const (
	hostLocal  = "local"
	hostRemote = "remote"
)

// recorder keeps what a run did, for --svg and --pcap: every packet on
// the link (both ways) and the script's calls, in the lab's trace, which
// internal/trace draws. It is fed from the script's goroutine and the
// link's, hence the lock.
type recorder struct {
	mu   sync.Mutex
	tr   trace.Trace
	pkts []captured
}

type captured struct {
	at  clock.Instant
	pkt []byte
}

func newRecorder(script, target string, start clock.Instant) *recorder {
	return &recorder{tr: trace.Trace{Scenario: script, Variant: "drill", Profile: target,
		Hosts: []string{hostLocal, hostRemote}, Start: start}}
}

// packet records a packet from one host to the other.
func (r *recorder) packet(at clock.Instant, fromLocal bool, pkt []byte) {
	if r == nil {
		return
	}
	s, ok := sniff(pkt)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pkts = append(r.pkts, captured{at, bytes.Clone(pkt)})
	if !ok {
		return
	}
	from, to := hostLocal, hostRemote
	if !fromLocal {
		from, to = to, from
	}
	tp := trace.Packet{From: from, To: to, SrcPort: s.sport, DstPort: s.dport, Proto: trace.ProtoTCP,
		Kind: trace.TCPKind(wire.TCPFlags(s.flags)), Seq: uint64(s.seq), Ack: uint64(s.ack),
		Len: int(s.payload), Arrive: at}
	if h := s.dccp; h != nil {
		tp.Proto, tp.Kind, tp.Seq, tp.Ack, tp.Len = trace.ProtoDCCP, trace.DCCPKind(h.typ), h.seq, h.ack, h.payload
		if h.typ == wire.DCCPReset {
			tp.Extra = h.code.String()
		}
	}
	r.tr.AddPacket(at, tp)
}

// state records a state change of the simulated stack's connections.
func (r *recorder) state(at clock.Instant, conn, from, to, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tr.AddState(at, hostLocal, trace.StateChange{Conn: conn, From: from, To: to, Reason: why})
}

// callNames maps the script's calls to the diagram's; the others are
// drawn as notes.
var callNames = map[string]trace.CallName{
	"write": trace.CallSend, "send": trace.CallSend, "sendmsg": trace.CallSend,
	"read": trace.CallRecv, "recv": trace.CallRecv, "recvmsg": trace.CallRecv,
	"close": trace.CallClose, "shutdown": trace.CallShutdown,
	"accept": trace.CallAccept, "connect": trace.CallConnect,
}

// call records a call that started at at; done records its return.
func (r *recorder) call(at clock.Instant, c *Call) (done func(at clock.Instant, ret int64, errno string)) {
	if r == nil {
		return func(clock.Instant, int64, string) {}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	name, ok := callNames[c.Name]
	if !ok {
		r.tr.AddNote(at, hostLocal, fmt.Sprintf("%s(...)", c.Name))
		return func(clock.Instant, int64, string) {}
	}
	arg := ""
	switch name {
	case trace.CallRecv, trace.CallSend:
		arg = c.arg(2).Text
	case trace.CallShutdown:
		arg = c.arg(1).Text
	}
	tc := r.tr.AddCall(at, trace.Call{Host: hostLocal, Name: name, Arg: arg})
	return func(end clock.Instant, ret int64, errno string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		res, n, detail := trace.ResultOK, 0, ""
		switch {
		case errno == "ECONNRESET":
			res = trace.ResultReset
		case errno == "ECONNREFUSED":
			res = trace.ResultRefused
		case errno == "ETIMEDOUT":
			res = trace.ResultTimeout
		case errno != "":
			res, detail = trace.ResultError, errno
		case name == trace.CallRecv && ret == 0:
			res = trace.ResultEOF
		case name == trace.CallRecv:
			res, n, detail = trace.ResultData, int(ret), strconv.FormatInt(ret, 10)+" bytes"
		case name == trace.CallSend:
			n = int(ret)
		}
		if end == at { // returned at once: drawn as one call, not a block
			tc.Result, tc.Bytes, tc.Detail = res, n, detail
			return
		}
		r.tr.Return(end, tc, res, n, detail)
	}
}

// result hands over the trace, its events in time order, and the pcap
// file of the packets.
func (r *recorder) result() (*trace.Trace, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	tr := r.tr
	tr.Events = slices.Clone(tr.Events)
	slices.SortStableFunc(tr.Events, func(a, b trace.Event) int { return cmp.Compare(a.T, b.T) })
	pkts := slices.Clone(r.pkts)
	slices.SortStableFunc(pkts, func(a, b captured) int { return cmp.Compare(a.at, b.at) })
	var buf bytes.Buffer
	w, err := pcap.NewWriter(&buf, 0)
	if err != nil {
		return &tr, nil
	}
	for _, p := range pkts {
		if w.WritePacket(p.at, p.pkt) != nil {
			return &tr, nil
		}
	}
	return &tr, buf.Bytes()
}
