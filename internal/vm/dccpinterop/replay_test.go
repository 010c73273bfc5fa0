package dccpinterop

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/dccp"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/pcap"
	"github.com/teardown-lab/teardown/profile"
)

// replayOurAddrs are our stack's addresses in the captures (ourAddr and
// ourAddr6 of the in-VM tests, which are built for Linux only).
var replayOurAddrs = []netip.Addr{netip.MustParseAddr("10.77.0.2"), netip.MustParseAddr("fd77::2")}

// recPacket is one decoded packet of a golden capture.
type recPacket struct {
	at   clock.Instant
	ours bool
	p    dccp.Packet
}

// readCapture decodes a golden capture and groups its packets by
// connection (our port, Linux's port), in capture order. Every packet,
// Linux's and ours, must parse and pass our checksum check: our codec
// reads Linux's encoding.
func readCapture(t *testing.T, path string) (conns [][]recPacket) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcap.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	index := map[[2]uint16]int{}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return conns
		}
		if err != nil {
			t.Fatal(err)
		}
		ip, err := wire.ParseIP(rec.IP)
		if err != nil {
			t.Fatalf("frame %d: %v", rec.Number, err)
		}
		if ip.Protocol != wire.IPProtoDCCP {
			continue // the kernel's own traffic on the device (IPv6 neighbour discovery)
		}
		d, err := wire.ParseDCCP(ip.Payload)
		if err != nil {
			t.Fatalf("frame %d: our parser refuses it: %v", rec.Number, err)
		}
		if err := d.VerifyChecksum(ip.Src, ip.Dst); err != nil {
			t.Fatalf("frame %d: %v", rec.Number, err)
		}
		ours := slices.Contains(replayOurAddrs, ip.Src)
		key := [2]uint16{d.SrcPort(), d.DstPort()}
		if !ours {
			key = [2]uint16{d.DstPort(), d.SrcPort()}
		}
		i, ok := index[key]
		if !ok {
			i = len(conns)
			index[key] = i
			conns = append(conns, nil)
		}
		var p dccp.Packet
		p.Decode(d)
		p = clonePkt(&p)
		if p.Options.Err != 0 {
			t.Fatalf("frame %d: options draw %v from our decoder", rec.Number, p.Options.Err)
		}
		conns[i] = append(conns[i], recPacket{at: rec.Time, ours: ours, p: p})
	}
}

// clonePkt copies the slices a decoded packet lends from the buffer.
func clonePkt(p *dccp.Packet) dccp.Packet {
	q := *p
	q.Payload = slices.Clone(p.Payload)
	q.Options.AckVector = slices.Clone(p.Options.AckVector)
	q.Options.DataDropped = slices.Clone(p.Options.DataDropped)
	q.Options.InitCookie = slices.Clone(p.Options.InitCookie)
	for i := range q.Options.NCCID {
		q.Options.CCID[i].Data = slices.Clone(p.Options.CCID[i].Data)
	}
	return q
}

// control is how a packet that decides a connection's course reads in
// the comparison: Request, Response, CloseReq, Close and Reset with its
// code; "" for the others (Data, Ack, Sync), whose timing depends on the
// CCID and the scheduler.
func control(p *dccp.Packet) string {
	switch p.Type {
	case wire.DCCPRequest, wire.DCCPResponse, wire.DCCPCloseReq, wire.DCCPClose:
		return p.Type.String()
	case wire.DCCPReset:
		return "Reset(" + p.ResetCode.String() + ")"
	}
	return ""
}

// collapse drops consecutive repeats: a retransmission is the same
// answer, sent again on a timer whose phase the replay does not keep.
func collapse(s []string) []string { return slices.Compact(s) }

// replayConn feeds Linux's recorded packets of one connection to a fresh
// core, at their recorded times, with our application's actions read off
// our recorded packets (a datagram sent: Write it; our Close, CloseReq or
// Reset(Closed): read what is queued and Close; Reset(Aborted): Close
// without reading), and returns the control packets the core sent and
// those we sent live.
func replayConn(t *testing.T, name string, pkts []recPacket) (got, want []string) {
	t.Helper()
	cfg := dccp.Config{Profile: profile.Linux, NewCCID: dccp.NoCCID}
	if strings.Contains(name, "ccid-3") {
		cfg.CCID = 3
	}
	var c *dccp.Conn
	var lst *dccp.Listener
	emit := func(now clock.Instant) {
		var p dccp.Packet
		for c != nil && c.NextPacket(now, &p) {
			if s := control(&p); s != "" {
				got = append(got, s)
			}
		}
	}
	runTimers := func(until clock.Instant) {
		for c != nil {
			d := c.NextDeadline()
			if d == 0 || d.After(until) {
				return
			}
			c.HandleTimer(d)
			emit(d)
		}
	}
	first := pkts[0]
	switch {
	case first.ours && first.p.Type == wire.DCCPRequest:
		cfg.ISS, cfg.ServiceCode = first.p.Seq, first.p.ServiceCode
		c = dccp.NewClient(first.at, cfg)
		emit(first.at)
	case !first.ours && first.p.Type == wire.DCCPRequest:
		// A server that closed with Close rather than CloseReq had
		// server timewait set (RFC 4340 §8.3).
		for _, o := range pkts {
			if o.ours && (o.p.Type == wire.DCCPClose || o.p.Type == wire.DCCPCloseReq) {
				cfg.ServerTimewait = o.p.Type == wire.DCCPClose
				break
			}
		}
		lst = &dccp.Listener{ServiceCodes: []uint32{42}, Config: cfg}
	default:
		t.Fatalf("%s: the connection starts with our %v", name, first.p.Type)
	}
	buf := make([]byte, 64<<10)
	for _, r := range pkts {
		runTimers(r.at)
		if r.ours {
			if s := control(&r.p); s != "" {
				want = append(want, s)
			}
		}
		switch {
		case !r.ours && c == nil:
			iss := seqnum.V48(0)
			for _, o := range pkts { // our Response, if we sent one, gives our ISS
				if o.ours && o.p.Type == wire.DCCPResponse {
					iss = o.p.Seq
					break
				}
			}
			p := r.p
			nc, reply, ok := lst.HandlePacket(r.at, &p, iss, 0)
			if ok {
				got = append(got, control(&reply))
			}
			c = nc
			emit(r.at)
		case !r.ours:
			p := r.p
			if p.Type.HasAck() && c.GSS().LessThan(p.Ack) {
				// Linux acknowledges a packet we sent live that the
				// replay has not (Acks and data go out on the CCID's
				// and the scheduler's timing): it saw all we sent.
				p.Ack = c.GSS()
			}
			c.HandlePacket(r.at, &p)
			emit(r.at)
		case c == nil:
		case len(r.p.Payload) > 0:
			if err := c.Write(r.at, r.p.Payload); err != nil {
				t.Fatalf("%s: writing our recorded datagram: %v", name, err)
			}
			emit(r.at)
		case len(want) > len(got) && (r.p.Type == wire.DCCPClose || r.p.Type == wire.DCCPCloseReq ||
			r.p.Type == wire.DCCPReset && r.p.ResetCode == wire.DCCPResetClosed):
			for {
				if _, err := c.Read(r.at, buf); err != nil {
					break
				}
			}
			c.Close(r.at)
			emit(r.at)
		case len(want) > len(got) && r.p.Type == wire.DCCPReset && r.p.ResetCode == wire.DCCPResetAborted:
			c.Close(r.at)
			emit(r.at)
		}
	}
	return collapse(got), collapse(want)
}

// TestReplayLinux61: each golden capture of the interop cases (recorded
// against Linux 6.1 in the VM, testdata/linux61) replayed into our core
// without the VM. Linux's packets must parse and check out with our
// codec, and the core fed Linux's Requests, Responses, CloseReqs, Closes
// and Resets at their recorded times must answer with the control
// packets we sent live. When the VM can no longer be built (Linux
// removed DCCP in 6.16), this keeps Linux's behaviour as the judge.
func TestReplayLinux61(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(captureDir, "*.pcap"))
	if err != nil || len(files) < 17 {
		t.Fatalf("%d golden captures in %s (want the 17 interop cases): %v", len(files), captureDir, err)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".pcap")
		t.Run(name, func(t *testing.T) {
			conns := readCapture(t, path)
			if len(conns) == 0 {
				t.Fatal("no packets")
			}
			for i, pkts := range conns {
				got, want := replayConn(t, name, pkts)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("connection %d: the core answered %v; live we sent %v", i+1, got, want)
				}
			}
		})
	}
}
