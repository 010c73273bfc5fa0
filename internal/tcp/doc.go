// Package tcp is the TCP protocol core: one pure state machine per
// connection (RFC 9293), with the options of RFC 7323 (window scaling,
// timestamps, PAWS) and RFC 2018 (SACK), retransmission per RFC 6298,
// loss recovery by the SACK scoreboard of RFC 6675 (NewReno, RFC 6582,
// when the peer does not do SACK) with RACK-TLP's time-based loss
// detection and tail loss probe (RFC 8985), a receiver that ACKs as Linux
// does (quick ACK mode, delayed ACKs), congestion control from package cc,
// the RFC 5961 hardening, and the close semantics of RFC 2525 §2.17 that
// the teardown scenarios are about.
//
// Layer and rules: the core is sans-I/O. It never starts a goroutine, takes
// a lock, reads a clock or performs a system call. Every input carries the
// current time (clock.Instant): HandleSegment for a segment that arrived,
// HandleTimer when NextDeadline has passed, and the application calls
// Write, Read, CloseWrite, CloseRead, Close and Abort. The output is pulled:
// the host calls NextSegment until it returns false and encodes each
// Segment with package wire, then re-arms its single timer at
// NextDeadline, and TakeEvents tells it which blocked goroutines to wake;
// TakeStateChanges gives the state changes for a trace (Config.RecordStates).
// Headers are never seen here: a Segment is the decoded meaning of one.
//
// Segments for which no connection exists are the host's business; RSTFor
// computes the RFC 9293 §3.10.7.1 answer to them. Those for a listening
// port go to a Listener, the listen backlog (SYN queue, accept queue, SYN
// cookies), which is sans-I/O in the same way: HandleSegment, HandleTimer,
// Accept in; NextSegment, TakeEvents, NextDeadline out.
//
// Behaviour that differs between real systems is read from a
// profile.Profile at the point of decision.
package tcp
