package analyze

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"

	"github.com/teardown-lab/teardown/analyze/decap"
	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/pcap"
)

// Options adjust the analysis. The zero value is the default.
type Options struct {
	// DropBadChecksums drops packets whose IP, TCP or DCCP checksum does
	// not verify instead of analysing them. Leave it off for captures
	// taken on the sending host (lo, veth, or any NIC with checksum
	// offload), whose outgoing packets carry unfinished checksums.
	DropBadChecksums bool
	// Limits bound the memory IP fragment reassembly may hold; the zero
	// value gives analyze/decap's defaults.
	Limits decap.Limits
	// Progress, when set, is called every 65536 records with the number
	// read so far and the counts (for a progress line on a terminal).
	Progress func(records int, counts Counts)
}

// File analyses the capture at path.
func File(path string, opts Options) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Reader(f, opts)
}

// Reader analyses a capture read from r, one record at a time: memory
// grows with the connections in it, not with its size. A malformed file
// ends the analysis with an error (a *pcap.FormatError); the packets read
// before it are still in the partial report returned with it.
func Reader(r io.Reader, opts Options) (*Report, error) {
	pr, err := pcap.NewFrameReader(r)
	if err != nil {
		return nil, err
	}
	a := New(opts)
	a.rep.Format = string(pr.Format())
	n := 0
	for {
		p, err := pr.NextFrame()
		if err == io.EOF {
			break
		}
		if err != nil {
			rep := a.finish(n)
			return rep, err
		}
		n++
		a.Frame(p.Number, p.Time, p.LinkType, p.IP)
		if opts.Progress != nil && n%progressEvery == 0 {
			opts.Progress(n, a.rep.Counts)
		}
	}
	return a.finish(n), nil
}

// progressEvery is how many records pass between calls of
// Options.Progress.
const progressEvery = 1 << 16

// finish ends the capture after n records and returns the report.
func (a *Analyzer) finish(n int) *Report {
	a.dec.Flush()
	rep := a.Report()
	rep.Packets = n // every record, skipped ones included
	return rep
}

// Analyzer classifies packets fed to it one at a time, for callers that
// have packets rather than a file (a live tap, a fuzzer). Its zero value
// is not usable: call New.
type Analyzer struct {
	opts      Options
	rep       Report
	start     clock.Instant
	haveStart bool
	dec       *decap.Decoder
	tcp       map[connKey]*tcpConn
	dccp      map[connKey]*dccpConn
	flows     []flow
	scratch   []byte
}

// flow is a TCP or DCCP connection being tracked.
type flow interface {
	// finish classifies what was seen and returns the result.
	finish() *Connection
}

// connKey names a 4-tuple independently of direction.
type connKey struct {
	proto uint8
	lo    netip.AddrPort
	hi    netip.AddrPort
}

func keyOf(proto uint8, a, b netip.AddrPort) connKey {
	if c := a.Addr().Compare(b.Addr()); c > 0 || c == 0 && a.Port() > b.Port() {
		a, b = b, a
	}
	return connKey{proto, a, b}
}

// pkt is what the connection trackers need of a packet besides its
// transport header.
type pkt struct {
	num      int
	t        int64 // ns since the first packet
	src, dst netip.AddrPort
	badSum   bool
	cut      bool // truncated capture: payload length from the IP header
}

// New returns an Analyzer.
func New(opts Options) *Analyzer {
	return &Analyzer{opts: opts, dec: decap.New(opts.Limits), tcp: map[connKey]*tcpConn{}, dccp: map[connKey]*dccpConn{}}
}

// Packet analyses one IP packet: num is its packet number, t its capture
// time, ip the bytes from the IP header on (it is not retained). Bad
// packets are counted in the report, never an error.
func (a *Analyzer) Packet(num int, t clock.Instant, ip []byte) {
	a.Frame(num, t, decap.LinkRaw, ip)
}

// Frame analyses one captured frame of the given link type (a LINKTYPE_
// value, as pcap files name them): its link-layer header is stripped,
// tunnels opened and fragments reassembled (analyze/decap); what cannot be
// is counted in Counts.Skipped by reason. The frame is not retained.
func (a *Analyzer) Frame(num int, t clock.Instant, linkType int, frame []byte) {
	a.rep.Packets = max(a.rep.Packets, num)
	if !a.haveStart {
		a.start, a.haveStart = t, true
		a.rep.StartNs = int64(t)
	}
	ip := a.dec.Decode(linkType, int64(t), frame)
	if ip == nil {
		return
	}
	p := pkt{num: num, t: int64(t.Sub(a.start))}
	ipp, ok := a.parseIP(&p, ip)
	if !ok {
		return
	}
	switch ipp.Protocol {
	case wire.IPProtoTCP:
		a.tcpPacket(&p, ipp)
	case wire.IPProtoDCCP:
		a.dccpPacket(&p, ipp)
	default:
		a.rep.Counts.OtherProtocol++
	}
}

// parseIP parses the IP header, repairing what a capture does to good
// packets: a header checksum left for offload (counted, kept unless the
// options say drop) and a packet cut by the snapshot length (counted; the
// missing bytes read as zeros, so lengths and sequence space stay right).
func (a *Analyzer) parseIP(p *pkt, ip []byte) (wire.IPPacket, bool) {
	copied := false
	if tl := ipTotalLen(ip); tl > len(ip) {
		a.rep.Counts.Truncated++
		p.cut, copied = true, true
		a.scratch = append(a.scratch[:0], ip...)
		a.scratch = append(a.scratch, make([]byte, tl-len(ip))...)
		ip = a.scratch
	}
	ipp, err := wire.ParseIP(ip)
	if errors.Is(err, wire.ErrBadChecksum) {
		a.rep.Counts.BadChecksum++
		if a.opts.DropBadChecksums {
			a.rep.Counts.DroppedBadChecksum++
			return ipp, false
		}
		p.badSum = true
		if !copied { // the caller's bytes are not ours to repair
			a.scratch = append(a.scratch[:0], ip...)
			ip = a.scratch
		}
		hl := int(ip[0]&0x0f) * 4
		ip[10], ip[11] = 0, 0
		binary.BigEndian.PutUint16(ip[10:], wire.Checksum(ip[:hl]))
		ipp, err = wire.ParseIP(ip)
	}
	switch {
	case err == nil:
	case errors.Is(err, wire.ErrFragment):
		a.rep.Counts.Fragments++
		return ipp, false
	case errors.Is(err, wire.ErrTruncated) && len(ip) > 0 && len(ip) < wire.IPv4MinLen:
		a.rep.Counts.Truncated++
		return ipp, false
	default:
		a.rep.Counts.BadIP++
		return ipp, false
	}
	return ipp, true
}

// ipTotalLen returns the length the IP header says the packet has, or 0
// when it cannot tell.
func ipTotalLen(b []byte) int {
	switch {
	case len(b) >= wire.IPv4MinLen && b[0]>>4 == 4:
		return int(binary.BigEndian.Uint16(b[2:]))
	case len(b) >= wire.IPv6HeaderLen && b[0]>>4 == 6:
		return wire.IPv6HeaderLen + int(binary.BigEndian.Uint16(b[4:]))
	}
	return 0
}

// Report finishes the analysis of the packets seen so far and returns it.
// Calling it again after more packets gives the updated picture.
func (a *Analyzer) Report() *Report {
	rep := a.rep
	rep.Counts.Skipped = a.dec.Skipped()
	rep.Counts.Opened = a.dec.Opened()
	rep.Counts.NotIP = 0
	for _, n := range rep.Counts.Skipped {
		rep.Counts.NotIP += n
	}
	rep.Counts.Fragments, rep.Counts.Reassembled = a.dec.Fragments()
	rep.Counts.Fragments += a.rep.Counts.Fragments
	rep.Connections = make([]*Connection, 0, len(a.flows))
	for i, f := range a.flows {
		c := f.finish()
		c.ID = i + 1
		rep.Connections = append(rep.Connections, c)
	}
	return &rep
}

// side returns the index (0 or 1) of src in a connection whose first
// packet came from first.
func side(first, src netip.AddrPort) int {
	if src == first {
		return 0
	}
	return 1
}

// guessClient returns which of two endpoints is probably the client when
// no handshake was seen: the one with the higher port (ephemeral ports
// are high), or the first sender when the ports are equal.
func guessClient(first, second netip.AddrPort) int {
	if second.Port() > first.Port() {
		return 1
	}
	return 0
}

// pkts formats a list of packet numbers as "#3, #4".
func pkts(list ...int) string {
	s := ""
	for i, n := range list {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("#%d", n)
	}
	return s
}
