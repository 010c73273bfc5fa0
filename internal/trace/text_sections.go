package trace

import (
	"github.com/teardown-lab/teardown/clock"

	"strconv"
	"strings"
	"unicode/utf8"
)

// sections writes the three parts below the diagram: what each
// application saw, the verdict and the explanation.
func (r *textRenderer) sections() {
	r.appsSection()
	r.verdictSection()
	if r.d.tr.Explanation != "" {
		r.out = append(r.out, "", "Why")
		r.out = append(r.out, wrap(r.d.tr.Explanation, r.opt.Width, "  ")...)
	}
}

// appsSection lists, per host, every call with its start time and result;
// a call that blocked says when it returned.
func (r *textRenderer) appsSection() {
	r.out = append(r.out, "What each application saw")
	calls := callsByHost(r.d)
	tw := len("0.000")
	for _, row := range r.d.rows {
		tw = max(tw, len(r.d.ms(row.t)))
	}
	for h, host := range r.d.hosts {
		r.out = append(r.out, "  "+fit(r.opt.Width-2, r.g.ellipsis, host))
		if len(calls[h]) == 0 {
			r.out = append(r.out, "    (no calls)")
		}
		labelW := 0
		for _, c := range calls[h] {
			labelW = max(labelW, utf8.RuneCountInString(c.call.label(r.opt.ASCII)))
		}
		for _, c := range calls[h] {
			r.out = append(r.out, r.hangLines(r.appLine(c, tw, labelW), 4+tw+2+labelW+2+utf8.RuneCountInString(r.g.arrow)+1)...)
		}
	}
}

// appLine is "    0.100  recv(1)   → data "h" (returned at 0.200)".
func (r *textRenderer) appLine(c appCall, tw, labelW int) string {
	label := c.call.label(r.opt.ASCII)
	label += strings.Repeat(" ", labelW-utf8.RuneCountInString(label))
	t := r.d.ms(c.start)
	s := "    " + strings.Repeat(" ", tw-len(t)) + t + "  " + label + "  " + r.g.arrow + " "
	if c.blocked {
		return s + "still blocked when the run ended"
	}
	s += c.call.outcome(r.opt.ASCII)
	if c.call.Result == ResultData && c.call.Bytes != utf8.RuneCountInString(c.call.Detail) {
		s += " (" + plural(c.call.Bytes, "byte") + ")"
	}
	if c.end != c.start {
		s += " (blocked until " + r.d.ms(c.end) + ")"
	}
	return s
}

// hangLines breaks s at spaces into lines of at most the width, the
// lines after the first indented by indent (where the call's outcome
// starts): an outcome is wrapped, not cut.
func (r *textRenderer) hangLines(s string, indent int) []string {
	if indent > r.opt.Width/2 {
		indent = 8
	}
	var out []string
	for utf8.RuneCountInString(s) > r.opt.Width {
		rs := []rune(s)
		cut := r.opt.Width
		for cut > indent+1 && rs[cut] != ' ' {
			cut--
		}
		if cut <= indent+1 { // one long word: break it
			cut = r.opt.Width
		}
		out = append(out, strings.TrimRight(string(rs[:cut]), " "))
		s = strings.Repeat(" ", indent) + strings.TrimLeft(string(rs[cut:]), " ")
	}
	return append(out, s)
}

// appCall is one call as the applications section lists it.
type appCall struct {
	call       *Call
	start, end clock.Instant
	blocked    bool
}

// callsByHost collects each host's calls in the order they started.
func callsByHost(d *diagram) [][]appCall {
	out := make([][]appCall, len(d.hosts))
	idx := map[*Call][2]int{}
	for _, row := range d.rows {
		switch row.kind {
		case rowCall, rowCallStart:
			idx[row.call] = [2]int{row.host, len(out[row.host])}
			out[row.host] = append(out[row.host], appCall{
				call: row.call, start: row.t, end: row.t,
				blocked: row.kind == rowCallStart,
			})
		case rowReturn:
			if at, ok := idx[row.call]; ok {
				c := &out[at[0]][at[1]]
				c.end, c.blocked = row.t, false
			}
		}
	}
	return out
}

func (r *textRenderer) verdictSection() {
	v := r.d.tr.Verdict
	r.out = append(r.out, "", "Verdict")
	lost := "  No data lost."
	if v.DataLost {
		lost = "  Data lost: " + plural(v.LostBytes, "byte") + " never reached the peer's application."
	}
	r.out = append(r.out, wrap(strings.TrimSpace(lost), r.opt.Width, "  ")...)
	if len(v.Errors) == 0 {
		r.out = append(r.out, "  No application saw an error.")
	}
	for _, e := range v.Errors {
		r.out = append(r.out, wrap(e.Host+" saw: "+e.Error, r.opt.Width, "  ")...)
	}
}

// wrap breaks s into lines of at most width runes, each starting with
// indent; a word longer than a line is cut.
func wrap(s string, width int, indent string) []string {
	room := width - utf8.RuneCountInString(indent)
	var lines []string
	cur := ""
	for w := range strings.FieldsSeq(s) {
		for utf8.RuneCountInString(w) > room {
			if cur != "" {
				lines, cur = append(lines, indent+cur), ""
			}
			rs := []rune(w)
			lines, w = append(lines, indent+string(rs[:room])), string(rs[room:])
		}
		switch {
		case cur == "":
			cur = w
		case utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(w) <= room:
			cur += " " + w
		default:
			lines, cur = append(lines, indent+cur), w
		}
	}
	if cur != "" {
		lines = append(lines, indent+cur)
	}
	return lines
}

func utoa(v uint64) string { return strconv.FormatUint(v, 10) }

// asciiFor spells common non-ASCII characters of explanations and labels
// in ASCII; any other non-ASCII rune becomes "?".
var asciiFor = map[rune]string{
	'→': "->", '←': "<-", '§': "S", '…': "...", '–': "-", '—': "--",
	'‘': "'", '’': "'", '“': `"`, '”': `"`, '·': ".", '×': "x", '≤': "<=", '≥': ">=",
	'│': "|", '─': "-", '┆': ":", '┐': "+", '┘': "+", '┌': "+", '└': "+",
}

// toASCII replaces every non-ASCII rune of s by its spelling in asciiFor,
// or by "?".
func toASCII(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c < utf8.RuneSelf:
			b.WriteRune(c)
		case asciiFor[c] != "":
			b.WriteString(asciiFor[c])
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// onlyASCII replaces each non-ASCII rune of s by "?", one for one, so a
// line keeps its width.
func onlyASCII(s string) string {
	return strings.Map(func(c rune) rune {
		if c >= utf8.RuneSelf {
			return '?'
		}
		return c
	}, s)
}

// asciiTrace returns a copy of tr whose free text is spelled in ASCII
// (toASCII), so that the ASCII rendering is laid out in its final
// characters. Data carried by calls is left alone: it is shown quoted
// with escapes.
func asciiTrace(tr *Trace) *Trace {
	c := *tr
	c.Scenario, c.Variant, c.Profile = toASCII(tr.Scenario), toASCII(tr.Variant), toASCII(tr.Profile)
	c.Explanation = toASCII(tr.Explanation)
	c.Hosts = make([]string, len(tr.Hosts))
	for i, h := range tr.Hosts {
		c.Hosts[i] = toASCII(h)
	}
	c.Verdict.Errors = make([]HostError, len(tr.Verdict.Errors))
	for i, e := range tr.Verdict.Errors {
		c.Verdict.Errors[i] = HostError{toASCII(e.Host), toASCII(e.Error)}
	}
	calls := map[*Call]*Call{}
	c.Events = make([]Event, len(tr.Events))
	for i, e := range tr.Events {
		e.Host, e.Note = toASCII(e.Host), toASCII(e.Note)
		if e.Call != nil {
			if calls[e.Call] == nil {
				cc := *e.Call
				cc.Host, cc.Arg = toASCII(cc.Host), toASCII(cc.Arg)
				if !cc.carriesData() {
					cc.Detail = toASCII(cc.Detail)
				}
				calls[e.Call] = &cc
			}
			e.Call = calls[e.Call]
		}
		if e.Packet != nil {
			p := *e.Packet
			p.From, p.To, p.Kind, p.Extra = toASCII(p.From), toASCII(p.To), toASCII(p.Kind), toASCII(p.Extra)
			e.Packet = &p
		}
		if e.State != nil {
			st := *e.State
			st.Conn, st.From, st.To, st.Reason = toASCII(st.Conn), toASCII(st.From), toASCII(st.To), toASCII(st.Reason)
			e.State = &st
		}
		c.Events[i] = e
	}
	return &c
}
