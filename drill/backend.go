package drill

import (
	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/simrun"
)

// backend is what a script runs against: the local host's sockets, the
// remote host's side of the link, and the clock and goroutines that both
// share. The driver — parser, matcher, sequence remapping, timing — is
// the same for every backend; the simulator (simBackend) and the Linux
// kernel behind a TUN device (kernelBackend, Linux only) implement it.
type backend interface {
	Now() clock.Instant
	NewTimer(fn func()) clock.Timer
	// Go runs fn concurrently with the script (a call that may block).
	Go(fn func())
	// Park blocks the script until w is closed; Unpark is called just
	// before w is closed by another goroutine.
	Park(w chan struct{})
	Unpark(w chan struct{})
	// settle lets everything the last event set off happen before the
	// next event runs, without the script's time moving on.
	settle(d *driver)
	// send writes packets of the remote host onto the link, at once.
	send(pkts [][]byte) error
	// gso says whether send makes segments written together one GSO
	// packet (the kernel's device under --mss).
	gso() bool
	// syscall performs a call of the local host; errors are errnos
	// (syscall.Errno or what toErrno maps) or errUnsupported.
	syscall(d *driver, c *Call) (int64, error)
}

// simBackend is our stack on a simulated network, in virtual time.
type simBackend struct {
	run  *simrun.Runner
	clk  clock.TimerClock
	peer link.Endpoint
}

func (b *simBackend) Now() clock.Instant                        { return b.run.Now() }
func (b *simBackend) NewTimer(fn func()) clock.Timer            { return b.clk.NewTimer(fn) }
func (b *simBackend) Go(fn func())                              { b.run.Go(fn) }
func (b *simBackend) Park(w chan struct{})                      { b.run.Park(w, nil) }
func (b *simBackend) Unpark(w chan struct{})                    { b.run.Unpark(w) }
func (b *simBackend) send(pkts [][]byte) error                  { _, err := b.peer.WritePackets(pkts); return err }
func (b *simBackend) gso() bool                                 { return false }
func (b *simBackend) syscall(d *driver, c *Call) (int64, error) { return d.syscall1(c) }

// settle parks the script until everything due at the current instant
// has happened — packets in flight on the zero-latency link delivered,
// the goroutines they wake run — without letting virtual time pass: as a
// kernel processes a packet written to its tun device before the next
// line runs.
//
// Only settle's own timer ends it, not d.notify: woken early (by a packet
// the stack sent, say), settle would return with its timer still going
// round the instant, and the next settle's timer and that stale one would
// each see the other due now and re-arm for ever.
func (b *simBackend) settle(d *driver) {
	now := b.run.Now()
	done := make(chan struct{})
	var t interface{ Reset(clock.Instant) }
	t = b.clk.NewTimer(func() { // on the simulator's goroutine
		// Go round again while events are due now: a packet crosses the
		// link in two events, and what it wakes runs in between. No bound
		// is needed: a timer that re-armed itself for this instant for
		// ever would hold the simulation there whether settle waited or
		// not, and the drill scripts take at most one extra round.
		if next := b.run.Sim().NextEvent(); !next.IsZero() && !next.After(now) {
			t.Reset(now)
			return
		}
		b.run.Unpark(done)
		close(done)
	})
	t.Reset(now)
	b.run.Park(done, nil)
}
