package lab

import (
	"slices"

	"github.com/teardown-lab/teardown/internal/trace"
	"github.com/teardown-lab/teardown/link"
)

// Why packets are recorded twice. Under simrun a stack's writes to its link
// wait in the Runner's inbox until every woken application has had its
// turn; only then does the network see them (netsim's Sent event), at the
// same virtual instant. Recorded at Sent, the ACK a stack wrote while
// processing a segment would come after everything the applications it
// woke did next: after their calls, after the close() and the state change
// to CLOSED they caused, so that a closed socket seemed to send. The tap
// below records each packet when the stack writes it, which is the order
// in which the stack did things; the Sent event then completes that record
// (receiver, frame number) instead of adding one.

// linkTap is a link.Endpoint that tells the recorder about every packet
// its host's stack writes, then passes the packets on.
type linkTap struct {
	link.Endpoint
	rec  *recorder
	host string
}

// tap wraps ep, the link of host's stack.
func (r *recorder) tap(host string, ep link.Endpoint) link.Endpoint {
	return &linkTap{Endpoint: ep, rec: r, host: host}
}

// WritePackets records the packets the link accepts, in the order written.
func (t *linkTap) WritePackets(pkts [][]byte) (int, error) {
	n, err := t.Endpoint.WritePackets(pkts)
	for _, p := range pkts[:n] {
		t.rec.wrote(t.host, p)
	}
	return n, err
}

// wrote records a packet host's stack has just written to its link, at
// the current instant; the network's Sent event names its receiver.
func (r *recorder) wrote(host string, b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frozen || r.sink != nil {
		return
	}
	p, ok := decodePacket(b)
	if !ok {
		return
	}
	p.From = host
	r.tr.AddPacket(r.now(), p)
	key := string(b)
	r.written[key] = append(r.written[key], r.tr.Events[len(r.tr.Events)-1].Packet)
}

// takeWritten returns the oldest record of a packet with these bytes that
// from wrote and the network has not yet seen sent, or nil.
func (r *recorder) takeWritten(key, from string) *trace.Packet {
	q := r.written[key]
	i := slices.IndexFunc(q, func(p *trace.Packet) bool { return p.From == from })
	if i < 0 {
		return nil
	}
	p := q[i]
	if q = slices.Delete(q, i, i+1); len(q) == 0 {
		delete(r.written, key)
	} else {
		r.written[key] = q
	}
	return p
}

// dropUnsent removes the records of packets written but never seen sent
// (the run ended first, or the host's link was closed): a packet that
// never left is not part of the run. r.mu held.
func (r *recorder) dropUnsent() {
	if len(r.written) == 0 {
		return
	}
	unsent := map[*trace.Packet]bool{}
	for _, q := range r.written {
		for _, p := range q {
			unsent[p] = true
		}
	}
	r.written = map[string][]*trace.Packet{}
	r.tr.Events = slices.DeleteFunc(r.tr.Events, func(e trace.Event) bool {
		return e.Kind == trace.KindPacket && unsent[e.Packet]
	})
}
