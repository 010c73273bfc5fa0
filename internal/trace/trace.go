package trace

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/teardown-lab/teardown/clock"
)

// Trace is the record of one lab run: who took part, what the applications
// called, what crossed the wire, how each connection's state moved, and
// the lab's judgement. The lab fills it (directly or with the Add methods);
// Text, SVG and WriteJSON render it. A Trace is plain data: renderers never
// modify it.
type Trace struct {
	// Scenario, Variant and Profile name the run as docs/scenarios.md does
	// ("tcp-echo-one", "naive", "linux").
	Scenario, Variant, Profile string
	// Seed is the simulator's seed; printed so a run can be replayed.
	Seed uint64
	// Hosts are the hosts in column order, left to right. An event naming
	// a host missing here gets an extra column on the right.
	Hosts []string
	// Start is the instant every displayed time is relative to. Zero
	// means "the first event's time".
	Start clock.Instant
	// Events are in time order; events with equal times keep the order
	// in which they were recorded (renderers sort stably by T).
	Events []Event
	// Verdict is what the run lost and who saw which error.
	Verdict Verdict
	// Explanation is the "why" paragraph: the rule that decided the
	// outcome and what the fixed variant changes. Plain text; the text
	// renderer wraps it.
	Explanation string
}

// EventKind says which of an Event's pointers is set.
type EventKind uint8

// The kinds of event. A packet the network dropped is a KindPacket event
// whose Packet.Dropped is set (drawn as an arrow ending in a cross).
const (
	// KindCall: an application call started (Event.Call). If the trace
	// holds no KindReturn event for the same *Call, the call returned at
	// once with Call.Result, or, if that is ResultBlocked, never returned.
	KindCall EventKind = iota + 1
	// KindReturn: a call that blocked returned (Event.Call, the same
	// pointer as its KindCall event, holds the result).
	KindReturn
	// KindPacket: a packet left Packet.From (Event.T is the send time).
	KindPacket
	// KindState: a connection's protocol state changed (Event.State).
	KindState
	// KindNote: a free-text remark (Event.Note) at Event.Host, or across
	// the whole diagram when Host is "".
	KindNote
)

var kindNames = [...]string{"?", "call", "return", "packet", "state", "note"}

// String returns "call", "return", "packet", "state" or "note".
func (k EventKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "?"
}

// Event is one thing that happened at one instant. Exactly one of Call,
// Packet, State and Note is meaningful, chosen by Kind.
type Event struct {
	// T is when it happened: a call's start (KindCall) or return
	// (KindReturn), a packet's send time, a state change's time.
	T clock.Instant
	// Host is where it happened: the calling host, the sending host, the
	// host whose connection changed state.
	Host string
	// Kind selects the payload below.
	Kind EventKind
	// Call is set for KindCall and KindReturn.
	Call *Call
	// Packet is set for KindPacket.
	Packet *Packet
	// State is set for KindState.
	State *StateChange
	// Note is the text of a KindNote event.
	Note string
}

// Verdict is the lab's judgement of a run.
type Verdict struct {
	// DataLost says that bytes a sender's application handed over never
	// reached the peer's application; LostBytes counts them.
	DataLost  bool
	LostBytes int
	// Errors lists, per host, the error its application saw (for
	// example "connection reset by peer").
	Errors []HostError
}

// HostError is one error an application saw.
type HostError struct {
	Host  string
	Error string
}

// sortedEvents returns the events stably sorted by T (a copy; the
// Trace is left alone).
func (tr *Trace) sortedEvents() []Event {
	evs := slices.Clone(tr.Events)
	slices.SortStableFunc(evs, func(a, b Event) int { return cmp.Compare(a.T, b.T) })
	return evs
}

// origin returns the instant displayed times are relative to.
func (tr *Trace) origin() clock.Instant {
	if tr.Start != 0 {
		return tr.Start
	}
	first := clock.Never
	for _, e := range tr.Events {
		first = min(first, e.T)
	}
	if first == clock.Never {
		return 0
	}
	return first
}

// columns returns the hosts in column order: Hosts, then any host named by
// an event but missing from Hosts, in order of first appearance.
func (tr *Trace) columns() []string {
	cols := slices.Clone(tr.Hosts)
	add := func(h string) {
		if h != "" && !slices.Contains(cols, h) {
			cols = append(cols, h)
		}
	}
	for _, e := range tr.sortedEvents() {
		add(e.Host)
		if e.Kind == KindPacket && e.Packet != nil {
			add(e.Packet.From)
			add(e.Packet.To)
		}
	}
	return cols
}

// Validate reports the first inconsistency that would make the renderings
// misleading: an unknown call, result or event kind, a missing payload, a
// host not in Hosts, events out of time order, a packet whose From is not
// the event's Host, a return without its call. Renderers draw a trace that
// fails Validate as well as they can; the lab's tests should call it.
func (tr *Trace) Validate() error {
	started := map[*Call]bool{}
	var last clock.Instant
	for i, e := range tr.Events {
		if i > 0 && e.T < last {
			return fmt.Errorf("trace: event %d at %d is earlier than event %d", i, e.T, i-1)
		}
		last = e.T
		if e.Host != "" && !slices.Contains(tr.Hosts, e.Host) {
			return fmt.Errorf("trace: event %d: host %q is not in Hosts", i, e.Host)
		}
		if err := validateEvent(e, started); err != nil {
			return fmt.Errorf("trace: event %d: %w", i, err)
		}
	}
	return nil
}

func validateEvent(e Event, started map[*Call]bool) error {
	switch e.Kind {
	case KindCall, KindReturn:
		return validateCall(e, started)
	case KindPacket:
		if e.Packet == nil {
			return fmt.Errorf("packet event without Packet")
		}
		return e.Packet.validate(e.Host)
	case KindState:
		if e.State == nil || e.Host == "" {
			return fmt.Errorf("state event without State or Host")
		}
	case KindNote:
		if e.Note == "" {
			return fmt.Errorf("note event without text")
		}
	default:
		return fmt.Errorf("unknown kind %d", e.Kind)
	}
	return nil
}

func validateCall(e Event, started map[*Call]bool) error {
	c := e.Call
	switch {
	case c == nil:
		return fmt.Errorf("%s event without Call", e.Kind)
	case e.Host == "" || c.Host != e.Host:
		return fmt.Errorf("call host %q differs from event host %q", c.Host, e.Host)
	case !c.Name.Valid():
		return fmt.Errorf("unknown call %q", c.Name)
	case !c.Result.Valid():
		return fmt.Errorf("unknown result %q", c.Result)
	}
	if e.Kind == KindCall {
		if started[c] {
			return fmt.Errorf("call %s started twice", c.Name)
		}
		started[c] = true
		return nil
	}
	if !started[c] {
		return fmt.Errorf("return of %s before its call", c.Name)
	}
	if c.Result == ResultBlocked {
		return fmt.Errorf("%s returned with result %q", c.Name, c.Result)
	}
	return nil
}

// AddCall records that an application on c.Host started call c at at, and
// returns the stored call. A call whose Result is set returned at once;
// leave Result empty (it becomes ResultBlocked) for a call that blocks,
// and record its return later with Return. A call never returned stays
// ResultBlocked and is drawn as blocked to the end of the run.
func (tr *Trace) AddCall(at clock.Instant, c Call) *Call {
	if c.Result == "" {
		c.Result = ResultBlocked
	}
	p := &c
	tr.Events = append(tr.Events, Event{T: at, Host: c.Host, Kind: KindCall, Call: p})
	return p
}

// Return records that the blocked call c (from AddCall) returned at at
// with result r, bytes and detail (the data read, or the error's text).
func (tr *Trace) Return(at clock.Instant, c *Call, r Result, bytes int, detail string) {
	c.Result, c.Bytes, c.Detail = r, bytes, detail
	tr.Events = append(tr.Events, Event{T: at, Host: c.Host, Kind: KindReturn, Call: c})
}

// AddPacket records that p left p.From at at (its send time).
func (tr *Trace) AddPacket(at clock.Instant, p Packet) {
	tr.Events = append(tr.Events, Event{T: at, Host: p.From, Kind: KindPacket, Packet: &p})
}

// AddState records a state change of a connection on host at at.
func (tr *Trace) AddState(at clock.Instant, host string, s StateChange) {
	tr.Events = append(tr.Events, Event{T: at, Host: host, Kind: KindState, State: &s})
}

// AddNote records a remark at host ("" for one across the diagram).
func (tr *Trace) AddNote(at clock.Instant, host, text string) {
	tr.Events = append(tr.Events, Event{T: at, Host: host, Kind: KindNote, Note: text})
}
