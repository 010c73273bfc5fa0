package testnet

import (
	"flag"
	"strconv"
	"testing/synctest"
)

// The flags a failing test's replay command uses. They are registered on
// the default flag set when the package is imported, so every test binary
// that imports testnet accepts them.
var (
	seedFlag seedValue
	pcapFlag string
)

func init() {
	flag.Var(&seedFlag, "testnet.seed", "`seed` of every testnet network (replays a failing run)")
	flag.StringVar(&pcapFlag, "testnet.pcap", "", "keep every testnet capture, passing tests' too, in `dir`")
}

// seedValue is a flag that remembers whether it was set: seed 0 is a seed.
type seedValue struct {
	n   uint64
	set bool
}

func (v *seedValue) String() string {
	if v == nil || !v.set {
		return ""
	}
	return strconv.FormatUint(v.n, 10)
}

func (v *seedValue) Set(s string) error {
	n, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return err
	}
	v.n, v.set = n, true
	return nil
}

// inBubble reports whether the calling goroutine is in a testing/synctest
// bubble. The package has no call that says so; synctest.Wait panics
// outside one (and inside one while another goroutine waits, which
// still means a bubble). Inside, it returns once the bubble's other
// goroutines are blocked — at New, typically at once.
func inBubble() (in bool) {
	defer func() {
		if r := recover(); r != nil {
			in = r == "wait already in progress"
		}
	}()
	synctest.Wait()
	return true
}
