package netsim_test

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/netsim"
)

// Two hosts joined by a 10ms, 10 Mbit/s link that loses 1% of packets.
// Host a sends three packets back to back: each takes 1ms to serialize.
// The run is the same every time for the same seed.
func Example_twoHosts() {
	sim := netsim.New(7) // the seed fixes every random choice
	a := sim.AddHost("a", netip.MustParseAddr("10.0.0.1"))
	b := sim.AddHost("b", netip.MustParseAddr("10.0.0.2"))
	l := sim.Connect(a, b, netsim.LinkConfig{
		Latency:   10 * time.Millisecond,
		Bandwidth: 10_000_000,
		Loss:      0.01,
	})
	b.Attach(link.ReceiverFunc(func(pkts [][]byte) {
		for _, p := range pkts {
			fmt.Printf("+%v b got %d bytes\n", sim.Now().Sub(netsim.Epoch), len(p))
		}
	}))

	// A minimal IPv4 header is all the simulator reads: the version and
	// the destination address.
	pkt := make([]byte, 1250)
	pkt[0] = 0x45
	binary.BigEndian.PutUint16(pkt[2:], uint16(len(pkt)))
	copy(pkt[12:16], []byte{10, 0, 0, 1})
	copy(pkt[16:20], []byte{10, 0, 0, 2})
	for range 3 {
		a.WritePackets([][]byte{pkt})
	}
	if err := sim.Run(); err != nil {
		fmt.Println(err)
	}
	ab, _ := l.Stats()
	fmt.Printf("sent %d, delivered %d, lost %d\n", ab.Sent, ab.Delivered, ab.Lost)
	// Output:
	// +11ms b got 1250 bytes
	// +12ms b got 1250 bytes
	// +13ms b got 1250 bytes
	// sent 3, delivered 3, lost 0
}
