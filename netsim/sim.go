package netsim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/link/pcap"
)

// Epoch is the virtual time a new Sim starts at: 2000-01-01T00:00:00Z.
// Starting there rather than at zero keeps the zero Instant meaning "not
// set" and gives captures plausible timestamps; it is also the instant at
// which a testing/synctest bubble's fake clock starts, so a Sim made in a
// bubble reads the same time as time.Now there (see package simrun).
const Epoch clock.Instant = 946684800 * 1e9

// ErrEventLimit is returned by the Run methods when a run processed more
// events than the limit set with SetMaxEvents: the usual sign of a
// livelock (two timers re-arming each other at the same instant, a packet
// storm) that would otherwise hang a test.
var ErrEventLimit = errors.New("netsim: event limit reached")

// Sim is a deterministic network simulation: a virtual clock, a queue of
// events ordered by time, the hosts, switches and links, and the one random
// generator that decides every fault.
//
// A Sim is not safe for concurrent use; everything runs on the goroutine
// that calls its Run methods, and callbacks (timers, receivers, observers)
// run inside those calls.
type Sim struct {
	seed      uint64
	now       clock.Instant
	seq       uint64
	events    eventHeap
	rng       *rand.Rand
	processed uint64
	maxEvents uint64

	hosts    []*Host
	switches []*Switch
	links    []*Link
	topology uint64 // bumped by every change that affects routes

	pool    bufPool
	flights []flight
	free    []int32 // unused indices into flights

	observer func(PacketEvent)
	capture  *pcap.Writer
}

// New returns an empty simulation whose random choices all derive from
// seed. Its clock starts at Epoch.
func New(seed uint64) *Sim {
	return &Sim{
		seed: seed,
		now:  Epoch,
		// The second PCG word is a fixed odd constant so that seed alone
		// fixes the stream.
		rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)),
	}
}

// Seed returns the seed the simulation was created with; print it in a
// failing test so the run can be replayed.
func (s *Sim) Seed() uint64 { return s.seed }

// Now returns the virtual time. It implements clock.Clock.
func (s *Sim) Now() clock.Instant { return s.now }

// Rand returns the simulation's random generator, for callers (traffic
// generators, scenario code) whose choices must follow the same seed.
// Every draw from it changes the draws the links make afterwards.
func (s *Sim) Rand() *rand.Rand { return s.rng }

// SetMaxEvents limits how many events one call of Run, RunUntil, RunFor
// or RunUntilFunc may process before it gives up with ErrEventLimit.
// Zero, the default, means no limit.
func (s *Sim) SetMaxEvents(n uint64) { s.maxEvents = n }

// Events returns the number of events processed since the Sim was made.
func (s *Sim) Events() uint64 { return s.processed }

// Pending returns the number of events waiting in the queue.
func (s *Sim) Pending() int { return len(s.events) }

// NextEvent returns the time of the earliest queued event, or zero if the
// queue is empty.
func (s *Sim) NextEvent() clock.Instant {
	if len(s.events) == 0 {
		return 0
	}
	return s.events[0].at
}

// Observe sets a function called for every packet event (sent, delivered,
// dropped, duplicated, corrupted, reordered), or removes it when fn is nil.
// The packet bytes in the event are lent for the duration of the call.
func (s *Sim) Observe(fn func(PacketEvent)) { s.observer = fn }

// Capture records every transmission on every link direction to w: each
// packet as it is offered to a link (by a host or a switch), at that
// instant, before the link decides its fate. A packet that crosses a
// switch therefore appears twice, once per hop; a lost packet appears once
// and never arrives. A nil w stops the capture. For what one host's
// interface sees, use Host.Capture.
func (s *Sim) Capture(w *pcap.Writer) { s.capture = w }

// Step runs the earliest event, advancing the clock to its time, and
// reports whether there was one.
func (s *Sim) Step() bool {
	if len(s.events) == 0 {
		return false
	}
	e := s.events.pop()
	s.now = e.at
	s.processed++
	if e.timer != nil {
		e.timer.fn()
		return true
	}
	s.arrive(e.flight)
	return true
}

// Run processes events until none are left.
func (s *Sim) Run() error {
	return s.RunUntilFunc(nil)
}

// RunUntil processes every event due at or before t, then sets the clock
// to t (if it is later than the current time).
func (s *Sim) RunUntil(t clock.Instant) error {
	start := s.processed
	for len(s.events) > 0 && s.events[0].at <= t {
		if err := s.checkLimit(start); err != nil {
			return err
		}
		s.Step()
	}
	if t > s.now {
		s.now = t
	}
	return nil
}

// RunFor runs the simulation for d of virtual time.
func (s *Sim) RunFor(d time.Duration) error {
	return s.RunUntil(s.now.Add(d))
}

// RunUntilFunc processes events until done returns true (it is checked
// before every event) or the queue is empty. A nil done runs to the end.
func (s *Sim) RunUntilFunc(done func() bool) error {
	start := s.processed
	for len(s.events) > 0 {
		if done != nil && done() {
			return nil
		}
		if err := s.checkLimit(start); err != nil {
			return err
		}
		s.Step()
	}
	return nil
}

func (s *Sim) checkLimit(start uint64) error {
	if s.maxEvents > 0 && s.processed-start >= s.maxEvents {
		return fmt.Errorf("%w: %d events by %s (seed %d)",
			ErrEventLimit, s.processed-start, s.now.Time().Format(time.RFC3339Nano), s.seed)
	}
	return nil
}
