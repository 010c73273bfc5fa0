package drill

import (
	"fmt"
	"slices"
	"strings"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// dccpState is the DCCP part of a run: the numbering of each
// connection, by the remote host's port, and the script's DCCP sockets.
type dccpState struct {
	flows map[uint16]*dccpFlow
	socks map[*socket]*dccpSocket
}

// dccpFlow is the numbering of one connection: live = script + offset,
// mod 2^48 (RFC 4340 §7.1).
type dccpFlow struct {
	localOff, remoteOff uint64
	tsOff               uint32 // the stack's Timestamp clock: live - script
	tsKnown             bool
	lport               uint16 // the stack's port, once known
}

func (d *driver) dccpSt() *dccpState {
	if d.dccp == nil {
		d.dccp = &dccpState{flows: map[uint16]*dccpFlow{}, socks: map[*socket]*dccpSocket{}}
	}
	return d.dccp
}

// dccpFlow returns the numbering of the connection with the remote host's
// port rport, or of the script's default port when rport is zero.
func (d *driver) dccpFlow(rport uint16) (*dccpFlow, uint16) {
	if rport == 0 {
		rport = d.rport
	}
	st := d.dccpSt()
	f := st.flows[rport]
	if f == nil {
		f = &dccpFlow{}
		st.flows[rport] = f
	}
	return f, rport
}

// dccpSniffed is what a DCCP packet the stack sent says, in live numbers.
type dccpSniffed struct {
	typ      wire.DCCPType
	seq, ack uint64
	hasAck   bool
	service  uint32
	code     wire.DCCPResetCode
	opts     []dccpOpt
	payload  int
}

// sniffDCCP decodes t, the IP payload of a DCCP packet the stack sent,
// into s.
func sniffDCCP(t []byte, s *sniffed) bool {
	h, err := wire.ParseDCCP(t)
	if err != nil {
		return false
	}
	s.sport, s.dport = h.SrcPort(), h.DstPort()
	s.dccp = &dccpSniffed{typ: h.Type(), seq: uint64(h.Seq()), hasAck: h.HasAck(), ack: uint64(h.Ack()),
		service: h.ServiceCode(), code: h.ResetCode(), payload: len(h.Payload())}
	it := h.OptionIter()
	for o, ok := it.Next(); ok; o, ok = it.Next() {
		if o.Mandatory {
			s.dccp.opts = append(s.dccp.opts, dccpOpt{Type: wire.DCCPOptMandatory})
		}
		s.dccp.opts = append(s.dccp.opts, decodeDCCPOpt(o))
	}
	return true
}

// decodeDCCPOpt turns a received option into a script's option; an
// option scripts cannot write keeps its type and nothing else.
func decodeDCCPOpt(o wire.DCCPOption) dccpOpt {
	out := dccpOpt{Type: o.Type}
	switch {
	case o.Type.IsAckVector():
		v, _, _ := o.AckVector()
		out.Type, out.Value = wire.DCCPOptAckVector0, uint32(v.Packets())
	case o.Type.IsChange() || o.Type.IsConfirm():
		f, err := o.Feature()
		if err != nil {
			return out
		}
		out.Feature = f.Feature
		if f.Feature.NNWidth() > 0 && !f.Empty() {
			n, _ := f.NN()
			out.Values = []uint64{n}
		} else {
			for _, b := range f.Values {
				out.Values = append(out.Values, uint64(b))
			}
		}
	case o.Type == wire.DCCPOptTimestamp:
		out.Value, _ = o.Timestamp()
	case o.Type == wire.DCCPOptElapsedTime:
		out.Value, _ = o.ElapsedTime()
	case o.Type == wire.DCCPOptTimestampEcho:
		e, _ := o.TimestampEcho()
		out.Value, out.Elapsed, out.HasElapsed = e.Echo, e.Elapsed, e.ElapsedLen > 0
	case o.Type == wire.DCCPOptNDPCount:
		n, _ := o.NDPCount()
		out.Value = uint32(n)
	case o.Type == wire.DCCPOptDataDropped:
		out.Blocks = slices.Clone(o.Data)
	}
	return out
}

// injectDCCP sends the packet of an inbound DCCP line.
func (d *driver) injectDCCP(ev *Event) *Result {
	p := ev.Packet.dccp
	st, rport := d.dccpFlow(ev.Packet.SrcPort)
	if p.Type == wire.DCCPRequest || p.Type == wire.DCCPResponse { // the remote host's ISN
		st.remoteOff = (remoteISN - p.Seq) & mask48
	}
	if st.lport == 0 {
		st.lport = localPort
	}
	lport := st.lport
	if ev.Packet.DstPort != 0 {
		lport = ev.Packet.DstPort
	}
	opts, err := st.encodeOptions(p.Options)
	if err != nil {
		return d.failf(ev, "%v", err)
	}
	h := wire.DCCPHeader{SrcPort: rport, DstPort: lport, Type: p.Type, X: true,
		Seq: seqnum.V48((p.Seq + st.remoteOff) & mask48), Ack: seqnum.V48((p.Ack + st.localOff) & mask48),
		ServiceCode: p.Service, ResetCode: p.Code, Options: opts}
	n := h.Len()
	if n == 0 || n > wire.DCCPMaxHeaderLen {
		return d.failf(ev, "options take %d bytes, more than a DCCP header holds", len(opts))
	}
	l4 := make([]byte, n+int(p.Len))
	if _, err := wire.BuildDCCP(l4, &h, make([]byte, p.Len), d.raddr, d.laddr); err != nil {
		return d.failf(ev, "cannot build the packet: %v", err)
	}
	pkt := d.ipPacket(wire.IPProtoDCCP, l4)
	if err := d.be.send([][]byte{pkt}); err != nil {
		return d.failf(ev, "cannot send: %v", err)
	}
	d.rec.packet(d.be.Now(), false, pkt)
	return nil
}

// encodeOptions builds an inbound line's options with internal/wire's
// encoders; Timestamp Echo values are shifted by the stack's clock.
func (st *dccpFlow) encodeOptions(opts []dccpOpt) ([]byte, error) {
	var b []byte
	var err error
	for _, o := range opts {
		switch o.Type {
		case wire.DCCPOptMandatory:
			b = wire.AppendDCCPMandatory(b)
		case wire.DCCPOptSlowReceiver:
			b = wire.AppendDCCPSlowReceiver(b)
		case wire.DCCPOptChangeL, wire.DCCPOptChangeR, wire.DCCPOptConfirmL, wire.DCCPOptConfirmR:
			if o.Feature.NNWidth() > 0 && len(o.Values) == 1 {
				b, err = wire.AppendDCCPFeatureNN(b, o.Type, o.Feature, o.Values[0])
				break
			}
			vals := make([]byte, len(o.Values))
			for i, v := range o.Values {
				vals[i] = byte(v)
			}
			b, err = wire.AppendDCCPFeature(b, o.Type, o.Feature, vals)
		case wire.DCCPOptAckVector0:
			// o.Value packets received, ending at the Acknowledgement
			// Number (§11.4): runs of state 0.
			b = wire.AppendDCCPAckVector(b, 0, wire.AppendDCCPAckRun(nil, wire.DCCPAckReceived, int(o.Value)))
		case wire.DCCPOptNDPCount:
			b, err = wire.AppendDCCPNDPCount(b, uint64(o.Value))
		case wire.DCCPOptTimestamp:
			b = wire.AppendDCCPTimestamp(b, o.Value)
		case wire.DCCPOptElapsedTime:
			b = wire.AppendDCCPElapsedTime(b, o.Value)
		case wire.DCCPOptTimestampEcho:
			e := wire.DCCPTimestampEcho{Echo: o.Value + st.tsOff}
			if o.HasElapsed {
				e.Elapsed, e.ElapsedLen = o.Elapsed, 4
			}
			b, err = wire.AppendDCCPTimestampEcho(b, e)
		case wire.DCCPOptDataDropped:
			b, err = wire.AppendDCCPOption(b, o.Type, o.Blocks)
		}
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

// matchDCCP compares a sent packet with an outbound line, one of them
// DCCP (match calls it for those).
func (d *driver) matchDCCP(p *Packet, s *sniffed) string {
	switch {
	case p.dccp == nil:
		return fmt.Sprintf("a DCCP %v, expected a TCP segment", s.dccp.typ)
	case s.dccp == nil:
		return fmt.Sprintf("a TCP segment (%s), expected a DCCP %v", flagText(s.flags), p.dccp.Type)
	}
	w, g := p.dccp, s.dccp
	st, _ := d.dccpFlow(p.DstPort) // match checked the ports
	if g.typ != w.Type {
		return fmt.Sprintf("type %v, expected %v", g.typ, w.Type)
	}
	if g.typ == wire.DCCPRequest || g.typ == wire.DCCPResponse { // the stack's ISN and port
		st.localOff, st.tsKnown, st.lport = (g.seq-w.Seq)&mask48, false, s.sport
	}
	if st.lport == 0 {
		st.lport = s.sport
	}
	if got := (g.seq - st.localOff) & mask48; got != w.Seq {
		return fmt.Sprintf("seq %d, expected %d", got, w.Seq)
	}
	if got := (g.ack - st.remoteOff) & mask48; w.HasAck && got != w.Ack {
		return fmt.Sprintf("ack %d, expected %d", got, w.Ack)
	}
	if uint32(g.payload) != w.Len {
		return fmt.Sprintf("%d bytes of data, expected %d", g.payload, w.Len)
	}
	if w.HasSvc && g.service != w.Service {
		return fmt.Sprintf("service %d, expected %d", g.service, w.Service)
	}
	if w.HasCode && g.code != w.Code {
		return fmt.Sprintf("Reset code %s, expected %s", resetCodeName(g.code), resetCodeName(w.Code))
	}
	for _, o := range g.opts { // the first Timestamp fixes the stack's clock
		for _, wo := range w.Options {
			if o.Type == wire.DCCPOptTimestamp && wo.Type == o.Type && !st.tsKnown {
				st.tsOff, st.tsKnown = o.Value-wo.Value, true
			}
		}
	}
	if !w.OptsGiven || w.AnyOptions {
		return ""
	}
	ok := len(g.opts) == len(w.Options)
	for i := 0; ok && i < len(w.Options); i++ {
		ok = dccpOptMatches(g.opts[i], w.Options[i])
	}
	if !ok {
		return fmt.Sprintf("options <%s>, expected <%s>", dccpOptText(g.opts, st.tsOff), dccpOptText(w.Options, 0))
	}
	return ""
}

// dccpOptMatches judges a sent option against the script's. Values
// that follow the stack's clock (Timestamp, Elapsed Time, a Timestamp
// Echo's elapsed time) are not judged, as TCP's TS val is not; an
// ackvec without a count matches any Ack Vector.
func dccpOptMatches(g, w dccpOpt) bool {
	switch {
	case g.Type != w.Type:
		return false
	case w.Type == wire.DCCPOptAckVector0:
		return w.Value == 0 || g.Value == w.Value
	case w.Type == wire.DCCPOptTimestamp || w.Type == wire.DCCPOptElapsedTime:
		return true
	case w.Type == wire.DCCPOptTimestampEcho:
		return g.Value == w.Value
	case w.Type.IsChange() || w.Type.IsConfirm():
		return g.Feature == w.Feature && slices.Equal(g.Values, w.Values)
	case w.Type == wire.DCCPOptDataDropped:
		return slices.Equal(g.Blocks, w.Blocks)
	}
	return g.Value == w.Value
}

// dccpOptText writes options in the script's words; tsOff maps the
// stack's Timestamps back to script numbers.
func dccpOptText(opts []dccpOpt, tsOff uint32) string {
	var parts []string
	for _, o := range opts {
		var s string
		switch o.Type {
		case wire.DCCPOptMandatory:
			s = "mandatory"
		case wire.DCCPOptSlowReceiver:
			s = "slowreceiver"
		case wire.DCCPOptChangeL, wire.DCCPOptChangeR, wire.DCCPOptConfirmL, wire.DCCPOptConfirmR:
			name := fmt.Sprint(int(o.Feature))
			for k, f := range dccpFeatures {
				if f == o.Feature {
					name = k
				}
			}
			s = o.Type.String() + " " + name
			for _, v := range o.Values {
				s += fmt.Sprintf(" %d", v)
			}
		case wire.DCCPOptAckVector0:
			s = "ackvec"
			if o.Value > 0 {
				s += fmt.Sprintf(" %d", o.Value)
			}
		case wire.DCCPOptNDPCount:
			s = fmt.Sprintf("ndp %d", o.Value)
		case wire.DCCPOptTimestamp:
			s = fmt.Sprintf("timestamp %d", o.Value-tsOff)
		case wire.DCCPOptElapsedTime:
			s = fmt.Sprintf("elapsed %d", o.Value)
		case wire.DCCPOptTimestampEcho:
			s = fmt.Sprintf("tsecho %d", o.Value)
			if o.HasElapsed {
				s += fmt.Sprintf(" elapsed %d", o.Elapsed)
			}
		case wire.DCCPOptDataDropped:
			s = "dropped"
			for _, b := range o.Blocks {
				drop, state, run := wire.DCCPDataDropped([]byte{b}).Block(0)
				if drop {
					s += fmt.Sprintf(" %d:%d", state, run)
				} else {
					s += fmt.Sprintf(" %d", run)
				}
			}
		default:
			s = fmt.Sprintf("option %d", int(o.Type))
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}

// formatDCCP writes a sent DCCP packet as an outbound line, in script
// numbers (format calls it for those).
func (d *driver) formatDCCP(s *sniffed) string {
	g := s.dccp
	st, _ := d.dccpFlow(s.dport)
	ports := ""
	if s.dport != d.rport {
		ports = fmt.Sprintf("%d>%d ", s.sport, s.dport)
	}
	out := fmt.Sprintf("%s > %sdccp %v seq %d", d.since(s.at), ports, g.typ, (g.seq-st.localOff)&mask48)
	if g.hasAck {
		out += fmt.Sprintf(" ack %d", (g.ack-st.remoteOff)&mask48)
	}
	if g.payload > 0 {
		out += fmt.Sprintf(" (%d)", g.payload)
	}
	switch g.typ {
	case wire.DCCPRequest, wire.DCCPResponse:
		out += fmt.Sprintf(" service %d", g.service)
	case wire.DCCPReset:
		out += " code " + resetCodeName(g.code)
	}
	if len(g.opts) > 0 {
		out += " <" + dccpOptText(g.opts, st.tsOff) + ">"
	}
	return out
}
