package dccp

import (
	"testing"

	"github.com/teardown-lab/teardown/internal/wire"
)

// FuzzDCCPConn drives a Conn into the state chosen by the first byte and
// feeds it packets decoded from the rest: no panic, and the Conn's
// invariants hold (NextPacket terminates, a Done Conn sends at most
// Resets).
func FuzzDCCPConn(f *testing.F) {
	f.Add([]byte{0, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10})
	f.Add([]byte{3, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 1 {
			return
		}
		sel, data := data[0], data[1:]
		b := behaviours[int(sel)%2]
		pr := newPair(t, b, rtt/2, nil)
		pr.run(100 * 1e6)
		c := pr.conn[int(sel>>1)%2]
		if c == nil {
			return
		}
		switch sel >> 2 % 4 {
		case 1:
			c.Close(pr.now)
		case 2:
			p := Packet{Type: wire.DCCPClose, X: true, Seq: c.GSR().Add(1), Ack: c.GSS()}
			c.HandlePacket(pr.now, &p)
		case 3:
			c.Abort(pr.now)
		}
		for len(data) >= 12 {
			n := min(len(data), 64+int(data[0]))
			d, err := wire.ParseDCCP(data[:n])
			data = data[n:]
			if err != nil {
				continue
			}
			var p Packet
			p.Decode(d)
			c.HandlePacket(pr.now, &p)
			var q Packet
			for i := 0; c.NextPacket(pr.now, &q); i++ {
				if i > 16 {
					t.Fatal("NextPacket does not terminate")
				}
				if c.Done() && q.Type != wire.DCCPReset {
					t.Fatalf("%v Conn sent %v", c.State(), q.Type)
				}
			}
			at := c.NextDeadline()
			c.HandleTimer(at)
			if at != 0 {
				checkTimerMoved(t, c.NextDeadline(), at, c.State())
			}
			pr.now = max(pr.now, c.NextDeadline())
		}
	})
}
