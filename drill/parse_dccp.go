package drill

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/teardown-lab/teardown/internal/wire"
)

// DCCP lines are our extension of packetdrill's language (docs/drill.md,
// "DCCP lines"):
//
//	+0 < dccp Request seq 0 service 42 <Change L CCID 2, Change R CCID 2>
//	+0 > dccp Response seq 0 ack 0 service 42 <...>
//	+0 < dccp DataAck seq 2 ack 1 (100)
//	+0 > dccp Reset seq 3 ack 5 code Closed
//
// Each packet takes one sequence number (RFC 4340 §7), so a line has one
// "seq" and, for every type but Request and Data, an "ack"; both are
// 48-bit and relative to their sender's initial sequence number, as TCP
// lines are. "(N)" is the length of the application data.

// mask48 keeps the low 48 bits: DCCP's sequence space (RFC 4340 §7.1).
const mask48 = 1<<48 - 1

// dccpPacket is the DCCP part of a packet line.
type dccpPacket struct {
	Type    wire.DCCPType
	Seq     uint64 // relative to the sender's ISN
	HasAck  bool
	Ack     uint64 // relative to the receiver's ISN
	Len     uint32 // application data bytes
	HasSvc  bool
	Service uint32 // Request and Response (§5.4, §5.5)
	HasCode bool
	Code    wire.DCCPResetCode // Reset (§5.6)
	// Options as a TCP line's: nil with AnyOptions for "<...>"; without
	// OptsGiven an outbound line matches any, an inbound one sends none.
	Options    []dccpOpt
	OptsGiven  bool
	AnyOptions bool
}

// dccpOpt is one option of a DCCP line. Type says which; the other
// fields are its values.
type dccpOpt struct {
	Type wire.DCCPOptionType // Ack Vector 0 and 1 are both DCCPOptAckVector0
	// Feature and Values for Change and Confirm L/R: one value per
	// preference for server-priority features, the integer of an NN one.
	Feature wire.DCCPFeature
	Values  []uint64
	// Value: Timestamp, Timestamp Echo's echo, Elapsed Time, NDP Count;
	// for an Ack Vector sent by the remote host, how many packets up to
	// the Acknowledgement Number it reports received (0 on an outbound
	// line: any Ack Vector).
	Value uint32
	// Elapsed of a Timestamp Echo, when HasElapsed.
	Elapsed    uint32
	HasElapsed bool
	// Blocks of a Data Dropped option, as sent (§11.7).
	Blocks []byte
}

// dccpTypes maps the script's type names to packet types.
var dccpTypes = map[string]wire.DCCPType{
	"Request": wire.DCCPRequest, "Response": wire.DCCPResponse, "Data": wire.DCCPData,
	"Ack": wire.DCCPAck, "DataAck": wire.DCCPDataAck, "CloseReq": wire.DCCPCloseReq,
	"Close": wire.DCCPClose, "Reset": wire.DCCPReset, "Sync": wire.DCCPSync, "SyncAck": wire.DCCPSyncAck,
}

// resetCodeName is a Reset code's name in a script: RFC 4340 §5.6's
// without its spaces ("NoConnection", "TooBusy").
func resetCodeName(c wire.DCCPResetCode) string { return strings.ReplaceAll(c.String(), " ", "") }

func parseResetCode(w string) (wire.DCCPResetCode, error) {
	if n, err := strconv.ParseUint(w, 0, 8); err == nil {
		return wire.DCCPResetCode(n), nil
	}
	for c := wire.DCCPResetUnspecified; c <= wire.DCCPResetAggressionPenalty; c++ {
		if resetCodeName(c) == w {
			return c, nil
		}
	}
	return 0, fmt.Errorf("unknown Reset code %q (want a number or a name of RFC 4340 §5.6: Closed, Aborted, NoConnection, TooBusy...)", w)
}

// parseDCCP reads the rest of a DCCP line, after "dccp" (and the
// packet's "src>dst" ports, which parsePacket reads as a TCP line's):
// "TYPE seq N [ack N] [(LEN)] [service N] [code NAME] [<options>]".
func parseDCCP(c *cursor, p *Packet) error {
	d := &dccpPacket{}
	name := c.word("(<")
	typ, ok := dccpTypes[name]
	if !ok {
		return fmt.Errorf("unknown DCCP packet type %q (want Request, Response, Data, Ack, DataAck, CloseReq, Close, Reset, Sync or SyncAck)", name)
	}
	d.Type = typ
	seen := map[string]bool{}
	num := func(what string, bits uint) (uint64, error) {
		w := c.word("()<>")
		n, err := strconv.ParseUint(w, 0, int(bits))
		if err != nil {
			return 0, fmt.Errorf("bad %s %q: want a number of up to %d bits", what, w, bits)
		}
		return n, nil
	}
	for !c.done() {
		var key string
		switch {
		case c.eat("("):
			key = "("
		case c.eat("<"):
			key = "<"
		default:
			key = c.word("(<")
		}
		if seen[key] {
			return fmt.Errorf("%q given twice", key)
		}
		seen[key] = true
		var err error
		switch key {
		case "seq":
			d.Seq, err = num("sequence number", 48)
		case "ack":
			d.HasAck = true
			d.Ack, err = num("acknowledgement number", 48)
		case "(":
			var n uint64
			if n, err = num("length", 16); err == nil && !c.eat(")") {
				err = fmt.Errorf("want ) after the length")
			}
			d.Len = uint32(n)
		case "service":
			var n uint64
			n, err = num("service code", 32)
			d.HasSvc, d.Service = true, uint32(n)
		case "code":
			d.HasCode = true
			d.Code, err = parseResetCode(c.word("(<"))
		case "<":
			j := strings.LastIndexByte(c.s[c.i:], '>')
			if j < 0 {
				return fmt.Errorf("options start with < but do not end with >")
			}
			body := strings.TrimSpace(c.s[c.i : c.i+j])
			c.i += j + 1
			d.OptsGiven = true
			if body == "..." {
				if p.Inbound {
					return fmt.Errorf("<...> means any options: an inbound packet needs its own")
				}
				d.AnyOptions = true
				continue
			}
			d.Options, err = parseDCCPOptions(body, p.Inbound)
		default:
			return fmt.Errorf("unexpected %q in a DCCP line (want seq, ack, (length), service, code or <options>)", key)
		}
		if err != nil {
			return err
		}
	}
	switch {
	case !seen["seq"]:
		return fmt.Errorf("a DCCP line needs its seq")
	case d.HasAck && !typ.HasAck():
		return fmt.Errorf("a DCCP %v carries no acknowledgement number", typ)
	case !d.HasAck && typ.HasAck() && p.Inbound:
		return fmt.Errorf("an inbound DCCP %v needs its ack", typ)
	case d.HasSvc && typ != wire.DCCPRequest && typ != wire.DCCPResponse:
		return fmt.Errorf("only Request and Response carry a service code")
	case d.HasCode != (typ == wire.DCCPReset) && (d.HasCode || p.Inbound):
		return fmt.Errorf("a Reset, and only a Reset, has a code")
	case d.Len > 0 && typ != wire.DCCPRequest && typ != wire.DCCPResponse && typ != wire.DCCPData &&
		typ != wire.DCCPDataAck && typ != wire.DCCPReset && typ != wire.DCCPCloseReq && typ != wire.DCCPClose:
		return fmt.Errorf("a DCCP %v carries no application data", typ)
	}
	p.dccp = d
	return nil
}

// dccpFeatures are the feature names of a script (RFC 4340 §6.4).
var dccpFeatures = map[string]wire.DCCPFeature{
	"CCID": wire.DCCPFeatCCID, "ShortSeqnos": wire.DCCPFeatAllowShortSeqnos,
	"SeqWindow": wire.DCCPFeatSequenceWindow, "ECNIncapable": wire.DCCPFeatECNIncapable,
	"AckRatio": wire.DCCPFeatAckRatio, "SendAckVector": wire.DCCPFeatSendAckVector,
	"SendNDPCount": wire.DCCPFeatSendNDPCount, "MinCsCov": wire.DCCPFeatMinChecksumCov,
	"CheckDataChecksum": wire.DCCPFeatCheckDataChecksum,
}

var featureOptions = map[string]wire.DCCPOptionType{
	"Change L": wire.DCCPOptChangeL, "Change R": wire.DCCPOptChangeR,
	"Confirm L": wire.DCCPOptConfirmL, "Confirm R": wire.DCCPOptConfirmR,
}

// dropStates are the Drop State names of a Data Dropped block (§11.7).
var dropStates = map[string]wire.DCCPDropState{
	"protocol": wire.DCCPDropProtocolConstraints, "notlistening": wire.DCCPDropApplicationNotListening,
	"buffer": wire.DCCPDropReceiveBuffer, "corrupt": wire.DCCPDropCorrupt,
	"deliveredcorrupt": wire.DCCPDropDeliveredCorrupt,
}

// parseDCCPOptions reads "mandatory,Change L CCID 2 3,ackvec 3,timestamp 7".
func parseDCCPOptions(body string, inbound bool) ([]dccpOpt, error) {
	if body == "" {
		return nil, nil
	}
	var out []dccpOpt
	for _, item := range strings.Split(body, ",") {
		f := strings.Fields(item)
		if len(f) == 0 {
			return nil, fmt.Errorf("an empty option in <%s>", body)
		}
		nums := func(ws []string, bits int) ([]uint64, error) {
			var v []uint64
			for _, w := range ws {
				n, err := strconv.ParseUint(w, 0, bits)
				if err != nil {
					return nil, fmt.Errorf("bad value %q in option %q", w, item)
				}
				v = append(v, n)
			}
			return v, nil
		}
		one := func(bits int) (uint32, error) {
			if len(f) != 2 {
				return 0, fmt.Errorf("option %q wants one value", item)
			}
			v, err := nums(f[1:], bits)
			if err != nil {
				return 0, err
			}
			return uint32(v[0]), nil
		}
		var o dccpOpt
		var err error
		switch f[0] {
		case "mandatory", "slowreceiver":
			o.Type = wire.DCCPOptMandatory
			if f[0] == "slowreceiver" {
				o.Type = wire.DCCPOptSlowReceiver
			}
			if len(f) != 1 {
				err = fmt.Errorf("option %q has extra words", item)
			}
		case "Change", "Confirm":
			if len(f) < 3 {
				return nil, fmt.Errorf("want %s L|R FEATURE values..., not %q", f[0], item)
			}
			t, ok := featureOptions[f[0]+" "+f[1]]
			if !ok {
				return nil, fmt.Errorf("want %s L or %s R, not %q", f[0], f[0], item)
			}
			o.Type = t
			if feat, ok := dccpFeatures[f[2]]; ok {
				o.Feature = feat
			} else if n, err := strconv.ParseUint(f[2], 0, 8); err == nil {
				o.Feature = wire.DCCPFeature(n)
			} else {
				return nil, fmt.Errorf("unknown DCCP feature %q in %q", f[2], item)
			}
			bits := 8
			if w := o.Feature.NNWidth(); w > 0 {
				bits = 8 * w
				if len(f) > 4 {
					return nil, fmt.Errorf("%v takes one value, not %q", o.Feature, item)
				}
			}
			if t.IsChange() && len(f) == 3 {
				return nil, fmt.Errorf("a Change needs a value: %q", item)
			}
			o.Values, err = nums(f[3:], bits)
		case "ackvec":
			o.Type = wire.DCCPOptAckVector0
			switch {
			case len(f) == 1 && inbound:
				err = fmt.Errorf("an inbound ackvec needs the number of packets it reports received")
			case len(f) > 1:
				o.Value, err = one(16)
				if err == nil && o.Value == 0 {
					err = fmt.Errorf("ackvec reports at least one packet")
				}
			}
		case "ndp":
			o.Type = wire.DCCPOptNDPCount
			o.Value, err = one(32)
		case "timestamp":
			o.Type = wire.DCCPOptTimestamp
			o.Value, err = one(32)
		case "elapsed":
			o.Type = wire.DCCPOptElapsedTime
			o.Value, err = one(32)
		case "tsecho":
			o.Type = wire.DCCPOptTimestampEcho
			switch {
			case len(f) == 2:
				o.Value, err = one(32)
			case len(f) == 4 && f[2] == "elapsed":
				var v []uint64
				if v, err = nums([]string{f[1], f[3]}, 32); err == nil {
					o.Value, o.Elapsed, o.HasElapsed = uint32(v[0]), uint32(v[1]), true
				}
			default:
				err = fmt.Errorf("want tsecho N or tsecho N elapsed M, not %q", item)
			}
		case "dropped":
			o.Type = wire.DCCPOptDataDropped
			o.Blocks, err = dropBlocks(f[1:])
		default:
			err = fmt.Errorf("unknown DCCP option %q", f[0])
		}
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// dropBlocks reads Data Dropped blocks: N is a normal block of run
// length N, STATE:N a drop block (STATE a number or a name of
// dropStates).
func dropBlocks(ws []string) ([]byte, error) {
	if len(ws) == 0 {
		return nil, fmt.Errorf("dropped needs its blocks (N, or STATE:N)")
	}
	var out []byte
	for _, w := range ws {
		st, run, drop := strings.Cut(w, ":")
		if !drop {
			st, run = "", w
		}
		n, err := strconv.ParseUint(run, 0, 8)
		if err != nil {
			return nil, fmt.Errorf("bad run length in Data Dropped block %q", w)
		}
		if !drop {
			if n > 127 {
				return nil, fmt.Errorf("a normal block's run length is at most 127, not %d", n)
			}
			out = append(out, byte(n))
			continue
		}
		state, ok := dropStates[st]
		if !ok {
			s, err := strconv.ParseUint(st, 0, 3)
			if err != nil {
				return nil, fmt.Errorf("unknown drop state %q (want 0-7 or protocol, notlistening, buffer, corrupt, deliveredcorrupt)", st)
			}
			state = wire.DCCPDropState(s)
		}
		b, err := wire.DCCPDropBlock(true, state, int(n))
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
