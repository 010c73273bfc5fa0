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

// cause says what made a packet's host send it, from what the trace
// shows at that host at the same instant, before the packet (the trace is
// in the order the stacks did things): the application's call, else the
// packets that had just arrived (the simulator hands a host all of one
// instant's arrivals at once, so which of them it was is not known), else
// a timer, for a simulated host does nothing else on its own; and the
// state change the stack made on the way, whose reason names the rule.
func (r *svgRenderer) cause(i int) string {
	row := r.rows[i].r
	p := row.pkt
	var rule, call string
	for j := i - 1; j >= 0 && r.rows[j].t == row.t && call == ""; j-- {
		o := r.rows[j].r
		if o == nil || o.host != row.host {
			continue
		}
		switch o.kind {
		case rowState:
			if rule == "" && sameConn(o.state, p) {
				rule = r.boxText(o)
			}
		case rowCall, rowCallStart: // a return is the stack waking the application
			call = o.call.label(false)
		}
	}
	var why string
	switch arrived := r.arrivedAt(p.From, row.t, p.Frame); {
	case call != "":
		why = "Sent after the application's " + call
	case len(arrived) > 0:
		why = "Sent while " + p.From + " handled " + framesText(arrived) + ", which had just arrived"
	default:
		why = "Sent on a timer: nothing arrived at " + p.From + " and its application made no call at this instant"
	}
	if rule != "" {
		why += "; the stack made " + rule
	}
	return why + "."
}

// framesText names packets by frame: "frame 6 (PSH|ACK len=1)", "frames 5
// to 7 (ACK, PSH|ACK len=1, RST|ACK)".
func framesText(ps []*Packet) string {
	var kinds []string
	for _, q := range ps {
		k := q.Kind
		if q.Len > 0 {
			k += " len=" + strconv.Itoa(q.Len)
		}
		kinds = append(kinds, k)
	}
	first, last := ps[0].Frame, ps[len(ps)-1].Frame
	switch {
	case first == 0:
		return "packets (" + strings.Join(kinds, ", ") + ")"
	case len(ps) == 1:
		return "frame " + strconv.Itoa(first) + " (" + kinds[0] + ")"
	case len(ps) > 2 && last-first == len(ps)-1:
		return "frames " + strconv.Itoa(first) + " to " + strconv.Itoa(last) + " (" + strings.Join(kinds, ", ") + ")"
	}
	var nums []string
	for _, q := range ps {
		nums = append(nums, strconv.Itoa(q.Frame))
	}
	return "frames " + strings.Join(nums[:len(nums)-1], ", ") + " and " + nums[len(nums)-1] + " (" + strings.Join(kinds, ", ") + ")"
}

// sameConn reports whether state change s can be p's connection's: a
// change that names its connection ("server:80") names p's port.
func sameConn(s *StateChange, p *Packet) bool {
	_, port, ok := strings.Cut(s.Conn, ":")
	return !ok || port == strconv.Itoa(int(p.SrcPort))
}

// arrivedAt returns the packets that arrived at host at t and were sent
// before frame (all of them if frame is 0), in frame order.
func (r *svgRenderer) arrivedAt(host string, t clock.Instant, frame int) []*Packet {
	var out []*Packet
	for _, s := range r.rows {
		if s.r == nil || s.r.kind != rowPacket {
			continue
		}
		q := s.r.pkt
		if q.To == host && q.Arrive == t && !q.Dropped && (frame == 0 || q.Frame < frame) {
			out = append(out, q)
		}
	}
	return out
}
