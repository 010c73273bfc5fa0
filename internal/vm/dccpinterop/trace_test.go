//go:build linux

package dccpinterop

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link"
)

// holdClose, when not zero, delays our Close packets by that many
// nanoseconds so that a Close from the kernel crosses them (a
// simultaneous close).
var holdClose atomic.Int64

// tracing turns on the packet log of traceEndpoint (set by a case that
// wants its packets in the output).
var tracing atomic.Bool

// captureCase, when not negative, is the index of the case whose packets
// traceEndpoint prints whole (captureLine), for the host to keep as
// golden captures (capture_test.go).
var captureCase atomic.Int32

// traceEndpoint prints every DCCP packet that crosses the device while
// tracing is on: the interop output is the only record that leaves the VM.
type traceEndpoint struct{ link.Endpoint }

func (t traceEndpoint) WritePackets(pkts [][]byte) (int, error) {
	out := make([][]byte, 0, len(pkts))
	for _, p := range pkts {
		if faults.dropOut(p) {
			continue // lost on the way to Linux: not in the capture
		}
		logPacket("us   ->", p)
		if d := holdClose.Load(); d > 0 && isClose(p) {
			time.Sleep(time.Duration(d))
		}
		out = append(out, p)
	}
	if _, err := t.Endpoint.WritePackets(out); err != nil {
		return 0, err
	}
	return len(pkts), nil
}

func (t traceEndpoint) Attach(r link.Receiver) {
	if r == nil {
		t.Endpoint.Attach(nil)
		return
	}
	t.Endpoint.Attach(link.ReceiverFunc(func(pkts [][]byte) {
		pkts = faults.inbound(pkts)
		for _, p := range pkts {
			logPacket("linux->", p)
		}
		if len(pkts) > 0 {
			r.DeliverPackets(pkts)
		}
	}))
}

// faults are the loss and reordering a case sets on the device (and
// clears after it): every dropEvery-th DCCP data packet is lost, each way;
// every reorderEvery-th data packet from Linux is held back and delivered
// after the next packet. The capture shows what our stack sent and
// received.
var faults faultState

type faultState struct {
	mu                      sync.Mutex
	dropEvery, reorderEvery int
	nOut, nIn               int
	droppedOut, droppedIn   int
	held                    []byte
}

func (f *faultState) set(dropEvery, reorderEvery int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dropEvery, f.reorderEvery = dropEvery, reorderEvery
	f.nOut, f.nIn, f.droppedOut, f.droppedIn, f.held = 0, 0, 0, 0, nil
}

func (f *faultState) counts() (out, in int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.droppedOut, f.droppedIn
}

func (f *faultState) dropOut(p []byte) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dropEvery == 0 || !isData(p) {
		return false
	}
	f.nOut++
	if f.nOut%f.dropEvery == 0 {
		f.droppedOut++
		return true
	}
	return false
}

func (f *faultState) inbound(pkts [][]byte) [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dropEvery == 0 && f.reorderEvery == 0 && f.held == nil {
		return pkts
	}
	var out [][]byte
	for _, p := range pkts {
		if !isData(p) {
			out = append(out, p)
			continue
		}
		f.nIn++
		switch {
		case f.dropEvery > 0 && f.nIn%f.dropEvery == 0:
			f.droppedIn++
		case f.reorderEvery > 0 && f.held == nil && f.nIn%f.reorderEvery == 0:
			f.held = append([]byte(nil), p...)
		default:
			out = append(out, p)
			if f.held != nil {
				out = append(out, f.held)
				f.held = nil
			}
		}
	}
	return out
}

func isData(p []byte) bool {
	ip, err := wire.ParseIP(p)
	if err != nil || ip.Protocol != wire.IPProtoDCCP {
		return false
	}
	d, err := wire.ParseDCCP(ip.Payload)
	return err == nil && (d.Type() == wire.DCCPData || d.Type() == wire.DCCPDataAck) && len(d.Payload()) > 0
}

func isClose(p []byte) bool {
	ip, err := wire.ParseIP(p)
	if err != nil || ip.Protocol != wire.IPProtoDCCP {
		return false
	}
	d, err := wire.ParseDCCP(ip.Payload)
	return err == nil && d.Type() == wire.DCCPClose
}

func logPacket(dir string, p []byte) {
	if i := captureCase.Load(); i >= 0 {
		fmt.Fprintln(os.Stdout, captureLine(int(i), time.Now().UnixNano(), p))
	}
	if !tracing.Load() {
		return
	}
	ip, err := wire.ParseIP(p)
	if err != nil || ip.Protocol != wire.IPProtoDCCP {
		return
	}
	d, err := wire.ParseDCCP(ip.Payload)
	if err != nil {
		fmt.Fprintf(os.Stdout, "TRACE %s bad DCCP: %v\n", dir, err)
		return
	}
	extra := ""
	if d.Type() == wire.DCCPReset {
		extra = " code=" + d.ResetCode().String()
	}
	fmt.Fprintf(os.Stdout, "TRACE %s %v seq=%d ack=%d%s opts=% x len=%d\n", dir, d.Type(), d.Seq(), d.Ack(), extra, d.Options(), len(d.Payload()))
}
