// Package netsim is a deterministic network simulator: a virtual clock, a
// queue of timed events, hosts that are link.Endpoints, switches, and links
// with latency, jitter, bandwidth, queues, loss, duplication, reordering,
// corruption, MTU limits and partitions.
//
// # Layer and rules
//
// netsim sits beside package link: stacks use a *Host exactly as they use a
// TUN device or a pipe. It is sans-I/O like the protocol cores: it never
// reads the wall clock, sleeps, starts a goroutine or makes a system call.
// Time advances only when the caller runs events (Step, Run, RunUntil,
// RunFor, RunUntilFunc), jumping straight to the next event, so a minute of
// simulated TCP takes microseconds. A Sim and everything in it is used from
// one goroutine at a time; callbacks run inside the Run calls.
//
// # Model
//
// A Sim starts at Epoch (2000-01-01T00:00:00Z, where a testing/synctest
// bubble's clock starts too) so that the zero Instant keeps meaning "not
// set" and captures have plausible dates. Events are
// kept in a binary heap ordered by time; events due at the same time run
// in the order they were scheduled. Timers (Schedule, After, NewTimer) are
// the only way to run code later; a Timer can be Reset or Stopped without
// allocating, so a host driver keeps one per stack and moves it to the
// stack's next deadline.
//
// Nodes are hosts (AddHost) and switches (AddSwitch). Connect joins two
// nodes with a link of two independent directions. A host sends each packet
// toward the host that owns its destination address, over the first hop of
// a shortest path through switches (hosts never forward); a packet to an
// address nobody reachable owns is dropped and counted. Source addresses
// are never checked, so one host can spoof many.
//
// A packet offered to a link direction goes through, in order: the MTU
// check, the partition/down check, the queue (serialization at the
// configured bandwidth, tail drop when the queue is full), loss, then the
// in-flight faults (duplicate, corrupt, reorder) and the delay (latency
// plus jitter). Jitter never reorders; only the reorder fault does. The
// packet is copied into a buffer owned by the Sim when it enters the first
// link and that buffer travels with it through switches; on arrival the
// destination host's Receiver is called synchronously with a batch of one
// packet, valid only during the call, and the buffer returns to the Sim's
// free list. In steady state, moving a packet allocates nothing.
//
// # Determinism
//
// Every random choice comes from one math/rand/v2 PCG generator seeded
// from the Sim's seed, and each link direction draws from it in a fixed
// order (loss, duplicate, corrupt and the bit to flip, reorder, jitter),
// each only when that fault is enabled. No map iteration order or wall
// clock reaches any decision. Hence the same seed, topology and traffic
// produce the same events at the same virtual times, the same observer
// callbacks and byte-identical captures. Print Sim.Seed in a failing test
// so the run can be replayed.
//
// # Observing
//
// Sim.Capture writes every transmission on every link (each hop) to a pcap
// file; Host.Capture writes what one host's interface sees, as tcpdump on
// that host would. Sim.Observe reports each PacketEvent (sent, delivered,
// dropped with its reason, duplicated, corrupted, reordered). Counters are
// kept per link direction (Link.Stats), per host and per switch.
//
// Runaway simulations (a livelock of timers re-arming at the same instant)
// are stopped by SetMaxEvents: the Run methods then return ErrEventLimit
// instead of hanging.
package netsim
