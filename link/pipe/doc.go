// Package pipe connects two link.Endpoints back to back in one process,
// for real-time use without a simulator: what one end writes, the other
// end's Receiver gets.
//
// # Synchronous delivery
//
// Delivery happens inside WritePackets, on the writer's goroutine: the
// packets are copied into a scratch buffer and the peer's Receiver is
// called before WritePackets returns. There are no goroutines and no
// queues, which makes the pipe the fastest endpoint and its behaviour easy
// to reason about, but it has consequences a user must know:
//
//   - Re-entrancy. A Receiver may write from inside DeliverPackets, on
//     either end; the reply is then delivered to the other side before the
//     outer call returns, recursively. The pipe holds no lock while it
//     delivers, so this cannot deadlock in the pipe; but if both sides
//     answer every packet synchronously they recurse without end, and a
//     Receiver that takes a lock of its own must not be re-entered while
//     holding it.
//   - Concurrency. Several goroutines may write to either end at once; the
//     peer's Receiver is then called concurrently and must be safe for
//     that.
//   - Back-pressure. A slow Receiver slows the writer: that is the only
//     flow control there is. Nothing is ever queued.
//
// # Buffers
//
// The Receiver gets copies, never the writer's slices: mutating them does
// not change the writer's buffers. The copies live in a scratch buffer
// that is reused by the next write as soon as DeliverPackets returns, so a
// Receiver that keeps a slice will see it overwritten by later packets; it
// must copy what it keeps, as the link.Receiver contract says. With the
// ShareBuffers option the Receiver gets the writer's own slices instead
// (one copy fewer, for benchmarks and other trusted pairs) and must not
// write to them.
//
// # Checksums
//
// A pipe cannot damage a packet. With the VouchChecksums option it says so
// to a Receiver that is a link.VerifiedReceiver, which then need not
// verify transport checksums (a pass over every payload byte, as a NIC's
// receive checksum offload saves a kernel). Without it every packet goes
// by DeliverPackets and is checked as if from a real wire.
package pipe
