package stack_test

import (
	"net/netip"
	"testing"

	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/stack"
)

// sinkLink is a link that swallows what the stack sends and hands the
// test the stack's receiver.
type sinkLink struct {
	sent int
	r    link.Receiver
}

func (s *sinkLink) MTU() int { return 1500 }
func (s *sinkLink) WritePackets(pkts [][]byte) (int, error) {
	s.sent += len(pkts)
	return len(pkts), nil
}
func (s *sinkLink) Attach(r link.Receiver) { s.r = r }
func (s *sinkLink) Close() error           { return nil }

// synQueueOf is how many half-open requests a listener of the linux
// profile holds under listen backlog n: n+1, as Linux does
// (inet_csk_reqsk_queue_is_full compares with >; the kernel passes
// drill/testdata/syn_cookies.pkt, where listen(fd, 1) answers a second
// SYN normally). profile.Profile.SYNQueueExtraSlot.
func synQueueOf(backlog int) int { return backlog + 1 }

// fullListener returns a stack whose listener (backlog 16) has a full SYN
// queue of spoofed requests (17), and a function delivering the i-th further
// spoofed SYN.
func fullListener(tb testing.TB, opts stack.ListenOptions) (*stack.TCPListener, *sinkLink, func(i int)) {
	sink := &sinkLink{}
	s, err := stack.New(stack.Config{Addrs: []netip.Addr{serverAddr}, Link: sink, Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	opts.Backlog = 16
	l, err := s.ListenTCP(backlogPort, opts)
	if err != nil {
		tb.Fatal(err)
	}
	dst := netip.AddrPortFrom(serverAddr, backlogPort)
	buf := make([]byte, 100)
	pkts := make([][]byte, 1)
	deliver := func(i int) {
		pkts[0] = spoofedSYN(buf, i, dst)
		sink.r.DeliverPackets(pkts)
	}
	full := synQueueOf(16)
	for i := range full {
		deliver(i)
	}
	if st := l.Stats(); st.SYNQueue != full {
		tb.Fatalf("SYN queue holds %d after %d SYNs, want %d", st.SYNQueue, full, full)
	}
	return l, sink, deliver
}

// A full SYN queue costs nothing per further SYN: no allocation whether
// the SYN is answered with a cookie or dropped. The queue's slots were
// allocated once, at listen time; half-open entries are small records,
// not connections with buffers.
func TestSYNQueueFullAllocatesNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts stack.ListenOptions
	}{{"cookies", stack.ListenOptions{}}, {"no-cookies", stack.ListenOptions{NoSYNCookies: true}}} {
		t.Run(tc.name, func(t *testing.T) {
			l, sink, deliver := fullListener(t, tc.opts)
			i := 1000
			allocs := testing.AllocsPerRun(1000, func() { deliver(i); i++ })
			if allocs != 0 {
				t.Errorf("%v allocations per SYN with a full SYN queue, want 0", allocs)
			}
			st := l.Stats()
			if st.SYNQueue != synQueueOf(16) || st.CookiesSent+st.SYNsDropped < 1000 {
				t.Errorf("listener %+v: the SYNs were neither cookied nor dropped", st)
			}
			if tc.name == "cookies" && sink.sent < 1000 {
				t.Errorf("%d packets sent, want a cookie SYN-ACK per SYN", sink.sent)
			}
		})
	}
}

// BenchmarkSYNFlood measures a SYN reaching a listener whose SYN queue is
// full: parse, checksum, and a cookie SYN-ACK built and sent (or a drop).
func BenchmarkSYNFlood(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts stack.ListenOptions
	}{{"cookies", stack.ListenOptions{}}, {"no-cookies", stack.ListenOptions{NoSYNCookies: true}}} {
		b.Run(bc.name, func(b *testing.B) {
			_, _, deliver := fullListener(b, bc.opts)
			b.ReportAllocs()
			i := 1000
			for b.Loop() {
				deliver(i)
				i++
			}
		})
	}
}
