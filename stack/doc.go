// Package stack is a host: it runs the TCP (and DCCP) protocol cores of
// teardown over a link.Endpoint and gives programs sockets with the API Go
// programs know — *TCPConn is a net.Conn, *TCPListener a net.Listener.
//
// A Stack owns a set of addresses, a link, a clock and a profile. Packets
// arriving on the link are parsed (package wire), demultiplexed by 4-tuple
// and handed to the connection's core; whatever the core wants to send is
// encoded and written back to the link. Segments for no connection are
// answered with RST (RFC 9293 §3.10.7.1).
//
// Time comes only from Config.Clock. With the default wall clock the stack
// is an ordinary user-space TCP; with a simulator clock (package simrun)
// every timer, retransmission and timeout runs in virtual time, and a whole
// exchange between programs is deterministic for a given seed.
//
// Concurrency: each connection has its own lock; the lock is never held
// while packets are written to the link, so a link that delivers
// synchronously (link/pipe) may call back into the same stack. Blocking
// calls report to Config.Scheduler when they park and are woken, which is
// how simrun knows when every program is waiting for the network.
package stack
