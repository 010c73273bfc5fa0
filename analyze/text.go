package analyze

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// WriteText writes the report for people: a line about the capture, then
// one block per connection with its endpoints, setup, ending, findings
// (packet numbers and time since the first packet) and traffic.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "capture: %s, %d packets, %d connections\n", r.Format, r.Packets, len(r.Connections))
	if s := r.Counts.String(); s != "" {
		fmt.Fprintf(&b, "  %s\n", s)
	}
	for _, c := range r.Connections {
		b.WriteByte('\n')
		c.writeText(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// String lists the non-zero counts ("3 bad checksums (kept), 1 fragment").
func (c Counts) String() string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(c.Truncated, "truncated by the capture")
	if c.Fragments > 0 {
		parts = append(parts, fmt.Sprintf("%s reassembled into %s", plural(c.Fragments, "IP fragment"), plural(c.Reassembled, "datagram")))
	}
	add(c.BadIP, "bad IP headers")
	add(c.OtherProtocol, "neither TCP nor DCCP")
	add(c.BadTCP, "bad TCP headers")
	add(c.BadDCCP, "bad DCCP headers")
	if c.BadChecksum > 0 {
		kept := c.BadChecksum - c.DroppedBadChecksum
		parts = append(parts, fmt.Sprintf("%d bad checksums (%d kept: checksum offload on the capturing host leaves them unfinished; %d dropped)",
			c.BadChecksum, kept, c.DroppedBadChecksum))
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
// ACK data RST)". Empty for a connection without these fields (DCCP).
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
	s := fmt.Sprintf("%d packets, %d data bytes", d.Packets, d.DataBytes)
	if d.Retransmissions > 0 {
		s += fmt.Sprintf(", %d retransmitted", d.Retransmissions)
	}
	if d.ZeroWindows > 0 {
		s += fmt.Sprintf(", %d zero windows", d.ZeroWindows)
	}
	if d.BadChecksums > 0 {
		s += fmt.Sprintf(", %d bad checksums", d.BadChecksums)
	}
	return s
}

// rel formats a time since the first packet ("+0.000215s").
func rel(ns int64) string {
	return fmt.Sprintf("+%.6fs", time.Duration(ns).Seconds())
}
