package trace

import (
	"encoding/json"
	"fmt"
	"io"
)

// Report is the JSON form of a trace: the lab's contract with other tools
// (`teardown run --json`, the tshark cross-check). The names of the
// contract's fields never change; fields marked "added" are extensions a
// reader may ignore.
//
// Times ("t_ns", "end_ns", "arrive_ns") are nanoseconds relative to the
// trace's Start (the first event's time when Start is zero). Sequence and
// acknowledgement numbers are the raw header values, not the relative
// ones the diagrams show.
type Report struct {
	Scenario    string        `json:"scenario"`
	Variant     string        `json:"variant"`
	Profile     string        `json:"profile"`
	Seed        uint64        `json:"seed"`
	Hosts       []string      `json:"hosts"`
	Apps        []ReportApp   `json:"apps"`
	Wire        []ReportWire  `json:"wire"`
	Verdict     ReportVerdict `json:"verdict"`
	Explanation string        `json:"explanation"`
	// States (added) lists every connection state change.
	States []ReportState `json:"states,omitempty"`
	// Notes (added) lists the trace's remarks.
	Notes []ReportNote `json:"notes,omitempty"`
}

// ReportApp is one host's application calls, in the order they started.
// Every column host has an entry, with an empty list if it made no call.
type ReportApp struct {
	Host  string       `json:"host"`
	Calls []ReportCall `json:"calls"`
}

// ReportCall is one call. TNs is when it started.
type ReportCall struct {
	TNs    int64  `json:"t_ns"`
	Call   string `json:"call"`
	Result string `json:"result"`
	Bytes  int    `json:"bytes"`
	// Arg and Detail (added) are Call.Arg and Call.Detail.
	Arg    string `json:"arg,omitempty"`
	Detail string `json:"detail,omitempty"`
	// EndNs (added) is when the call returned; absent for a call still
	// blocked when the run ended (Result "blocked").
	EndNs *int64 `json:"end_ns,omitempty"`
}

// ReportWire is one packet. TNs is its send time.
type ReportWire struct {
	TNs   int64  `json:"t_ns"`
	From  string `json:"from"`
	To    string `json:"to"`
	Proto string `json:"proto"`
	Kind  string `json:"kind"`
	Seq   uint64 `json:"seq"`
	Ack   uint64 `json:"ack"`
	Len   int    `json:"len"`
	// SPort, DPort, Extra, ArriveNs and Dropped are added: the ports,
	// Packet.Extra, the arrival time (absent if it never arrived) and
	// whether the network dropped it. A pcap taken at the receivers lacks
	// the dropped packets; one taken at the senders has them.
	SPort    uint16 `json:"sport,omitempty"`
	DPort    uint16 `json:"dport,omitempty"`
	Extra    string `json:"extra,omitempty"`
	ArriveNs *int64 `json:"arrive_ns,omitempty"`
	Dropped  bool   `json:"dropped,omitempty"`
}

// ReportVerdict is Verdict. Errors is never null.
type ReportVerdict struct {
	DataLost  bool          `json:"data_lost"`
	LostBytes int           `json:"lost_bytes"`
	Errors    []ReportError `json:"errors"`
}

// ReportError is HostError.
type ReportError struct {
	Host  string `json:"host"`
	Error string `json:"error"`
}

// ReportState (added) is one state change.
type ReportState struct {
	TNs    int64  `json:"t_ns"`
	Host   string `json:"host"`
	Conn   string `json:"conn,omitempty"`
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason,omitempty"`
}

// ReportNote (added) is one remark; Host is "" for one across hosts.
type ReportNote struct {
	TNs  int64  `json:"t_ns"`
	Host string `json:"host,omitempty"`
	Text string `json:"text"`
}

// Report converts the trace to its JSON form. Slices of the contract are
// never nil, so they encode as [] rather than null.
func (tr *Trace) Report() Report {
	d := layout(tr, true)
	rel := func(t int64) int64 { return t - int64(d.origin) }
	rep := Report{Scenario: tr.Scenario, Variant: tr.Variant, Profile: tr.Profile, Seed: tr.Seed,
		Hosts: append([]string{}, d.hosts...), Apps: []ReportApp{}, Wire: []ReportWire{},
		Explanation: tr.Explanation,
		Verdict:     ReportVerdict{DataLost: tr.Verdict.DataLost, LostBytes: tr.Verdict.LostBytes, Errors: []ReportError{}}}
	for _, e := range tr.Verdict.Errors {
		rep.Verdict.Errors = append(rep.Verdict.Errors, ReportError(e))
	}
	for h, calls := range callsByHost(d) {
		app := ReportApp{Host: d.hosts[h], Calls: []ReportCall{}}
		for _, c := range calls {
			rc := ReportCall{TNs: rel(int64(c.start)), Call: string(c.call.Name), Result: string(c.call.Result),
				Bytes: c.call.Bytes, Arg: c.call.Arg, Detail: c.call.Detail}
			if !c.blocked {
				end := rel(int64(c.end))
				rc.EndNs = &end
			}
			app.Calls = append(app.Calls, rc)
		}
		rep.Apps = append(rep.Apps, app)
	}
	for _, row := range d.rows {
		switch row.kind {
		case rowPacket:
			rep.Wire = append(rep.Wire, wireEntry(row.pkt, rel(int64(row.t)), rel))
		case rowState:
			s := row.state
			rep.States = append(rep.States, ReportState{TNs: rel(int64(row.t)), Host: d.hosts[row.host],
				Conn: s.Conn, From: s.From, To: s.To, Reason: s.Reason})
		case rowNote:
			n := ReportNote{TNs: rel(int64(row.t)), Text: row.note}
			if row.host >= 0 {
				n.Host = d.hosts[row.host]
			}
			rep.Notes = append(rep.Notes, n)
		}
	}
	return rep
}

func wireEntry(p *Packet, t int64, rel func(int64) int64) ReportWire {
	w := ReportWire{TNs: t, From: p.From, To: p.To, Proto: p.Proto, Kind: p.Kind,
		Seq: p.Seq, Ack: p.Ack, Len: p.Len, SPort: p.SrcPort, DPort: p.DstPort,
		Extra: p.Extra, Dropped: p.Dropped}
	if p.Arrive != 0 && !p.Dropped {
		a := rel(int64(p.Arrive))
		w.ArriveNs = &a
	}
	return w
}

// WriteJSON writes the trace's Report to w as one indented JSON object
// followed by a newline.
func WriteJSON(w io.Writer, tr *Trace) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(tr.Report())
}

// ReadJSON decodes one Report from r. Unknown fields are ignored (a newer
// writer may add some); a missing contract field reads as its zero value.
func ReadJSON(r io.Reader) (Report, error) {
	var rep Report
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return Report{}, fmt.Errorf("trace: reading JSON report: %w", err)
	}
	return rep, nil
}
