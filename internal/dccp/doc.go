// Package dccp is the DCCP protocol core (RFC 4340): a pure state machine
// per connection, plus a listener that answers Requests.
//
// Layer and rules: this package sits below stack/ and above internal/wire.
// It never reads a clock, starts a goroutine, takes a lock or performs I/O.
// Every input carries the time (clock.Instant); every Conn reports the
// earliest instant at which it needs HandleTimer (NextDeadline). The host
// layer decodes packets with internal/wire into a Packet (see
// Packet.Decode), hands them to HandlePacket, pulls the packets to send
// with NextPacket and encodes them back (Packet.Header and
// Packet.AppendOptions).
//
// Closing follows the seed "Closing Mechanism" (PASSIVE_CLOSE and
// PASSIVE_CLOSEREQ): a received Close or CloseReq is confirmed only after
// the application has read what is queued and closed. Whether a Conn uses
// those states, the simultaneous-close tie-breaker and the abort on unread
// data is read from the DCCP fields of Config.Profile (profile.Linux,
// profile.RFCNaive), at the point of decision, as package tcp reads its.
//
// Congestion control is pluggable (TxCCID/RxCCID); CCID 2 (RFC 4341) and
// CCID 3 (RFC 4342, RFC 5348) live in the subpackages ccid2 and ccid3.
package dccp
