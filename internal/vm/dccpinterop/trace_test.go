//go:build linux

package dccpinterop

import (
	"fmt"
	"os"
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
	for _, p := range pkts {
		logPacket("us   ->", p)
		if d := holdClose.Load(); d > 0 && isClose(p) {
			time.Sleep(time.Duration(d))
		}
	}
	return t.Endpoint.WritePackets(pkts)
}

func (t traceEndpoint) Attach(r link.Receiver) {
	if r == nil {
		t.Endpoint.Attach(nil)
		return
	}
	t.Endpoint.Attach(link.ReceiverFunc(func(pkts [][]byte) {
		for _, p := range pkts {
			logPacket("linux->", p)
		}
		r.DeliverPackets(pkts)
	}))
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
