package stack

import (
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/link/pcap"
	"github.com/teardown-lab/teardown/link/pipe"
)

// hintingLink is a link that suggests a receive buffer (link.BufferHinter),
// as a TUN device does.
type hintingLink struct {
	link.Endpoint
	hint int
}

func (h hintingLink) ReceiveBufferHint() int { return h.hint }

// A link's suggested receive buffer is where a connection over it starts
// when TCPOptions leave the size unset: the window the server advertises
// after the handshake covers it. A size in TCPOptions wins over the hint,
// MaxReceiveBuffer bounds it, and a capture tap passes it on.
func TestBufferHint_LinkSuggestsTheReceiveBuffer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   TCPOptions
		tap    bool // the server's link behind a pcap tap
		lo, hi int  // the window the server advertises
	}{
		{"hint", TCPOptions{}, false, 1<<20 - 4<<10, 1 << 20},
		{"options-win", TCPOptions{ReceiveBuffer: 128 << 10}, false, 128<<10 - 4<<10, 128 << 10},
		{"max-bounds", TCPOptions{MaxReceiveBuffer: 512 << 10}, false, 512<<10 - 4<<10, 512 << 10},
		{"through-a-capture", TCPOptions{}, true, 1<<20 - 4<<10, 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := pipe.New(1500)
			client, err := New(Config{Name: "client", Addrs: []netip.Addr{netip.MustParseAddr("10.9.0.1")}, Link: a})
			if err != nil {
				t.Fatal(err)
			}
			var sl link.Endpoint = hintingLink{b, 1 << 20}
			if tc.tap {
				w, err := pcap.NewWriter(io.Discard, 0)
				if err != nil {
					t.Fatal(err)
				}
				sl = pcap.NewTap(sl, clock.NewRealTimers(), w)
			}
			server, err := New(Config{Name: "server", Addrs: []netip.Addr{netip.MustParseAddr("10.9.0.2")},
				Link: sl, TCP: tc.opts})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { client.Close(); server.Close() })
			c, s := connect(t, client, server)
			// One byte each way: the server's ACK of it carries its window,
			// scaled, to the client.
			if _, err := c.Write([]byte{1}); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 1)
			if _, err := s.Read(buf); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Write([]byte{2}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Read(buf); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				w := int(c.Info().PeerWindow)
				if w >= tc.lo && w <= tc.hi {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("the server advertises %d bytes, want %d–%d", w, tc.lo, tc.hi)
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
}
