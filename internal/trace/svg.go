package trace

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// SVGOptions tune the SVG rendering.
type SVGOptions struct {
	// RawSeq labels packets with raw sequence numbers instead of
	// relative ones.
	RawSeq bool
}

// Geometry of the SVG, in pixels. Rows are spaced by what they hold, not
// scaled to time, so that a burst of events stays readable; packets are
// drawn from their send row to the row of their arrival time, so they
// slant.
const (
	svgRowH     = 26.0  // the least height of a row
	svgTimeW    = 78.0  // time axis on the left, at least
	svgMargin   = 360.0 // outer margins for calls and state changes
	svgGap      = 400.0 // between two lifelines
	svgTop      = 96.0  // title and host boxes
	svgFont     = 13.0
	svgSmall    = 11.5
	svgBarW     = 9.0  // blocked-call bar
	svgBoxDX    = 17.0 // from a lifeline to its boxes
	svgDropFrac = 0.62 // a dropped packet's line stops this far across
)

// svgColors are the stroke colours of the packet styles (see
// Packet.style): resets red, FIN/Close orange, handshake green, data blue,
// pure acknowledgements grey.
var svgColors = map[string]string{
	"rst": "#d62728", "fin": "#e07b00", "syn": "#2a9d3c", "data": "#1f5fbf", "ack": "#6b6b6b",
}

var svgStyles = []string{"rst", "fin", "syn", "data", "ack"}

// svgRenderer draws one diagram as SVG elements into b.
type svgRenderer struct {
	d      *diagram
	b      bytes.Buffer
	lifeX  []float64
	timeW  float64 // the time axis's width
	rows   []svgRow
	width  float64
	height float64
	bottom float64 // y where lifelines end
	// verdict is the verdict's lines, wrapped to the picture's width.
	verdict []string
}

// SVG renders tr as a standalone SVG document: the same sequence diagram
// as Text, for a slide. No text is cut and no two texts overlap
// (CheckSVG): long ones wrap and the rows grow. Each arrow carries a
// tooltip with the packet's frame number in the capture and what made
// its host send it. Output is deterministic.
func SVG(tr *Trace, opt SVGOptions) []byte {
	r := &svgRenderer{d: layout(tr, opt.RawSeq)}
	n := max(len(r.d.hosts), 1)
	r.timeW = svgTimeW
	for _, row := range r.d.rows {
		r.timeW = max(r.timeW, textWidth(r.d.ms(row.t), svgSmall, false)+20)
		if row.pkt != nil && row.pkt.Arrive != 0 { // arrivals may get rows of their own
			r.timeW = max(r.timeW, textWidth(r.d.ms(row.pkt.Arrive), svgSmall, false)+20)
		}
	}
	r.lifeX = make([]float64, n)
	for i := range n {
		r.lifeX[i] = r.timeW + svgMargin + float64(i)*svgGap
	}
	r.width = r.lifeX[n-1] + svgMargin
	r.buildRows()
	r.bottom = svgTop + svgRowH/2
	if len(r.rows) > 0 {
		last := r.rows[len(r.rows)-1]
		r.bottom = last.top + last.h + svgRowH/2
	}
	for _, l := range r.verdictText() {
		r.verdict = append(r.verdict, wrapPx(l, r.width-32, svgFont, true)...)
	}
	r.height = r.bottom + 30 + 20*float64(len(r.verdict))
	r.document()
	return r.b.Bytes()
}

// WriteSVG writes SVG(tr, opt) to w.
func WriteSVG(w io.Writer, tr *Trace, opt SVGOptions) error {
	_, err := w.Write(SVG(tr, opt))
	return err
}

// esc escapes s for XML character data and attribute values.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // writing to a Builder cannot fail
	return b.String()
}

func (r *svgRenderer) printf(format string, args ...any) { fmt.Fprintf(&r.b, format, args...) }

func (r *svgRenderer) document() {
	r.printf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="%.1f">`+"\n",
		r.width, r.height, r.width, r.height, svgFont)
	r.defs()
	r.printf(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	r.header()
	r.bars()
	for i := range r.rows {
		if r.rows[i].r != nil && r.rows[i].r.kind != rowPacket {
			r.drawRow(i)
		}
	}
	for i := range r.rows { // packets last: arrows stay on top
		if r.rows[i].r != nil && r.rows[i].r.kind == rowPacket {
			r.packet(i)
		}
	}
	r.drawVerdict()
	r.printf("</svg>\n")
}

// defs declares one arrowhead marker per packet style.
func (r *svgRenderer) defs() {
	r.printf("<defs>\n")
	for _, s := range svgStyles {
		r.printf(`<marker id="head-%s" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="%s"/></marker>`+"\n",
			s, svgColors[s])
	}
	r.printf("</defs>\n")
}

// header draws the title, the host boxes, the lifelines and the time axis.
func (r *svgRenderer) header() {
	tr := r.d.tr
	title := tr.Scenario
	if title == "" {
		title = "trace"
	}
	var sub []string
	for _, kv := range [][2]string{{"variant", tr.Variant}, {"profile", tr.Profile}} {
		if kv[1] != "" {
			sub = append(sub, kv[0]+" "+kv[1])
		}
	}
	sub = append(sub, fmt.Sprintf("seed %d", tr.Seed))
	r.printf(`<text x="16" y="28" font-size="20" font-weight="bold" fill="#222">%s</text>`+"\n", esc(title))
	r.printf(`<text x="16" y="48" fill="#555">%s</text>`+"\n", esc(strings.Join(sub, " · ")))
	r.printf(`<text x="%.1f" y="%.1f" text-anchor="end" font-size="%.1f" fill="#777">t (ms)</text>`+"\n",
		r.timeW-10, svgTop-8, svgSmall)
	for i, h := range r.d.hosts {
		x := r.lifeX[i]
		w := max(90, textWidth(h, svgFont, true)+24)
		r.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="26" rx="5" fill="#f1f3f6" stroke="#445"/>`+"\n", x-w/2, svgTop-38, w)
		r.printf(`<text x="%.1f" y="%.1f" text-anchor="middle" font-weight="bold" fill="#222">%s</text>`+"\n", x, svgTop-20, esc(h))
		r.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#8a8f99" stroke-width="1.5" stroke-dasharray="6 4"/>`+"\n",
			x, svgTop-12, x, r.bottom)
	}
	for i, s := range r.rows {
		if i == 0 || r.rows[i-1].t != s.t {
			r.printf(`<text x="%.1f" y="%.1f" text-anchor="end" font-size="%.1f" fill="#777">%s</text>`+"\n",
				r.timeW-10, s.y+4, svgSmall, r.d.ms(s.t))
			r.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eceef2"/>`+"\n", r.timeW-4, s.y, r.width-10, s.y)
		}
	}
}

// bars draws the activation bar of every call that blocked, from its
// start row to its return row (or the bottom, dashed, if it never
// returned).
func (r *svgRenderer) bars() {
	starts := map[*Call]int{}
	for i, s := range r.rows {
		switch {
		case s.r == nil:
		case s.r.kind == rowCallStart:
			starts[s.r.call] = i
		case s.r.kind == rowReturn:
			if st, ok := starts[s.r.call]; ok {
				r.bar(s.r.host, r.rows[st].y, s.y, false)
				delete(starts, s.r.call)
			}
		}
	}
	for i, s := range r.rows {
		if s.r == nil || s.r.kind != rowCallStart {
			continue
		}
		if _, ok := starts[s.r.call]; ok {
			r.bar(s.r.host, r.rows[i].y, r.bottom, true)
		}
	}
}

func (r *svgRenderer) bar(h int, y0, y1 float64, open bool) {
	x := r.callSideX(h, svgBarW/2+3)
	dash := ""
	if open {
		dash = ` stroke-dasharray="4 3"`
	}
	r.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#fff2b3" stroke="#b8860b"%s/>`+"\n",
		x-svgBarW/2, y0, svgBarW, y1-y0, dash)
}

// callSideX is the x at distance dx from host h's lifeline on its call
// side (outer side for the leftmost host, right side otherwise).
func (r *svgRenderer) callSideX(h int, dx float64) float64 {
	if callsLeft(h, len(r.lifeX)) {
		return r.lifeX[h] - dx
	}
	return r.lifeX[h] + dx
}

func (r *svgRenderer) drawRow(i int) {
	s := &r.rows[i]
	row := s.r
	left := callsLeft(row.host, len(r.lifeX))
	switch row.kind {
	case rowCall, rowCallStart, rowReturn:
		fill, stroke := "#ffffff", "#445"
		switch c := row.call; {
		case row.kind == rowCallStart:
			fill = "#fffbe6"
		case c.Result == ResultReset || c.Result == ResultError || c.Result == ResultRefused || c.Result == ResultTimeout:
			fill, stroke = "#fde8e8", "#d62728"
		case c.Result == ResultEOF:
			fill = "#eef7ee"
		}
		r.box(row.host, left, s.y, s.lines, fill, stroke, "#111", svgFont)
	case rowState:
		r.box(row.host, left, s.y, s.lines, "#e8f0fb", "#5b7db1", "#23406e", svgSmall)
	case rowNote:
		r.note(s)
	case rowEnd:
		y := s.top + 4
		for _, e := range s.ends {
			h := float64(len(e.lines))*svgSmall*svgLineH + 2*svgPadY
			r.box(e.host, callsLeft(e.host, len(r.lifeX)), y+h/2, e.lines, "#fff2b3", "#b8860b", "#6b4e00", svgSmall)
			y += h + 4
		}
	}
}

// box draws lines of text in a rounded box centred on y, at svgBoxDX from
// host h's lifeline, on its left or right, past the blocked-call bar so
// that nothing but arrows crosses the gaps.
func (r *svgRenderer) box(h int, left bool, y float64, lines []string, fill, stroke, ink string, size float64) {
	w := 0.0
	for _, l := range lines {
		w = max(w, textWidth(l, size, false))
	}
	w += 12
	x := r.lifeX[h] + svgBoxDX
	if left {
		x = r.lifeX[h] - svgBoxDX - w
	}
	lineH := size * svgLineH
	hgt := float64(len(lines))*lineH + 2*svgPadY
	top := y - hgt/2
	r.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="4" fill="%s" stroke="%s" fill-opacity="0.95"/>`+"\n",
		x, top, w, hgt, fill, stroke)
	for k, l := range lines {
		base := top + svgPadY + float64(k)*lineH + (lineH+size*(textAscent-textDescent))/2
		r.printf(`<text x="%.1f" y="%.1f" font-size="%.1f" fill="%s">%s</text>`+"\n", x+6, base, size, ink, esc(l))
	}
}

// packet draws a slanted arrow from the sender's lifeline at its row to
// the receiver's at the row of its arrival time, with its label on its
// own row just above the arrow's start, near the sender, and a tooltip.
func (r *svgRenderer) packet(i int) {
	s := &r.rows[i]
	row := s.r
	p := row.pkt
	style := p.style()
	col := svgColors[style]
	x0, x1 := r.lifeX[row.host], r.lifeX[row.to]
	y := s.y
	y1 := y + svgRowH
	if s.arrive >= 0 {
		y1 = r.arrivalY(s.arrive)
	}
	if p.Dropped {
		// Nearly level, so that its cross stays on its own row, clear of
		// the next row's label.
		x1, y1 = x0+(x1-x0)*svgDropFrac, y+4
	}
	width := 1.8
	if style == "rst" || style == "fin" {
		width = 2.4
	}
	marker := ` marker-end="url(#head-` + style + `)"`
	if p.Dropped {
		marker = ""
	}
	r.printf("<g>\n<title>%s</title>\n", esc(r.tooltip(i)))
	r.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%.1f"%s/>`+"\n",
		x0, y, x1, y1, col, width, marker)
	if p.Dropped {
		const c = 5.0
		r.printf(`<path d="M%.1f,%.1f L%.1f,%.1f M%.1f,%.1f L%.1f,%.1f" stroke="#d62728" stroke-width="3"/>`+"\n",
			x1-c, y1-c, x1+c, y1+c, x1-c, y1+c, x1+c, y1-c)
	}
	x, anchor := x0+svgLabelGap, "start"
	if x1 < x0 {
		x, anchor = x0-svgLabelGap, "end"
	}
	lineH := svgSmall * svgLineH
	for k, l := range s.lines {
		base := y - 5 - float64(len(s.lines)-1-k)*lineH
		r.printf(`<text x="%.1f" y="%.1f" text-anchor="%s" font-size="%.1f" fill="%s" stroke="#ffffff" stroke-width="3.5" paint-order="stroke" font-weight="bold">%s</text>`+"\n",
			x, base, anchor, svgSmall, col, esc(l))
	}
	r.printf("</g>\n")
}

// arrivalY is where an arrow ending on row j ends: the row's anchor, or,
// on a packet's row, the top of its band, above that packet's label.
func (r *svgRenderer) arrivalY(j int) float64 {
	s := &r.rows[j]
	if s.r != nil && s.r.kind == rowPacket {
		return s.top + 3
	}
	return s.y
}

// note draws a remark: across the diagram (dotted rule) or at a host.
func (r *svgRenderer) note(s *svgRow) {
	row := s.r
	if row.host >= 0 {
		r.box(row.host, callsLeft(row.host, len(r.lifeX)), s.y, s.lines, "#f4f4f4", "#999", "#333", svgSmall)
		return
	}
	r.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#aaa" stroke-dasharray="2 3"/>`+"\n",
		r.timeW, s.y, r.width-10, s.y)
	w := 0.0
	for _, l := range s.lines {
		w = max(w, textWidth(l, svgFont, false))
	}
	w += 16
	lineH := svgFont * svgLineH
	hgt := float64(len(s.lines)) * lineH
	mid := (r.timeW + r.width) / 2
	r.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#ffffff"/>`+"\n", mid-w/2, s.y-hgt/2-3, w, hgt+6)
	for k, l := range s.lines {
		base := s.y - hgt/2 + float64(k)*lineH + (lineH+svgFont*(textAscent-textDescent))/2
		r.printf(`<text x="%.1f" y="%.1f" text-anchor="middle" font-style="italic" fill="#444">%s</text>`+"\n",
			mid, base, esc(l))
	}
}

func (r *svgRenderer) verdictText() []string {
	v := r.d.tr.Verdict
	first := "Verdict: no data lost"
	if v.DataLost {
		first = fmt.Sprintf("Verdict: data lost, %s", plural(v.LostBytes, "byte"))
	}
	lines := []string{first}
	for _, e := range v.Errors {
		lines = append(lines, e.Host+" saw: "+e.Error)
	}
	return lines
}

func (r *svgRenderer) drawVerdict() {
	ink := "#2a7d3c"
	if r.d.tr.Verdict.DataLost || len(r.d.tr.Verdict.Errors) > 0 {
		ink = "#b0201f"
	}
	for i, l := range r.verdict {
		weight := "normal"
		if i == 0 {
			weight = "bold"
		}
		r.printf(`<text x="16" y="%.1f" font-weight="%s" fill="%s">%s</text>`+"\n", r.bottom+30+20*float64(i), weight, ink, esc(l))
	}
}
