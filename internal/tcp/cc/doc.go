// Package cc is TCP congestion control: NewReno (RFC 5681, RFC 6582) and
// CUBIC (RFC 9438), behind the small Algorithm interface the TCP core calls
// at its decision points.
//
// Layer: below internal/tcp, above clock. Like the rest of the core it is
// sans-I/O: it never reads a clock, sleeps or starts a goroutine. Every
// event carries the current clock.Instant; durations are time.Duration.
// Windows are in bytes. An ACK costs no allocation.
//
// # Division of labour with the sender
//
// The controller owns cwnd and ssthresh and nothing else. Loss detection,
// the recovery state machine and the accounting of bytes in flight belong
// to the sender. In particular the classic NewReno window inflation during
// fast recovery (RFC 5681 §3.2 steps 4 and 5: cwnd = ssthresh + 3*SMSS,
// then +SMSS per duplicate ACK) does not live here: the sender is expected
// to use RFC 6675's pipe (package tcp's Scoreboard) and to send while
// cwnd - pipe >= SMSS, so on a congestion event the controller only sets
// cwnd = ssthresh and holds it until OnRecoveryExit.
//
// # Determinism
//
// CUBIC uses float64. Every product that is added to something is wrapped
// in an explicit float64 conversion so the compiler cannot fuse it into an
// FMA instruction (which GOAMD64=v3 and arm64 would otherwise allow), and
// the cube root is computed by a fixed Newton iteration of basic IEEE 754
// operations. The same inputs therefore give the same windows on every
// platform, which the simulator's "same seed, same pcap bytes" relies on.
package cc
