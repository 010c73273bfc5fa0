package trace

import (
	"slices"
	"strings"

	"github.com/teardown-lab/teardown/clock"
)

// The SVG's rows. Every row of the layout gets one, as tall as its text
// needs once wrapped, and so does every instant at which a packet arrives
// while nothing else happens (a packet arriving at 6 ms ends on a 6 ms
// row, not on the next event's). A packet's label sits on its own row,
// just above the arrow's start: two labels never share a row, so they
// never collide, however many packets leave together.

// svgRow is one row of the SVG.
type svgRow struct {
	r *row // nil for a row that only marks an arrival time
	t clock.Instant
	// top and h are the row's band; y is its anchor: where an arrow
	// starts or ends, the middle of a box.
	top, h, y float64
	// lines are the wrapped text of the row's box or packet label.
	lines []string
	// ends are the wrapped boxes of a rowEnd, one per call still blocked.
	ends []svgEndBox
	// arrive is the index of the row where this row's packet arrives, or
	// -1 (dropped, or no arrival recorded).
	arrive int
}

type svgEndBox struct {
	host  int
	lines []string
}

// Text sizes and spacing of the rows.
const (
	svgLineH    = 1.3 // line height / font size
	svgPadY     = 4.0 // above and below the text in a box
	svgLabelGap = 14.0
)

// buildRows lays out the rows: their text, height and position.
func (r *svgRenderer) buildRows() {
	rows := r.d.rows
	var pending []clock.Instant // arrival times still without a row, sorted
	for j := range rows {
		for len(pending) > 0 && pending[0] < rows[j].t {
			r.rows = append(r.rows, svgRow{t: pending[0], arrive: -1})
			pending = pending[1:]
		}
		if len(pending) > 0 && pending[0] == rows[j].t {
			pending = pending[1:]
		}
		r.rows = append(r.rows, svgRow{r: &rows[j], t: rows[j].t, arrive: -1})
		if p := rows[j].pkt; rows[j].kind == rowPacket && p.Arrive != 0 && !p.Dropped {
			if i, found := slices.BinarySearch(pending, p.Arrive); !found {
				pending = slices.Insert(pending, i, p.Arrive)
			}
		}
	}
	for _, t := range pending {
		r.rows = append(r.rows, svgRow{t: t, arrive: -1})
	}
	for i := range r.rows {
		s := &r.rows[i]
		if s.r != nil && s.r.kind == rowPacket && s.r.pkt.Arrive != 0 && !s.r.pkt.Dropped {
			s.arrive = i + 1
			for s.arrive < len(r.rows) && r.rows[s.arrive].t < s.r.pkt.Arrive {
				s.arrive++
			}
		}
	}
	top := svgTop
	for i := range r.rows {
		r.measure(&r.rows[i], top)
		top += r.rows[i].h
	}
}

// measure wraps row s's text and sets its band and anchor from top.
func (r *svgRenderer) measure(s *svgRow, top float64) {
	s.top, s.h = top, svgRowH
	lineH := func(size float64) float64 { return size * svgLineH }
	boxH := func(n int, size float64) float64 { return float64(n)*lineH(size) + 2*svgPadY }
	switch {
	case s.r == nil:
	case s.r.kind == rowPacket:
		s.lines = wrapPx(r.packetLabel(s.r), r.labelRoom(), svgSmall, true)
		label := float64(len(s.lines)) * lineH(svgSmall)
		s.h = max(svgRowH, label+16)
		s.y = top + label + 9
		return
	case s.r.kind == rowEnd:
		h := 0.0
		for host, cs := range s.r.stillBlocked {
			for _, c := range cs {
				b := svgEndBox{host: host, lines: r.wrapBox(host, c.label(false)+" still blocked", svgSmall)}
				s.ends = append(s.ends, b)
				h += boxH(len(b.lines), svgSmall) + 4
			}
		}
		s.h = max(s.h, h+4)
	case s.r.kind == rowNote && s.r.host < 0:
		s.lines = wrapPx(s.r.note, r.width-2*r.timeW-32, svgFont, false)
		s.h = max(s.h, boxH(len(s.lines), svgFont)+6)
	default:
		size := svgSmall
		if k := s.r.kind; k == rowCall || k == rowCallStart || k == rowReturn {
			size = svgFont
		}
		s.lines = r.wrapBox(s.r.host, r.boxText(s.r), size)
		s.h = max(s.h, boxH(len(s.lines), size)+6)
	}
	s.y = top + s.h/2
}

// boxText is the text of a call, state or note row's box.
func (r *svgRenderer) boxText(row *row) string {
	switch row.kind {
	case rowCallStart:
		return row.call.label(false) + " blocks"
	case rowCall, rowReturn:
		return row.call.label(false) + " → " + row.call.outcome(false)
	case rowState:
		s := row.state
		text := s.From + " → " + s.To
		if s.Conn != "" {
			text = s.Conn + ": " + text
		}
		if s.Reason != "" {
			text += " (" + s.Reason + ")"
		}
		return text
	}
	return row.note
}

// packetLabel is a packet's label: its full form, never a shortened one.
func (r *svgRenderer) packetLabel(row *row) string {
	label, p := row.labels[0], row.pkt
	if !p.Dropped {
		return label
	}
	if p.Extra != "" && strings.HasSuffix(label, " ("+p.Extra+")") {
		return strings.TrimSuffix(label, " ("+p.Extra+")") + " (dropped: " + p.Extra + ")"
	}
	return label + " (dropped)"
}

// labelRoom is the widest a packet label's line may be: the gap between
// two lifelines, less room for the arrowheads at both ends.
func (r *svgRenderer) labelRoom() float64 { return svgGap - 2*svgLabelGap - 24 }

// boxRoom is the widest a box's text may be beside host h's lifeline, on
// its call side: up to the picture's edge or half way to the next host.
func (r *svgRenderer) boxRoom(h int) float64 {
	left := callsLeft(h, len(r.lifeX))
	if !left && h+1 < len(r.lifeX) || left && h > 0 {
		return svgGap/2 - svgBoxDX - 12 - 8
	}
	return svgMargin - svgBoxDX - 12 - 16
}

func (r *svgRenderer) wrapBox(h int, text string, size float64) []string {
	return wrapPx(text, r.boxRoom(h), size, false)
}
