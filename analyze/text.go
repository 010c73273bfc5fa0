package analyze

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// WriteText writes the report for people: a line about the capture and
// what was not analysed, a line counting the connections by how they
// ended, then the connections grouped by ending (the most common first),
// each with its endpoints, setup, ending, verdict, findings (packet
// numbers and time since the first packet) and traffic.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "capture: %s, %s, %s\n", r.Format, plural(r.Packets, "packet"), plural(len(r.Connections), "connection"))
	if s := r.Counts.String(); s != "" {
		fmt.Fprintf(&b, "  %s\n", s)
	}
	groups := r.byEnding()
	if len(groups) > 0 {
		b.WriteString("endings:")
		for i, g := range groups {
			sep := ","
			if i == 0 {
				sep = ""
			}
			fmt.Fprintf(&b, "%s %s %d", sep, g.kind, len(g.conns))
		}
		b.WriteByte('\n')
	}
	for _, g := range groups {
		fmt.Fprintf(&b, "\n== %s: %s ==\n", g.kind, plural(len(g.conns), "connection"))
		for i, c := range g.conns {
			if i > 0 {
				b.WriteByte('\n')
			}
			c.writeText(&b)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// endingGroup is the connections that ended one way.
type endingGroup struct {
	kind  string
	conns []*Connection
}

// byEnding groups the connections by Ending.Kind, the largest group first
// (ties in order of first appearance); each keeps the capture's order.
func (r *Report) byEnding() []endingGroup {
	var groups []endingGroup
	at := map[string]int{}
	for _, c := range r.Connections {
		i, ok := at[c.Ending.Kind]
		if !ok {
			i = len(groups)
			at[c.Ending.Kind] = i
			groups = append(groups, endingGroup{kind: c.Ending.Kind})
		}
		groups[i].conns = append(groups[i].conns, c)
	}
	slices.SortStableFunc(groups, func(a, b endingGroup) int { return len(b.conns) - len(a.conns) })
	return groups
}

// String lists the non-zero counts ("3 bad checksums (kept), 1 fragment").
func (c Counts) String() string {
	var parts []string
	add := func(n int, what, after string) {
		if n > 0 {
			parts = append(parts, plural(n, what)+after)
		}
	}
	add(c.Truncated, "packet", " truncated by the capture")
	if c.Fragments > 0 {
		parts = append(parts, fmt.Sprintf("%s reassembled into %s", plural(c.Fragments, "IP fragment"), plural(c.Reassembled, "datagram")))
	}
	add(c.BadIP, "bad IP header", "")
	add(c.OtherProtocol, "packet", " neither TCP nor DCCP")
	add(c.BadTCP, "bad TCP header", "")
	add(c.BadDCCP, "bad DCCP header", "")
	if c.BadChecksum > 0 {
		kept := c.BadChecksum - c.DroppedBadChecksum
		parts = append(parts, fmt.Sprintf("%s (%d kept: checksum offload on the capturing host leaves them unfinished; %d dropped)",
			plural(c.BadChecksum, "bad checksum"), kept, c.DroppedBadChecksum))
	}
	if len(c.Opened) > 0 {
		parts = append(parts, "opened: "+byCount(c.Opened))
	}
	if len(c.Skipped) > 0 {
		parts = append(parts, "skipped: "+byCount(c.Skipped))
	}
	return strings.Join(parts, ", ")
}

// byCount lists a map of counts as "vxlan 12, vlan 3", the largest first
// (ties by name).
func byCount(m map[string]int) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, m[k])
	}
	return b.String()
}

// plural says "1 packet", "2 packets".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func (c *Connection) writeText(b *strings.Builder) {
	fmt.Fprintf(b, "connection %d  %s  client %s -> server %s", c.ID, c.Proto, c.Client, c.Server)
	if c.RolesFrom != "handshake" {
		fmt.Fprintf(b, " (roles guessed from ports)")
	}
	fmt.Fprintf(b, "\n  packets #%d..#%d (%d), %s to %s\n", c.FirstPacket, c.LastPacket, c.Packets, rel(c.StartNs), rel(c.EndNs))
	fmt.Fprintf(b, "  setup:   %s: %s\n", c.Setup.Kind, c.Setup.Summary)
	fmt.Fprintf(b, "  ending:  %s: %s\n", c.Ending.Kind, c.Ending.Summary)
	if c.Verdict != "" {
		v := c.VerdictText
		if !strings.HasPrefix(v, c.Verdict) {
			v = c.Verdict + ": " + v
		}
		fmt.Fprintf(b, "  verdict: %s\n", v)
	}
	if v := c.vocabulary(); v != "" {
		fmt.Fprintf(b, "  fields:  %s\n", v)
	}
	if len(c.Findings) == 0 {
		b.WriteString("  findings: none\n")
	} else {
		b.WriteString("  findings:\n")
		for _, f := range c.Findings {
			fmt.Fprintf(b, "    - %s at %s [%s]: %s\n", f.Kind, rel(f.TimeNs), pkts(f.Packets...), f.Summary)
		}
	}
	fmt.Fprintf(b, "  traffic: client->server %s; server->client %s\n", c.ClientToServer, c.ServerToClient)
}

// vocabulary says who closed first and the connection in Zeek's and
// Wireshark's terms, as --json gives them: "server closed first, Zeek
// conn_state RSTR history ShADadr, Wireshark completeness 47 (SYN SYN-ACK
// ACK data RST)"; for DCCP, the state netfilter's conntrack leaves its
// entry in and the packets it marks INVALID or IGNORE.
func (c *Connection) vocabulary() string {
	var parts []string
	if c.ClosedFirst != "" {
		parts = append(parts, c.ClosedFirst+" closed first")
	}
	if c.ConnState != "" {
		z := "Zeek conn_state " + c.ConnState
		if c.History != "" {
			z += " history " + c.History
		}
		parts = append(parts, z)
	}
	if c.Completeness != nil {
		parts = append(parts, fmt.Sprintf("Wireshark completeness %d (%s)", *c.Completeness, completenessNames(*c.Completeness)))
	}
	if ct := c.Conntrack; ct != nil {
		v := "netfilter conntrack " + ct.State
		if ct.Destroyed != 0 {
			v += " (entry deleted by the Reset " + pkts(ct.Destroyed) + " before any reply)"
		}
		if len(ct.Invalid) > 0 {
			v += ", INVALID " + pkts(ct.Invalid...)
		}
		if len(ct.Ignored) > 0 {
			v += ", IGNORE " + pkts(ct.Ignored...)
		}
		parts = append(parts, v)
	}
	return strings.Join(parts, ", ")
}

// completenessNames spells Wireshark's completeness bits: "SYN SYN-ACK
// ACK data FIN" or "none".
func completenessNames(bits int) string {
	var names []string
	for _, b := range []struct {
		bit  int
		name string
	}{{CompleteSYN, "SYN"}, {CompleteSYNACK, "SYN-ACK"}, {CompleteACK, "ACK"},
		{CompleteData, "data"}, {CompleteFIN, "FIN"}, {CompleteRST, "RST"}} {
		if bits&b.bit != 0 {
			names = append(names, b.name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, " ")
}

// String summarises one direction.
func (d Direction) String() string {
	s := plural(d.Packets, "packet") + ", " + plural(int(d.DataBytes), "data byte")
	if d.Retransmissions > 0 {
		s += fmt.Sprintf(", %d retransmitted", d.Retransmissions)
	}
	if d.ZeroWindows > 0 {
		s += ", " + plural(d.ZeroWindows, "zero window")
	}
	if d.BadChecksums > 0 {
		s += ", " + plural(d.BadChecksums, "bad checksum")
	}
	return s
}

// rel formats a time since the first packet ("+0.000215s").
func rel(ns int64) string {
	return fmt.Sprintf("+%.6fs", time.Duration(ns).Seconds())
}
