package trace

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/teardown-lab/teardown/clock"
)

// SVGOptions tune the SVG rendering.
type SVGOptions struct {
	// RawSeq labels packets with raw sequence numbers instead of
	// relative ones.
	RawSeq bool
}

// Geometry of the SVG, in pixels. Rows are evenly spaced (not scaled to
// time) so that a burst of events stays readable; packets are drawn from
// their send row to the point of their arrival time, so they slant.
const (
	svgRowH     = 26.0
	svgTimeW    = 78.0  // time axis on the left
	svgMargin   = 360.0 // outer margins for calls and state changes
	svgGap      = 400.0 // between two lifelines
	svgTop      = 96.0  // title and host boxes
	svgFont     = 13.0
	svgSmall    = 11.5
	svgCharW    = 0.62 // average glyph width / font size (DejaVu Sans)
	svgBarW     = 9.0  // blocked-call bar
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
	width  float64
	height float64
	bottom float64 // y where lifelines end
}

// SVG renders tr as a standalone SVG document: the same sequence diagram
// as Text, for a slide. Output is deterministic.
func SVG(tr *Trace, opt SVGOptions) []byte {
	r := &svgRenderer{d: layout(tr, opt.RawSeq)}
	n := max(len(r.d.hosts), 1)
	r.lifeX = make([]float64, n)
	for i := range n {
		r.lifeX[i] = svgTimeW + svgMargin + float64(i)*svgGap
	}
	r.width = r.lifeX[n-1] + svgMargin
	r.bottom = r.rowY(len(r.d.rows)) + svgRowH/2
	r.height = r.bottom + 30 + 20*float64(r.verdictLines())
	r.document()
	return r.b.Bytes()
}

// WriteSVG writes SVG(tr, opt) to w.
func WriteSVG(w io.Writer, tr *Trace, opt SVGOptions) error {
	_, err := w.Write(SVG(tr, opt))
	return err
}

func (r *svgRenderer) rowY(i int) float64 { return svgTop + svgRowH*(float64(i)+0.5) }

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
	for i := range r.d.rows {
		if r.d.rows[i].kind != rowPacket {
			r.drawRow(i)
		}
	}
	for i := range r.d.rows { // packets last: arrows stay on top
		if r.d.rows[i].kind == rowPacket {
			r.drawRow(i)
		}
	}
	r.verdict()
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
		svgTimeW-10, svgTop-8, svgSmall)
	for i, h := range r.d.hosts {
		x := r.lifeX[i]
		w := max(90, float64(len([]rune(h)))*svgFont*svgCharW+24)
		r.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="26" rx="5" fill="#f1f3f6" stroke="#445"/>`+"\n", x-w/2, svgTop-38, w)
		r.printf(`<text x="%.1f" y="%.1f" text-anchor="middle" font-weight="bold" fill="#222">%s</text>`+"\n", x, svgTop-20, esc(h))
		r.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#8a8f99" stroke-width="1.5" stroke-dasharray="6 4"/>`+"\n",
			x, svgTop-12, x, r.bottom)
	}
	for i, row := range r.d.rows {
		if i == 0 || r.d.rows[i-1].t != row.t {
			y := r.rowY(i)
			r.printf(`<text x="%.1f" y="%.1f" text-anchor="end" font-size="%.1f" fill="#777">%s</text>`+"\n",
				svgTimeW-10, y+4, svgSmall, r.d.ms(row.t))
			r.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eceef2"/>`+"\n", svgTimeW-4, y, r.width-10, y)
		}
	}
}

// bars draws the activation bar of every call that blocked, from its
// start row to its return row (or the bottom, dashed, if it never
// returned).
func (r *svgRenderer) bars() {
	starts := map[*Call]int{}
	for i, row := range r.d.rows {
		switch row.kind {
		case rowCallStart:
			starts[row.call] = i
		case rowReturn:
			if s, ok := starts[row.call]; ok {
				r.bar(row.host, r.rowY(s), r.rowY(i), false)
				delete(starts, row.call)
			}
		}
	}
	for i, row := range r.d.rows {
		if _, ok := starts[row.call]; ok && row.kind == rowCallStart {
			r.bar(row.host, r.rowY(i), r.bottom, true)
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
	row := &r.d.rows[i]
	y := r.rowY(i)
	switch row.kind {
	case rowCall, rowCallStart, rowReturn:
		r.callBox(row, y)
	case rowPacket:
		r.packet(i, row, y)
	case rowState:
		s := row.state
		text := s.From + " → " + s.To
		if s.Conn != "" {
			text = s.Conn + ": " + text
		}
		if s.Reason != "" {
			text += " (" + s.Reason + ")"
		}
		r.pill(row.host, callsLeft(row.host, len(r.lifeX)), y, text, "#e8f0fb", "#5b7db1", "#23406e")
	case rowNote:
		r.note(row, y)
	case rowEnd:
		for h, cs := range row.stillBlocked {
			for _, c := range cs {
				r.pill(h, callsLeft(h, len(r.lifeX)), y, c.label(false)+" still blocked", "#fff2b3", "#b8860b", "#6b4e00")
			}
		}
	}
}

// callBox draws an application call as a box beside the lifeline.
func (r *svgRenderer) callBox(row *row, y float64) {
	c := row.call
	text := c.label(false) + " → " + c.outcome(false)
	fill, stroke := "#ffffff", "#445"
	switch {
	case row.kind == rowCallStart:
		text = c.label(false) + " blocks…"
		fill = "#fffbe6"
	case c.Result == ResultReset || c.Result == ResultError || c.Result == ResultRefused || c.Result == ResultTimeout:
		fill, stroke = "#fde8e8", "#d62728"
	case c.Result == ResultEOF:
		fill = "#eef7ee"
	}
	r.box(row.host, callsLeft(row.host, len(r.lifeX)), y, svgBarW+8, text, fill, stroke, "#111", svgFont)
}

// pill draws a small label for a state change or note, on the call side
// past the blocked-call bar, so that nothing but arrows crosses the gaps.
func (r *svgRenderer) pill(h int, left bool, y float64, text, fill, stroke, ink string) {
	r.box(h, left, y, svgBarW+8, text, fill, stroke, ink, svgSmall)
}

// box draws text in a rounded box at distance dx from host h's lifeline,
// on its left or right, cut to the room before the next lifeline.
func (r *svgRenderer) box(h int, left bool, y, dx float64, text, fill, stroke, ink string, size float64) {
	room := svgMargin - dx - 14
	if !left && h+1 < len(r.lifeX) || left && h > 0 {
		room = svgGap - 2*dx - 10
	}
	text = fit(int(room/(size*svgCharW))-1, "…", text)
	w := float64(len([]rune(text)))*size*svgCharW + 12
	x := r.lifeX[h] + dx
	if left {
		x = r.lifeX[h] - dx - w
	}
	hgt := size + 9
	r.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="4" fill="%s" stroke="%s" fill-opacity="0.95"/>`+"\n",
		x, y-hgt/2, w, hgt, fill, stroke)
	r.printf(`<text x="%.1f" y="%.1f" font-size="%.1f" fill="%s">%s</text>`+"\n", x+6, y+size*0.36, size, ink, esc(text))
}

// arrivalY maps a packet's arrival time to a y: the row of the first event
// at that time, or between the rows around it, proportionally to time.
func (r *svgRenderer) arrivalY(i int, t clock.Instant) float64 {
	rows := r.d.rows
	j := i + 1
	for j < len(rows) && rows[j].t < t {
		j++
	}
	if j == len(rows) {
		return r.rowY(j - 1 + 1)
	}
	if rows[j].t == t || j-1 <= i {
		return max(r.rowY(j), r.rowY(i)+svgRowH*0.6)
	}
	a, b := rows[j-1].t, rows[j].t
	f := float64(t-a) / float64(b-a)
	return r.rowY(j-1) + f*svgRowH
}

// packet draws a slanted arrow from the sender's lifeline at the send row
// to the receiver's at the arrival time, with its label along it.
func (r *svgRenderer) packet(i int, row *row, y float64) {
	p := row.pkt
	style := p.style()
	col := svgColors[style]
	x0, x1 := r.lifeX[row.host], r.lifeX[row.to]
	y1 := y + svgRowH
	if p.Arrive != 0 {
		y1 = r.arrivalY(i, p.Arrive)
	}
	if p.Dropped {
		x1, y1 = x0+(x1-x0)*svgDropFrac, y+(y1-y)*svgDropFrac
	}
	width := 1.8
	if style == "rst" || style == "fin" {
		width = 2.4
	}
	marker := ` marker-end="url(#head-` + style + `)"`
	if p.Dropped {
		marker = ""
	}
	r.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%.1f"%s/>`+"\n",
		x0, y, x1, y1, col, width, marker)
	if p.Dropped {
		const c = 7.0
		r.printf(`<path d="M%.1f,%.1f L%.1f,%.1f M%.1f,%.1f L%.1f,%.1f" stroke="#d62728" stroke-width="3"/>`+"\n",
			x1-c, y1-c, x1+c, y1+c, x1-c, y1+c, x1+c, y1-c)
	}
	length := math.Hypot(x1-x0, y1-y)
	label := row.labels[len(row.labels)-1]
	for _, l := range row.labels {
		if float64(len([]rune(l)))*svgSmall*svgCharW <= length-24 {
			label = l
			break
		}
	}
	if p.Dropped {
		label += " (dropped)"
	}
	angle := math.Atan2(y1-y, x1-x0) * 180 / math.Pi
	if x1 < x0 {
		angle = math.Atan2(y-y1, x0-x1) * 180 / math.Pi
	}
	mx, my := (x0+x1)/2, (y+y1)/2
	r.printf(`<text x="%.1f" y="%.1f" transform="rotate(%.2f %.1f %.1f)" text-anchor="middle" font-size="%.1f" fill="%s" stroke="#ffffff" stroke-width="3.5" paint-order="stroke" font-weight="bold">%s</text>`+"\n",
		mx, my-5, angle, mx, my, svgSmall, col, esc(label))
}

// note draws a remark: across the diagram (dotted rule) or at a host.
func (r *svgRenderer) note(row *row, y float64) {
	if row.host >= 0 {
		r.pill(row.host, callsLeft(row.host, len(r.lifeX)), y, row.note, "#f4f4f4", "#999", "#333")
		return
	}
	r.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#aaa" stroke-dasharray="2 3"/>`+"\n",
		svgTimeW, y, r.width-10, y)
	w := float64(len([]rune(row.note)))*svgFont*svgCharW + 16
	mid := (svgTimeW + r.width) / 2
	r.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="20" fill="#ffffff"/>`+"\n", mid-w/2, y-10, w)
	r.printf(`<text x="%.1f" y="%.1f" text-anchor="middle" font-style="italic" fill="#444">%s</text>`+"\n",
		mid, y+4.5, esc(row.note))
}

// verdictLines is the verdict as lines of text under the diagram.
func (r *svgRenderer) verdictLines() int { return len(r.verdictText()) }

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

func (r *svgRenderer) verdict() {
	ink := "#2a7d3c"
	if r.d.tr.Verdict.DataLost || len(r.d.tr.Verdict.Errors) > 0 {
		ink = "#b0201f"
	}
	for i, l := range r.verdictText() {
		weight := "normal"
		if i == 0 {
			weight = "bold"
		}
		r.printf(`<text x="16" y="%.1f" font-weight="%s" fill="%s">%s</text>`+"\n", r.bottom+30+20*float64(i), weight, ink, esc(l))
	}
}
