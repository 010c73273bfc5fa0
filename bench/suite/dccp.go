package suite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/teardown-lab/teardown/stack"
)

// The DCCP measures (issue 7, point 2): one DCCP connection of ours on
// both ends over link/pipe, CCID 2 (RFC 4341) and CCID 3 (RFC 4342), each
// sender writing datagrams of the largest payload for a fixed time, and
// our TCP over the same link for the same time as the reference. They are
// not part of Run (the JSON contract is six TCP measures): RunDCCP takes
// them, WriteDCCPTable prints them.

// TimedResult is one timed transfer's outcome, counted at the receiver.
type TimedResult struct {
	// Bytes is what the receiving application read.
	Bytes int64
	// Elapsed runs from the first write to the receiver's last read (its
	// end-of-stream).
	Elapsed time.Duration
	// Sent and Delivered count datagrams (DCCP only): written by the
	// sender, read by the receiver.
	Sent, Delivered int64
	// RecvQueueDrops is the datagrams the receiving connection dropped
	// because its receive queue was full (DCCP has no flow control; on a
	// lossless link that is the only place a datagram is lost).
	RecvQueueDrops uint64
	// PeerDrops is the datagrams the sending connection heard were
	// dropped (Data Dropped, RFC 4340 §11.7): all of RecvQueueDrops.
	PeerDrops uint64
}

// Mbps is the goodput in Mbit/s.
func (r TimedResult) Mbps() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Bytes) * 8 / r.Elapsed.Seconds() / 1e6
}

// LostPercent is the share of written datagrams that never reached the
// receiving application.
func (r TimedResult) LostPercent() float64 {
	if r.Sent == 0 {
		return 0
	}
	return 100 * float64(r.Sent-r.Delivered) / float64(r.Sent)
}

// DCCPQueueLen is the send and receive queue of the DCCP measures, in
// datagrams: BufferSize's worth of full-sized datagrams at MTU 1500, so
// that DCCP gets the buffering TCP gets (the stack's defaults are Linux's
// 5 and 64).
const DCCPQueueLen = BufferSize / 1380

// DCCPDuration is how long each DCCP measure (and its TCP reference)
// sends: at least one second, else cfg's churn time (0.7 s → 1 s quick,
// 3 s full).
func DCCPDuration(cfg Config) time.Duration { return max(time.Second, cfg.ChurnTime) }

// DCCPBulk sends datagrams of the largest payload over one DCCP
// connection of ours (ccid 2 or 3 both ways) on a link of the given MTU
// for d, then closes, and counts what the receiving application read.
func DCCPBulk(ccid, mtu int, d time.Duration) (TimedResult, error) {
	return dccpTransfer(ccid, mtu, d, nil)
}

// dccpTransfer is DCCPBulk whose reader calls pause, if set, after each
// datagram it read (n counts them).
func dccpTransfer(ccid, mtu int, d time.Duration, pause func(n int64)) (TimedResult, error) {
	return dccpTransferOn(ccid, d, pause, func() (*oursPair, error) { return newOurs(mtu) })
}

// dccpTransferOn is dccpTransfer between the stacks mk makes.
func dccpTransferOn(ccid int, d time.Duration, pause func(n int64), mk func() (*oursPair, error)) (TimedResult, error) {
	p, err := mk()
	if err != nil {
		return TimedResult{}, err
	}
	defer p.Close()
	l, err := p.server.ListenDCCP(benchPort, stack.DCCPListenOptions{CCID: ccid, RecvQueueLen: DCCPQueueLen})
	if err != nil {
		return TimedResult{}, err
	}
	defer l.Close()
	type recv struct {
		r   TimedResult
		end time.Time
		err error
	}
	got := make(chan recv, 1)
	go func() {
		c, err := l.AcceptDCCP()
		if err != nil {
			got <- recv{err: err}
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(d + time.Minute))
		var rv recv
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			if err != nil {
				if !errors.Is(err, io.EOF) {
					rv.err = err
				}
				break
			}
			rv.r.Bytes += int64(n)
			rv.r.Delivered++
			rv.end = time.Now()
			if pause != nil {
				pause(rv.r.Delivered)
			}
		}
		rv.r.RecvQueueDrops = c.Stats().RecvQueueDrops
		got <- rv
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := p.client.DialDCCP(ctx, netip.AddrPortFrom(serverAddr, benchPort), stack.DCCPOptions{CCID: ccid, SendQueueLen: DCCPQueueLen})
	if err != nil {
		return TimedResult{}, fmt.Errorf("dial: %w", err)
	}
	c.SetWriteDeadline(time.Now().Add(d + time.Minute))
	msg := make([]byte, c.MaxDatagram())
	var sent int64
	start := time.Now()
	for time.Since(start) < d {
		if _, err := c.Write(msg); err != nil {
			c.Abort()
			return TimedResult{}, fmt.Errorf("write: %w", err)
		}
		sent++
	}
	if _, err := c.CloseAndWait(ctx); err != nil {
		c.Abort()
		return TimedResult{}, fmt.Errorf("close: %w", err)
	}
	rv := <-got
	if rv.err != nil {
		return TimedResult{}, fmt.Errorf("read: %w", rv.err)
	}
	r := rv.r
	r.Sent, r.Elapsed = sent, rv.end.Sub(start)
	r.PeerDrops = c.Stats().PeerDrops
	if r.Delivered > r.Sent {
		return TimedResult{}, fmt.Errorf("delivered %d datagrams of %d written", r.Delivered, r.Sent)
	}
	return r, nil
}

// TCPTimed is the reference: our TCP over the same link, writing for d,
// then half-closing; it counts what the server read up to end-of-stream.
func TCPTimed(mtu int, d time.Duration) (TimedResult, error) {
	return tcpTimedOn(d, func() (*oursPair, error) { return newOurs(mtu) })
}

// tcpTimedOn is TCPTimed between the stacks mk makes.
func tcpTimedOn(d time.Duration, mk func() (*oursPair, error)) (TimedResult, error) {
	p, err := mk()
	if err != nil {
		return TimedResult{}, err
	}
	defer p.Close()
	l, err := p.Listen(benchPort)
	if err != nil {
		return TimedResult{}, err
	}
	defer l.Close()
	type recv struct {
		n   int64
		end time.Time
		err error
	}
	got := make(chan recv, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- recv{err: err}
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(d + time.Minute))
		n, err := io.CopyBuffer(io.Discard, c, make([]byte, 256<<10))
		got <- recv{n, time.Now(), err}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := p.Dial(ctx, benchPort)
	if err != nil {
		return TimedResult{}, fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	c.SetWriteDeadline(time.Now().Add(d + time.Minute))
	buf := make([]byte, 256<<10)
	start := time.Now()
	for time.Since(start) < d {
		if _, err := c.Write(buf); err != nil {
			return TimedResult{}, fmt.Errorf("write: %w", err)
		}
	}
	c.(interface{ CloseWrite() error }).CloseWrite()
	rv := <-got
	if rv.err != nil {
		return TimedResult{}, fmt.Errorf("read: %w", rv.err)
	}
	return TimedResult{Bytes: rv.n, Elapsed: rv.end.Sub(start)}, nil
}
