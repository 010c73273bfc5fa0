// Package lab replays the teardown scenarios of docs/scenarios.md on a
// deterministic simulated network, records what happened and judges it.
//
// A Scenario is code: two hosts (a client that dials and a server that
// listens), applications written as ordinary blocking Go against a
// recording socket (Conn), variants that change how the applications close
// and the profiles that change how the stacks behave. Run builds a netsim
// network with one stack per host, runs the applications with
// simrun.Runner.Go (one goroutine at a time, in wake order, so the same
// arguments always give the same run), and records in its Result:
//
//   - every application call with its start, its end and its result, as
//     the JSON contract spells them (send, recv, close, ...; ok, data, eof,
//     reset, ...); a call still blocked when the run ends stays "blocked";
//   - every packet end to end from the simulator's observer (Sent at the
//     sender is the send time, Delivered at the receiver the arrival,
//     Dropped marks it dropped), decoded with internal/wire;
//   - every TCP state change the stacks report;
//   - a pcap of the whole run (netsim's capture, taken as packets are sent).
//
// The verdict compares what each application wrote with what its peer's
// application read, and lists the errors each application saw; the
// explanation names the rule that decided the outcome and what the fixed
// variant changes.
//
// Every scenario of docs/scenarios.md runs. A scenario whose support is
// missing may be registered with its text and a Needs sentence; Run then
// refuses it with ErrNotRunnable instead of faking output.
//
// The same applications also run against real peers (Serve, Dial), over
// TCP or DCCP: over a TUN device with the kernel on the other side, over
// DCCP-UDP (RFC 6773) to another teardown process, or in process on the
// simulator.
package lab
