package suite

import (
	"net/netip"
	"sync"
	"time"

	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/link/pipe"
	"github.com/teardown-lab/teardown/stack"
)

// The DCCP measures on a faulty link: the same transfers as DCCPBulk and
// TCPTimed, with the client's packets (the data direction) lost or
// reordered by a deterministic wrapper of its link endpoint, so that the
// figures compare the congestion controls' answer to the same pattern.

// Fault is a deterministic impairment of the data direction.
type Fault struct {
	// Name labels the measure ("loss1", "reorder").
	Name string
	// DropEvery loses every DropEvery-th packet (100: 1 %).
	DropEvery int
	// ReorderEvery holds every ReorderEvery-th packet back behind the
	// next one.
	ReorderEvery int
}

// DCCPFaults are the impairments `teardown bench --dccp` measures: 1 %
// loss, and one packet in 50 one place late.
var DCCPFaults = []Fault{
	{Name: "loss1", DropEvery: 100},
	{Name: "reorder", ReorderEvery: 50},
}

// faultyEndpoint applies f to the packets written to it.
type faultyEndpoint struct {
	link.Endpoint
	f    Fault
	mu   sync.Mutex
	n    int
	held []byte
}

func (e *faultyEndpoint) WritePackets(pkts [][]byte) (int, error) {
	e.mu.Lock()
	out := make([][]byte, 0, len(pkts)+1)
	for _, p := range pkts {
		e.n++
		switch {
		case e.f.DropEvery > 0 && e.n%e.f.DropEvery == 0:
		case e.f.ReorderEvery > 0 && e.held == nil && e.n%e.f.ReorderEvery == 0:
			e.held = append([]byte(nil), p...)
		default:
			out = append(out, p)
			if e.held != nil {
				out = append(out, e.held)
				e.held = nil
			}
		}
	}
	e.mu.Unlock()
	if len(out) > 0 {
		if _, err := e.Endpoint.WritePackets(out); err != nil {
			return 0, err
		}
	}
	return len(pkts), nil
}

// newOursFaulty is newOurs with the client's endpoint impaired by f.
func newOursFaulty(mtu int, f Fault) (*oursPair, error) {
	a, b := pipe.New(mtu, pipe.ShareBuffers())
	opts := stack.TCPOptions{SendBuffer: BufferSize, ReceiveBuffer: BufferSize, MSL: timeWait / 2}
	c, err := stack.New(stack.Config{Name: "client", Addrs: []netip.Addr{clientAddr}, Link: &faultyEndpoint{Endpoint: a, f: f}, TCP: opts, EphemeralPorts: ephemeralPorts})
	if err != nil {
		return nil, err
	}
	s, err := stack.New(stack.Config{Name: "server", Addrs: []netip.Addr{serverAddr}, Link: b, TCP: opts})
	if err != nil {
		return nil, err
	}
	return &oursPair{c, s}, nil
}

// DCCPBulkFaulty is DCCPBulk over a link impaired by f.
func DCCPBulkFaulty(ccid, mtu int, d time.Duration, f Fault) (TimedResult, error) {
	return dccpTransferOn(ccid, d, nil, func() (*oursPair, error) { return newOursFaulty(mtu, f) })
}

// TCPTimedFaulty is TCPTimed over a link impaired by f.
func TCPTimedFaulty(mtu int, d time.Duration, f Fault) (TimedResult, error) {
	return tcpTimedOn(d, func() (*oursPair, error) { return newOursFaulty(mtu, f) })
}
