package pcap

import (
	"encoding/binary"
	"io"
	"sync"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/link"
)

// LinkTypeRaw is LINKTYPE_RAW: each record is an IPv4 or IPv6 packet.
const LinkTypeRaw = 101

const (
	magicNanos = 0xa1b23c4d
	fileHeader = 24
	recHeader  = 16
)

// Writer writes a pcap stream. It is safe for concurrent use.
type Writer struct {
	mu      sync.Mutex
	w       io.Writer
	snaplen int
	hdr     [recHeader]byte
	err     error
}

// NewWriter writes the file header to w and returns a Writer whose records
// keep at most snaplen bytes of each packet (0 means 262144).
func NewWriter(w io.Writer, snaplen int) (*Writer, error) {
	if snaplen <= 0 {
		snaplen = 262144
	}
	var h [fileHeader]byte
	binary.LittleEndian.PutUint32(h[0:], magicNanos)
	binary.LittleEndian.PutUint16(h[4:], 2) // version 2.4
	binary.LittleEndian.PutUint16(h[6:], 4)
	// thiszone and sigfigs stay zero
	binary.LittleEndian.PutUint32(h[16:], uint32(snaplen))
	binary.LittleEndian.PutUint32(h[20:], LinkTypeRaw)
	if _, err := w.Write(h[:]); err != nil {
		return nil, err
	}
	return &Writer{w: w, snaplen: snaplen}, nil
}

// WritePacket records one packet seen at time t. After the first write
// error every later call returns that error.
func (pw *Writer) WritePacket(t clock.Instant, pkt []byte) error {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	if pw.err != nil {
		return pw.err
	}
	capLen := min(len(pkt), pw.snaplen)
	ns := int64(t)
	binary.LittleEndian.PutUint32(pw.hdr[0:], uint32(ns/1e9))
	binary.LittleEndian.PutUint32(pw.hdr[4:], uint32(ns%1e9))
	binary.LittleEndian.PutUint32(pw.hdr[8:], uint32(capLen))
	binary.LittleEndian.PutUint32(pw.hdr[12:], uint32(len(pkt)))
	if _, err := pw.w.Write(pw.hdr[:]); err != nil {
		pw.err = err
		return err
	}
	if _, err := pw.w.Write(pkt[:capLen]); err != nil {
		pw.err = err
		return err
	}
	return nil
}

// Tap is a link.Endpoint that records every packet written to or delivered
// from the Endpoint it wraps, timestamped by a Clock.
type Tap struct {
	inner link.Endpoint
	clk   clock.Clock
	w     *Writer
	recv  link.Receiver
	mu    sync.Mutex
}

// NewTap wraps inner so that its traffic in both directions is written to w.
func NewTap(inner link.Endpoint, clk clock.Clock, w *Writer) *Tap {
	return &Tap{inner: inner, clk: clk, w: w}
}

// MTU returns the wrapped endpoint's MTU.
func (t *Tap) MTU() int { return t.inner.MTU() }

// WritePackets records the packets, then passes them on.
func (t *Tap) WritePackets(pkts [][]byte) (int, error) {
	now := t.clk.Now()
	for _, p := range pkts {
		t.w.WritePacket(now, p) //nolint:errcheck // a capture failure must not break the link
	}
	return t.inner.WritePackets(pkts)
}

// Attach sets the receiver; delivered packets are recorded on their way up.
func (t *Tap) Attach(r link.Receiver) {
	t.mu.Lock()
	t.recv = r
	t.mu.Unlock()
	if r == nil {
		t.inner.Attach(nil)
		return
	}
	t.inner.Attach(t)
}

// DeliverPackets records incoming packets and hands them to the receiver.
func (t *Tap) DeliverPackets(pkts [][]byte) {
	now := t.clk.Now()
	for _, p := range pkts {
		t.w.WritePacket(now, p) //nolint:errcheck // see WritePackets
	}
	t.mu.Lock()
	r := t.recv
	t.mu.Unlock()
	if r != nil {
		r.DeliverPackets(pkts)
	}
}

// Close closes the wrapped endpoint.
func (t *Tap) Close() error { return t.inner.Close() }

var _ link.BufferHinter = (*Tap)(nil)

// ReceiveBufferHint passes on the wrapped endpoint's suggestion
// (link.BufferHinter), 0 if it makes none: a capture does not change the
// path TCP's buffers are sized for.
func (t *Tap) ReceiveBufferHint() int {
	if h, ok := t.inner.(link.BufferHinter); ok {
		return h.ReceiveBufferHint()
	}
	return 0
}
