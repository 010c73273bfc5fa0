//go:build linux

package dccpbench

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/teardown-lab/teardown/link/fault"
	"github.com/teardown-lab/teardown/link/tun"
	"github.com/teardown-lab/teardown/stack"
)

// The guest half: it runs inside the VM only (TestBenchInVM calls it).

var (
	tunPrefix  = netip.MustParsePrefix("10.78.0.1/24")
	kernelAddr = netip.MustParseAddr("10.78.0.1")
	ourAddr    = netip.MustParseAddr("10.78.0.2")
)

const (
	tunName = "tdb0"
	// queueLen is our DCCP queues and Linux's tx_qlen, in datagrams:
	// about 1 MiB of full-sized ones (the defaults are Linux's 5 and 64).
	queueLen = 760
	// datagramSize is our largest DCCP payload at MTU 1500; Linux's
	// datagrams are capped to the same.
	datagramSize = 1380
	service      = 42
	// transferTimeout bounds one transfer (TCG, 1 % loss).
	transferTimeout = 3 * time.Minute
)

// GuestOptions say what the guest measures.
type GuestOptions struct {
	// Bytes is moved by each transfer.
	Bytes int64 `json:"bytes"`
	// Reps is how many times each transfer runs under each condition.
	Reps int `json:"reps"`
	// Seed seeds link/fault (plus the condition's index).
	Seed uint64 `json:"seed"`
}

// guest is our stack behind the fault wrapper of one condition.
type guest struct {
	s  *stack.Stack
	fe *fault.Endpoint
}

// RunGuest runs every transfer under every condition, Reps times,
// interleaving protocols and paths, and writes one line per transfer to
// w. A failed transfer is a line with its error; RunGuest goes on.
func RunGuest(w io.Writer, o GuestOptions) error {
	if err := os.WriteFile("/proc/sys/net/dccp/default/tx_qlen", []byte(strconv.Itoa(queueLen)), 0o644); err != nil {
		fmt.Fprintf(w, "tx_qlen stays Linux's default: %v\n", err)
	}
	dev, err := tun.Open(tun.Config{Name: tunName, KernelAddr: tunPrefix})
	if err != nil {
		return err
	}
	defer dev.Close()
	port := uint16(8000)
	for ci, cond := range Conditions {
		f := fault.Faults{Loss: cond.Loss, Reorder: cond.Reorder, ReorderDelay: cond.ReorderDelay}
		// Each condition gets its own wrapper and stack; the earlier
		// stack's Close detaches the earlier wrapper from the device.
		fe, err := fault.New(dev, fault.Config{Seed: o.Seed + uint64(ci), Out: f, In: f})
		if err != nil {
			return err
		}
		s, err := stack.New(stack.Config{Name: "teardown", Addrs: []netip.Addr{ourAddr}, Link: fe,
			TCP: stack.TCPOptions{SendBuffer: 1 << 20, ReceiveBuffer: 1 << 20}})
		if err != nil {
			return err
		}
		g := &guest{s: s, fe: fe}
		for rep := range o.Reps {
			for _, proto := range Protos {
				for _, path := range []string{UsToLinux, LinuxToUs} {
					port++
					before, tunBefore := fe.Stats(), tunDrops()
					r, err := g.transfer(proto, path, port, o.Bytes)
					after := fe.Stats()
					r.TunDrops = tunDrops() - tunBefore
					r.Condition, r.Proto, r.Path, r.Rep = cond.Name, proto, path, rep
					r.LinkLost = after.Out.Lost + after.In.Lost - before.Out.Lost - before.In.Lost
					r.LinkReordered = after.Out.Reordered + after.In.Reordered - before.Out.Reordered - before.In.Reordered
					if err != nil {
						r.Err = err.Error()
					}
					fmt.Fprintln(w, r.line())
				}
			}
		}
		s.Close()
	}
	return nil
}

func (g *guest) transfer(proto, path string, port uint16, n int64) (Result, error) {
	switch {
	case proto == "tcp" && path == UsToLinux:
		return g.tcpToLinux(port, n)
	case proto == "tcp":
		return g.tcpFromLinux(port, n)
	case path == UsToLinux:
		return g.dccpToLinux(port, ccidOf(proto), n)
	default:
		return g.dccpFromLinux(port, ccidOf(proto), n)
	}
}

// tunDrops is what the kernel dropped at the TUN device: packets for us
// that found its queue full (tx_dropped) and packets from us it could
// not take (rx_dropped).
func tunDrops() uint64 {
	var n uint64
	for _, f := range []string{"tx_dropped", "rx_dropped"} {
		b, err := os.ReadFile("/sys/class/net/" + tunName + "/statistics/" + f)
		if err != nil {
			continue
		}
		v, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		n += v
	}
	return n
}

func ccidOf(proto string) uint8 {
	if proto == "ccid3" {
		return 3
	}
	return 2
}
