package page

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/teardown-lab/teardown/analyze"
	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/trace"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/pcap"
)

// Analysis is a capture as 'teardown analyze' reports it, with each
// connection drawn as a lab run is: its two ends as the columns, its
// packets as arrows (a capture has one timestamp per packet, so they are
// drawn flat), the findings as notes, the ending and verdict below.
type Analysis struct {
	// Report is 'analyze --json'; Text is 'analyze'.
	Report json.RawMessage `json:"report"`
	Text   string          `json:"text"`
	// Conns are the connections, in the report's order.
	Conns []ConnView `json:"conns"`
	// Error is set when the capture was cut short: the report holds the
	// packets read before it.
	Error string `json:"error,omitempty"`
}

// ConnView is one connection drawn.
type ConnView struct {
	Title       string          `json:"title"`
	Trace       json.RawMessage `json:"trace"`
	SVG         string          `json:"svg"`
	Verdict     []string        `json:"verdict"`
	Explanation string          `json:"explanation"`
}

// maxDrawn bounds the connections and packets drawn: a large capture is
// still reported whole, but a page of thousands of diagrams helps nobody.
const (
	maxDrawnConns   = 50
	maxDrawnPackets = 2000
)

// Analyze analyses a capture (pcap or pcapng) and draws its connections.
func Analyze(capture []byte) (*Analysis, error) {
	rep, aerr := analyze.Reader(bytes.NewReader(capture), analyze.Options{})
	if rep == nil {
		return nil, aerr
	}
	a := &Analysis{}
	if aerr != nil {
		a.Error = aerr.Error()
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return nil, err
	}
	a.Report = b.Bytes()
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		return nil, err
	}
	a.Text = text.String()
	conns := rep.Connections
	if len(conns) > maxDrawnConns {
		conns = conns[:maxDrawnConns]
	}
	trs := make([]*trace.Trace, len(conns))
	for i, c := range conns {
		trs[i] = connTrace(rep, c)
	}
	if err := addPackets(capture, conns, trs); err != nil && aerr == nil {
		return nil, err
	}
	for i, c := range conns {
		tr := trs[i]
		for _, f := range c.Findings {
			tr.Events = append(tr.Events, trace.Event{T: clock.Instant(rep.StartNs + f.TimeNs), Kind: trace.KindNote,
				Note: f.Kind + " " + pkts(f.Packets)})
		}
		var js bytes.Buffer
		if err := trace.WriteJSON(&js, tr); err != nil {
			return nil, err
		}
		v := ConnView{Title: fmt.Sprintf("connection %d  %s  %s → %s", c.ID, c.Proto, c.Client, c.Server),
			Trace: js.Bytes(), SVG: string(trace.SVG(tr, trace.SVGOptions{})), Explanation: tr.Explanation}
		v.Verdict = append(v.Verdict, "setup: "+c.Setup.Kind+": "+c.Setup.Summary, "ending: "+c.Ending.Kind+": "+c.Ending.Summary)
		if c.VerdictText != "" {
			v.Verdict = append(v.Verdict, "verdict: "+c.VerdictText)
		}
		a.Conns = append(a.Conns, v)
	}
	return a, nil
}

// connTrace starts the trace of connection c: the client's end on the
// left, the findings in the explanation.
func connTrace(rep *analyze.Report, c *analyze.Connection) *trace.Trace {
	tr := &trace.Trace{Scenario: fmt.Sprintf("connection %d", c.ID), Variant: c.Proto, Profile: "capture",
		Hosts: []string{c.Client, c.Server}, Start: clock.Instant(rep.StartNs + c.StartNs)}
	var why []string
	for _, f := range c.Findings {
		why = append(why, f.Kind+" "+pkts(f.Packets)+": "+f.Summary+".")
	}
	if len(why) == 0 {
		why = append(why, "No findings: "+c.Ending.Summary+".")
	}
	tr.Explanation = strings.Join(why, " ")
	return tr
}

// addPackets reads the capture again and adds each packet to the trace of
// the connection it belongs to (same ends, within its packet numbers).
func addPackets(capture []byte, conns []*analyze.Connection, trs []*trace.Trace) error {
	pr, err := pcap.NewReader(bytes.NewReader(capture))
	if err != nil {
		return err
	}
	drawn := make([]int, len(conns))
	for {
		p, err := pr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		pk, src, dst, ok := decode(p.IP)
		if !ok {
			continue
		}
		for i, c := range conns {
			if p.Number < c.FirstPacket || p.Number > c.LastPacket || drawn[i] >= maxDrawnPackets {
				continue
			}
			switch {
			case src == c.Client && dst == c.Server:
			case src == c.Server && dst == c.Client:
			default:
				continue
			}
			pk.From, pk.To = src, dst
			pk.Arrive = p.Time // one timestamp: drawn flat
			pk.Extra = strings.TrimSpace(fmt.Sprintf("#%d %s", p.Number, pk.Extra))
			trs[i].AddPacket(p.Time, pk)
			drawn[i]++
			break
		}
	}
}

// decode reads the fields a diagram shows from an IP packet, and its two
// ends as "addr:port".
func decode(b []byte) (p trace.Packet, src, dst string, ok bool) {
	ip, err := wire.ParseIP(b)
	if err != nil {
		return p, "", "", false
	}
	switch ip.Protocol {
	case wire.IPProtoTCP:
		t, err := wire.ParseTCP(ip.Payload)
		if err != nil {
			return p, "", "", false
		}
		p = trace.Packet{Proto: trace.ProtoTCP, SrcPort: t.SrcPort(), DstPort: t.DstPort(),
			Kind: trace.TCPKind(t.Flags()), Seq: uint64(t.Seq()), Ack: uint64(t.Ack()), Len: len(t.Payload())}
	case wire.IPProtoDCCP:
		d, err := wire.ParseDCCP(ip.Payload)
		if err != nil {
			return p, "", "", false
		}
		p = trace.Packet{Proto: trace.ProtoDCCP, SrcPort: d.SrcPort(), DstPort: d.DstPort(),
			Kind: trace.DCCPKind(d.Type()), Seq: uint64(d.Seq()), Len: len(d.Payload())}
		if d.Type().HasAck() {
			p.Ack = uint64(d.Ack())
		}
		if d.Type() == wire.DCCPReset {
			p.Extra = d.ResetCode().String()
		}
	default:
		return p, "", "", false
	}
	return p, netip.AddrPortFrom(ip.Src, p.SrcPort).String(), netip.AddrPortFrom(ip.Dst, p.DstPort).String(), true
}

// pkts spells packet numbers as analyze does: "[#4, #7]".
func pkts(list []int) string {
	s := make([]string, len(list))
	for i, n := range list {
		s[i] = fmt.Sprintf("#%d", n)
	}
	return "[" + strings.Join(s, ", ") + "]"
}
