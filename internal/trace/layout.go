package trace

import (
	"fmt"
	"slices"

	"github.com/teardown-lab/teardown/clock"
)

// rowKind is what one row of a diagram shows. The text and SVG renderers
// share the rows: one per event, except that a call which returned at
// once takes a single row, and a final row lists the calls still blocked.
type rowKind uint8

const (
	rowCall      rowKind = iota + 1 // a call that returned at once
	rowCallStart                    // a call that blocks: its start
	rowReturn                       // a blocked call returns
	rowPacket
	rowState
	rowNote
	rowEnd // the run ended with calls still blocked
)

// row is one line of a diagram.
type row struct {
	kind rowKind
	t    clock.Instant
	host int // column; -1 for a note across the diagram
	call *Call
	// start is when a returning call started (rowReturn).
	start clock.Instant
	// pkt, to and labels describe a packet row (labels longest first).
	pkt    *Packet
	to     int
	labels []string
	state  *StateChange
	note   string
	// open[h] counts the calls of host h blocked across this row (not
	// counting a call that starts or returns on it).
	open []int
	// stillBlocked lists, per host, the calls never returned (rowEnd).
	stillBlocked [][]*Call
}

// diagram is a trace prepared for drawing.
type diagram struct {
	tr     *Trace
	hosts  []string
	origin clock.Instant
	rows   []row
}

// layout turns the trace's events into rows.
func layout(tr *Trace, rawSeq bool) *diagram {
	d := &diagram{tr: tr, hosts: tr.columns(), origin: tr.origin()}
	evs := tr.sortedEvents()
	returned := map[*Call]bool{}
	for _, e := range evs {
		if e.Kind == KindReturn && e.Call != nil {
			returned[e.Call] = true
		}
	}
	rel := NewRelative(evs)
	open := make([]int, len(d.hosts))
	pending := make([][]*Call, len(d.hosts))
	for i := 0; i < len(evs); i++ {
		e := evs[i]
		r := row{t: e.T, host: slices.Index(d.hosts, e.Host), open: slices.Clone(open)}
		switch e.Kind {
		case KindCall, KindReturn:
			if e.Call == nil || r.host < 0 {
				continue
			}
			r.call = e.Call
			if e.Kind == KindReturn {
				r.kind = rowReturn
				r.start = startOf(evs[:i], e.Call)
				open[r.host]--
				pending[r.host] = slices.DeleteFunc(pending[r.host], func(c *Call) bool { return c == e.Call })
				r.open[r.host] = open[r.host]
				break
			}
			if returned[e.Call] && i+1 < len(evs) && evs[i+1].Kind == KindReturn &&
				evs[i+1].Call == e.Call && evs[i+1].T == e.T {
				r.kind = rowCall // returned at once: one row
				i++
				break
			}
			if !returned[e.Call] && e.Call.Result != ResultBlocked {
				r.kind = rowCall
				break
			}
			r.kind = rowCallStart
			open[r.host]++
			pending[r.host] = append(pending[r.host], e.Call)
		case KindPacket:
			if !d.packetRow(&r, e, rel, rawSeq) {
				continue
			}
		case KindState:
			if e.State == nil || r.host < 0 {
				continue
			}
			r.kind, r.state = rowState, e.State
		case KindNote:
			r.kind, r.note = rowNote, e.Note
		default:
			continue
		}
		d.rows = append(d.rows, r)
	}
	d.addEnd(open, pending)
	return d
}

func (d *diagram) packetRow(r *row, e Event, rel *Relative, rawSeq bool) bool {
	p := e.Packet
	if p == nil {
		return false
	}
	seq, ack, known := rel.Next(p)
	if rawSeq {
		seq, ack, known = p.Seq, p.Ack, true
	}
	r.kind, r.pkt, r.labels = rowPacket, p, p.labels(seq, ack, known)
	r.host, r.to = slices.Index(d.hosts, p.From), slices.Index(d.hosts, p.To)
	return r.host >= 0 && r.to >= 0
}

// addEnd appends the row of calls still blocked when the run ended.
func (d *diagram) addEnd(open []int, pending [][]*Call) {
	blocked := false
	for _, n := range open {
		blocked = blocked || n > 0
	}
	if !blocked {
		return
	}
	last := d.origin
	if len(d.rows) > 0 {
		last = d.rows[len(d.rows)-1].t
	}
	d.rows = append(d.rows, row{kind: rowEnd, t: last, host: -1, open: slices.Clone(open), stillBlocked: pending})
}

func startOf(evs []Event, c *Call) clock.Instant {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Kind == KindCall && evs[i].Call == c {
			return evs[i].T
		}
	}
	return 0
}

// ms formats t relative to the origin in milliseconds with microsecond
// precision ("12.345"), using integer arithmetic so output is exact.
func (d *diagram) ms(t clock.Instant) string {
	return fmtMS(int64(t - d.origin))
}

func fmtMS(ns int64) string {
	sign := ""
	if ns < 0 {
		sign, ns = "-", -ns
	}
	us := (ns + 500) / 1000
	return fmt.Sprintf("%s%d.%03d", sign, us/1000, us%1000)
}

// side says where a host's call and state texts go: calls on the outer
// side of the leftmost host (left), the others' on their right; state
// changes on the opposite side.
func callsLeft(h, n int) bool { return h == 0 && n > 1 }
