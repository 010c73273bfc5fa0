package trace

import (
	"github.com/teardown-lab/teardown/clock"

	"strconv"
	"strings"
)

// tooltip is the text an arrow shows on hover: the packet's frame number
// in the capture, what it is, when it left and arrived, and why its host
// sent it.
func (r *svgRenderer) tooltip(i int) string {
	row := r.rows[i].r
	p := row.pkt
	var b strings.Builder
	if p.Frame > 0 {
		b.WriteString("frame " + strconv.Itoa(p.Frame) + ": ")
	}
	b.WriteString(row.labels[0] + ", " + p.From + " → " + p.To + ", sent at " + r.d.ms(row.t) + " ms")
	switch {
	case p.Dropped:
		b.WriteString(", dropped by the network")
	case p.Arrive != 0:
		b.WriteString(", arrived at " + r.d.ms(p.Arrive) + " ms")
	}
	b.WriteString(". " + r.cause(i))
	return b.String()
}

// cause says what made a packet's host send it, from what the trace shows
// at that host at the same instant, before the packet: the state change
// the stack made and its rule, or the application's call, or the packet
// that had just arrived. With none of them, only a timer can have sent it
// (a retransmission, a delayed ACK, a probe), for a simulated host does
// nothing else on its own.
func (r *svgRenderer) cause(i int) string {
	row := r.rows[i].r
	p := row.pkt
	for j := i - 1; j >= 0 && r.rows[j].t == row.t; j-- {
		o := r.rows[j].r
		if o == nil || o.host != row.host {
			continue
		}
		switch o.kind {
		case rowState:
			if sameConn(o.state, p) {
				return "Sent by the stack after " + r.boxText(o) + "."
			}
		case rowCall, rowCallStart, rowReturn:
			return "Sent after the application's " + o.call.label(false) + "."
		}
	}
	if f := r.arrivedAt(p.From, row.t, p.Frame); f != nil {
		return "Sent in answer to frame " + strconv.Itoa(f.Frame) + " (" + f.Kind + "), which had just arrived."
	}
	return "Sent on a timer: nothing else happened at " + p.From + " at this instant."
}

// sameConn reports whether state change s can be p's connection's: a
// change that names its connection ("server:80") names p's port.
func sameConn(s *StateChange, p *Packet) bool {
	_, port, ok := strings.Cut(s.Conn, ":")
	return !ok || port == strconv.Itoa(int(p.SrcPort))
}

// arrivedAt returns the last packet (by frame) that arrived at host at t
// and was sent before frame, or nil.
func (r *svgRenderer) arrivedAt(host string, t clock.Instant, frame int) *Packet {
	var last *Packet
	for _, s := range r.rows {
		if s.r == nil || s.r.kind != rowPacket {
			continue
		}
		q := s.r.pkt
		if q.To == host && q.Arrive == t && !q.Dropped && (frame == 0 || q.Frame < frame) {
			last = q
		}
	}
	return last
}
