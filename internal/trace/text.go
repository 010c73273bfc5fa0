package trace

import (
	"io"
	"strings"
	"unicode/utf8"
)

// TextOptions tune the terminal rendering. The zero value is the default:
// 80 columns, Unicode box drawing, relative sequence numbers.
type TextOptions struct {
	// Width is the most characters (runes) on any line; 0 means
	// DefaultWidth. Widths below MinWidth are raised to MinWidth.
	Width int
	// ASCII restricts the output to ASCII: lifelines "|", arrows "-->",
	// "->" for "→", and data quoted with escapes.
	ASCII bool
	// RawSeq shows the raw sequence and acknowledgement numbers instead
	// of relative ones.
	RawSeq bool
}

// DefaultWidth and MinWidth bound TextOptions.Width. DefaultWidth is the
// classic terminal's 80 columns: what teardown run prints when its output
// is not a terminal whose width it can ask.
const (
	DefaultWidth = 80
	MinWidth     = 48
)

// glyphs are the characters of one drawing mode.
type glyphs struct {
	life, shaft, bar             rune
	barTopL, barEndL             rune // bar of a call written left of its lifeline
	barTopR, barEndR             rune // ... written right of it
	arrow, ellipsis, dot, rule   string
	stateOpen, stateClose, bullt string
}

var (
	unicodeGlyphs = glyphs{'│', '─', '┆', '┐', '┘', '┌', '└', "→", "…", "·", "─", "[", "]", "•"}
	asciiGlyphs   = glyphs{'|', '-', ':', '+', '+', '+', '+', "->", "...", ".", "-", "[", "]", "*"}
)

// textRenderer draws one diagram as lines of runes.
type textRenderer struct {
	d     *diagram
	opt   TextOptions
	g     glyphs
	timeW int   // width of the time column, its trailing space included
	lifeX []int // column of each host's lifeline
	out   []string
}

// Text renders tr as a terminal sequence diagram followed by what each
// application saw, the verdict and the explanation. The output is
// deterministic and no line is longer than the width.
func Text(tr *Trace, opt TextOptions) string {
	if opt.Width == 0 {
		opt.Width = DefaultWidth
	}
	opt.Width = max(opt.Width, MinWidth)
	r := &textRenderer{opt: opt, g: unicodeGlyphs}
	if opt.ASCII {
		tr, r.g = asciiTrace(tr), asciiGlyphs
	}
	r.d = layout(tr, opt.RawSeq)
	r.geometry()
	r.header()
	for i := range r.d.rows {
		r.drawRow(i)
	}
	r.footer()
	r.sections()
	var b strings.Builder
	for _, l := range r.out {
		if opt.ASCII {
			l = onlyASCII(l) // a safety net: the layout is ASCII already
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// WriteText writes Text(tr, opt) to w.
func WriteText(w io.Writer, tr *Trace, opt TextOptions) error {
	_, err := io.WriteString(w, Text(tr, opt))
	return err
}

// geometry places the time column and the lifelines: the outer hosts get
// a margin for their applications' calls, the rest is shared equally by
// the gaps that packets cross.
func (r *textRenderer) geometry() {
	r.timeW = len("t (ms)") + 3
	for _, row := range r.d.rows {
		r.timeW = max(r.timeW, len(r.d.ms(row.t))+2)
	}
	n := max(len(r.d.hosts), 1)
	rest := r.opt.Width - r.timeW
	if n == 1 {
		r.lifeX = []int{r.timeW + rest/3}
		return
	}
	margin := min(max(rest*30/100, 14), 36)
	gap := (rest - 2*margin - n) / (n - 1)
	r.lifeX = make([]int, n)
	for i := range n {
		r.lifeX[i] = r.timeW + margin + i*(gap+1)
	}
}

// line returns a blank line with every lifeline drawn.
func (r *textRenderer) line() []rune {
	l := []rune(strings.Repeat(" ", r.opt.Width))
	for _, x := range r.lifeX {
		l[x] = r.g.life
	}
	return l
}

func (r *textRenderer) emit(l []rune) {
	r.out = append(r.out, strings.TrimRight(string(l), " "))
}

// put writes s at column x, clipped to the line.
func put(l []rune, x int, s string) {
	for _, c := range s {
		if x >= 0 && x < len(l) {
			l[x] = c
		}
		x++
	}
}

// fit returns the first of forms that has at most n runes, or the last
// one cut to n runes with an ellipsis.
func fit(n int, ellipsis string, forms ...string) string {
	if n <= 0 {
		return ""
	}
	for _, f := range forms {
		if utf8.RuneCountInString(f) <= n {
			return f
		}
	}
	last := []rune(forms[len(forms)-1])
	e := utf8.RuneCountInString(ellipsis)
	if n <= e {
		return string(last[:n])
	}
	return string(last[:n-e]) + ellipsis
}

func (r *textRenderer) header() {
	tr := r.d.tr
	title := tr.Scenario
	if title == "" {
		title = "trace"
	}
	sep := "  " + r.g.dot + "  "
	for _, kv := range [][2]string{{"variant", tr.Variant}, {"profile", tr.Profile}} {
		if kv[1] != "" {
			title += sep + kv[0] + " " + kv[1]
		}
	}
	title += sep + "seed " + utoa(tr.Seed)
	r.out = append(r.out, fit(r.opt.Width, r.g.ellipsis, title), "")
	names := []rune(strings.Repeat(" ", r.opt.Width))
	put(names, r.timeW-2-len("t (ms)"), "t (ms)")
	for i, h := range r.d.hosts {
		room := r.opt.Width - 1
		if len(r.lifeX) > 1 {
			room = r.lifeX[1] - r.lifeX[0] - 2
		}
		s := fit(room, r.g.ellipsis, h)
		x := r.lifeX[i] - utf8.RuneCountInString(s)/2
		put(names, min(max(x, r.timeW), r.opt.Width-utf8.RuneCountInString(s)), s)
	}
	r.emit(names)
	r.emit(r.line())
}

// footer closes the lifelines with an empty stretch.
func (r *textRenderer) footer() {
	r.emit(r.line())
	r.out = append(r.out, "")
}

// drawRow draws row i: time, lifelines, blocked-call bars, content.
func (r *textRenderer) drawRow(i int) {
	row := &r.d.rows[i]
	l := r.line()
	if i == 0 || r.d.rows[i-1].t != row.t {
		t := r.d.ms(row.t)
		put(l, r.timeW-2-len(t), t)
	}
	for h, n := range row.open {
		if n > 0 {
			l[r.barX(h)] = r.g.bar
		}
	}
	switch row.kind {
	case rowCall, rowCallStart, rowReturn:
		r.drawCall(l, row)
	case rowPacket:
		r.drawPacket(l, row)
	case rowState:
		r.drawState(l, row)
		return
	case rowNote:
		r.drawNote(l, row)
		return
	case rowEnd:
		for h, cs := range row.stillBlocked {
			for _, c := range cs {
				lb := c.label(r.opt.ASCII)
				r.side(l, h, callsLeft(h, len(r.lifeX)), lb+" still blocked at the end", lb+" still blocked", lb+" blocked")
			}
		}
	}
	r.emit(l)
}

// barX is the column of host h's blocked-call bar, on its call side.
func (r *textRenderer) barX(h int) int {
	if callsLeft(h, len(r.lifeX)) {
		return r.lifeX[h] - 2
	}
	return r.lifeX[h] + 2
}

// side writes text beside host h's lifeline, left or right of it, in the
// room up to the next lifeline or the line's edge (the first form that
// fits, else the last one cut). Left texts end flush against the lifeline.
func (r *textRenderer) side(l []rune, h int, left bool, forms ...string) {
	lo, hi := r.span(h, left)
	s := fit(hi-lo+1, r.g.ellipsis, forms...)
	if left {
		lo = hi - utf8.RuneCountInString(s) + 1
	}
	put(l, lo, s)
}

// room is how many runes side can write.
func (r *textRenderer) room(h int, left bool) int {
	lo, hi := r.span(h, left)
	return hi - lo + 1
}

// span is the first and last column side may write in: up to the
// neighbouring lifeline (or the edge), keeping clear of h's lifeline and,
// on the call side, of its blocked-call bar.
func (r *textRenderer) span(h int, left bool) (lo, hi int) {
	x, calls := r.lifeX[h], callsLeft(h, len(r.lifeX)) == left
	if left {
		lo = r.timeW
		if h > 0 {
			lo = r.lifeX[h-1] + 2
		}
		return lo, x - pick(calls, 4, 2)
	}
	hi = r.opt.Width - 1
	if h+1 < len(r.lifeX) {
		hi = r.lifeX[h+1] - 2
	}
	return x + pick(calls, 4, 2), hi
}

func (r *textRenderer) drawCall(l []rune, row *row) {
	c := row.call
	left := callsLeft(row.host, len(r.lifeX))
	label := c.label(r.opt.ASCII)
	done := label + " " + r.g.arrow + " " + c.outcome(r.opt.ASCII)
	short := label + " " + r.g.arrow + " " + string(c.Result)
	shorter := string(c.Name) + " " + r.g.arrow + " " + string(c.Result)
	bx := r.barX(row.host)
	switch row.kind {
	case rowCall:
		r.side(l, row.host, left, done, short, shorter)
	case rowCallStart:
		l[bx] = pick(left, r.g.barTopL, r.g.barTopR)
		r.side(l, row.host, left, label+" blocks"+r.g.ellipsis, label, string(c.Name)+" blocks")
	case rowReturn:
		l[bx] = pick(left, r.g.barEndL, r.g.barEndR)
		r.side(l, row.host, left, done, short, shorter)
	}
}

// drawState writes "[FROM → TO] reason" on the host's state side; when
// the reason does not fit, it goes below, wrapped over as many lines as it
// needs: the reason is often the point of the diagram, so it is never cut.
func (r *textRenderer) drawState(l []rune, row *row) {
	s := row.state
	core := r.g.stateOpen + s.From + " " + r.g.arrow + " " + s.To + r.g.stateClose
	if s.Conn != "" {
		core = s.Conn + " " + core
	}
	left := !callsLeft(row.host, len(r.lifeX))
	full := core
	if s.Reason != "" {
		full += " " + s.Reason
	}
	if utf8.RuneCountInString(full) <= r.room(row.host, left) || s.Reason == "" {
		r.side(l, row.host, left, full)
		r.emit(l)
		return
	}
	r.side(l, row.host, left, core, r.g.stateOpen+r.g.arrow+" "+s.To+r.g.stateClose)
	r.emit(l)
	r.continued(row, left, "("+s.Reason+")")
}

// continued writes text beside row's host on lines of its own below the
// row, wrapped to the room there, with the lifelines and bars drawn.
func (r *textRenderer) continued(row *row, left bool, text string) {
	for _, w := range wrap(text, max(r.room(row.host, left), 1), "") {
		l := r.line()
		for h, n := range row.open {
			if n > 0 {
				l[r.barX(h)] = r.g.bar
			}
		}
		r.side(l, row.host, left, w)
		r.emit(l)
	}
}

func pick[T any](c bool, a, b T) T {
	if c {
		return a
	}
	return b
}

// drawPacket draws an arrow from the sender's lifeline to the receiver's,
// with its label centred on the shaft; a dropped packet's arrow stops
// short in an "x". The arrival time is written beyond the arrowhead.
func (r *textRenderer) drawPacket(l []rune, row *row) {
	a, b := r.lifeX[row.host], r.lifeX[row.to]
	if a == b {
		r.side(l, row.host, false, row.labels...)
		return
	}
	dir := 1
	if b < a {
		dir = -1
	}
	span := (b-a)*dir - 1 // cells strictly between the lifelines
	label := fit(span-5, r.g.ellipsis, row.labels...)
	n := utf8.RuneCountInString(label)
	drawn := span
	if row.pkt.Dropped {
		drawn = min(max(span*2/3, n+5), span-1)
	}
	for k := 1; k <= drawn; k++ {
		l[a+dir*k] = r.g.shaft
	}
	head := pick(dir > 0, '>', '<')
	if row.pkt.Dropped {
		head = 'x'
	}
	l[a+dir*drawn] = head
	// Centre the label in the drawn shaft, leaving two dashes at the tail
	// and at least one before the head.
	off := 2 + (drawn-3-n)/2
	lo := a + dir*off
	if dir < 0 {
		lo = a - off - n + 1
	}
	put(l, lo, label)
	note := "at " + r.d.ms(row.pkt.Arrive)
	if row.pkt.Dropped || row.pkt.Arrive == 0 {
		note = pick(row.pkt.Dropped, "lost", "")
	}
	if note != "" {
		r.side(l, row.to, dir < 0, note)
	}
}

// drawNote writes a remark beside its host, wrapped below when it is
// long, or across the diagram between dotted rules, wrapped likewise.
func (r *textRenderer) drawNote(l []rune, row *row) {
	if row.host >= 0 {
		left := !callsLeft(row.host, len(r.lifeX))
		lines := wrap(row.note, max(r.room(row.host, left), 1), "")
		r.side(l, row.host, left, lines[0])
		r.emit(l)
		if len(lines) > 1 {
			r.continued(row, left, strings.Join(lines[1:], " "))
		}
		return
	}
	lo, hi := r.timeW, r.opt.Width-1
	for i, w := range wrap(row.note, max(hi-lo-5, 1), "") {
		if i > 0 {
			l = r.line()
		}
		s := " " + w + " "
		n := utf8.RuneCountInString(s)
		x := lo + (hi-lo+1-n)/2
		for k := lo + 1; k < hi; k++ {
			l[k] = []rune(r.g.dot)[0]
		}
		put(l, x, s)
		r.emit(l)
	}
}
