package lab

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/teardown-lab/teardown/internal/trace"
	"github.com/teardown-lab/teardown/profile"
)

// verdict compares what each application wrote with what its peer's
// application read, and lists every failed call per host.
func verdict(tr *trace.Trace, rec *recorder) trace.Verdict {
	var v trace.Verdict
	for _, d := range directions(tr, rec) {
		v.LostBytes += len(d.lost)
	}
	v.DataLost = v.LostBytes > 0
	for _, e := range tr.Events {
		// A call's KindCall event holds its final result (Return updates
		// the same *Call): count each call once.
		if e.Kind == trace.KindCall && e.Call.Result != trace.ResultBlocked {
			c := e.Call
			switch c.Result {
			case trace.ResultReset, trace.ResultRefused, trace.ResultTimeout, trace.ResultError:
				v.Errors = append(v.Errors, trace.HostError{Host: c.Host, Error: string(c.Name) + ": " + errText(c, rec)})
			}
		}
	}
	return v
}

func errText(c *trace.Call, rec *recorder) string {
	if t := rec.errText[c]; t != "" {
		return t
	}
	if c.Detail != "" {
		return c.Detail
	}
	return string(c.Result)
}

// direction is what one application wrote and its peer did not read.
type direction struct {
	from, to string
	lost     string
}

func directions(tr *trace.Trace, rec *recorder) []direction {
	var out []direction
	for i, from := range tr.Hosts {
		to := tr.Hosts[1-i]
		sent, read := rec.sent[from], rec.read[to]
		lost := ""
		if len(sent) > len(read) {
			lost = string(sent[len(read):])
		}
		out = append(out, direction{from: from, to: to, lost: lost})
	}
	return out
}

// explain builds the "why" paragraph: what was lost, then the variant's
// rule and fix, then what the chosen profile changes.
func explain(sc *Scenario, v Variant, prof profile.Profile, tr *trace.Trace, rec *recorder) string {
	var parts []string
	for _, d := range directions(tr, rec) {
		if d.lost != "" {
			parts = append(parts, fmt.Sprintf("%s of what %s's application sent never reached %s's application (%s).",
				plural(len(d.lost), "byte"), d.from, d.to, quoteCut(d.lost, 16)))
		}
	}
	parts = append(parts, rstSentence(tr))
	parts = append(parts, v.Why)
	if w := sc.ProfileWhy[prof.Name]; w != "" {
		parts = append(parts, w)
	}
	return strings.Join(parts, " ")
}

// rstSentence counts the resets on the wire, by sender.
func rstSentence(tr *trace.Trace) string {
	n, by := 0, map[string]int{}
	for _, e := range tr.Events {
		if e.Kind == trace.KindPacket && (strings.Contains("|"+e.Packet.Kind+"|", "|RST|") || e.Packet.Kind == "Reset") {
			n++
			by[e.Packet.From]++
		}
	}
	if n == 0 {
		return "No reset crossed the wire."
	}
	var who []string
	for _, h := range tr.Hosts {
		if by[h] > 0 {
			who = append(who, fmt.Sprintf("%d from %s", by[h], h))
		}
	}
	return fmt.Sprintf("Resets on the wire: %s.", strings.Join(who, ", "))
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

func quoteCut(s string, max int) string {
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
