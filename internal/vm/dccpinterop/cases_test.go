//go:build linux

package dccpinterop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"syscall"
	"time"

	"github.com/teardown-lab/teardown/internal/vm/kdccp"
	"github.com/teardown-lab/teardown/stack"
	"golang.org/x/sys/unix"
)

var cases = []interopCase{
	{"we dial Linux, CCID 2: handshake, data both ways, we close", func(e *env, p uint16) (string, error) { return dataCase(e, p, 2, true) }, false},
	{"we dial Linux, CCID 3: handshake, data both ways, we close", func(e *env, p uint16) (string, error) { return dataCase(e, p, 3, true) }, true},
	{"Linux dials us, CCID 2: handshake, data both ways, we close", func(e *env, p uint16) (string, error) { return dataCase(e, p, 2, false) }, false},
	{"Linux dials us, CCID 3: handshake, data both ways, we close", func(e *env, p uint16) (string, error) { return dataCase(e, p, 3, false) }, true},
	{"Linux server closes (CloseReq) while we hold unread data", func(e *env, p uint16) (string, error) { return linuxClosesCase(e, p, true, false) }, false},
	{"Linux server closes (Close, server timewait) while we hold unread data", func(e *env, p uint16) (string, error) { return linuxClosesCase(e, p, true, true) }, false},
	{"Linux client closes (Close) while we hold unread data", func(e *env, p uint16) (string, error) { return linuxClosesCase(e, p, false, false) }, false},
	{"we close as server (CloseReq) while Linux holds unread data", func(e *env, p uint16) (string, error) { return weCloseCase(e, p, false) }, false},
	{"we close as client (Close) while Linux holds unread data", func(e *env, p uint16) (string, error) { return weCloseCase(e, p, true) }, false},
	{"we close with unread data: Reset(Aborted), Linux sees ECONNRESET", abortByUsCase, false},
	{"Linux closes with unread data: Reset(Aborted), we see ECONNRESET", abortByLinuxCase, false},
	{"simultaneous close, we are the client", func(e *env, p uint16) (string, error) { return simultaneousCase(e, p, true) }, false},
	{"simultaneous close, Linux is the client", func(e *env, p uint16) (string, error) { return simultaneousCase(e, p, false) }, false},
	{"wrong service code both ways: Reset(Bad Service Code), EBADRQC", badServiceCase, false},
	{"IPv6: we dial Linux, CCID 2: handshake, data both ways, we close", ipv6Case, false},
	{"loss: CCID 2, one data packet in 8 lost each way", lossCase, false},
	{"reordering: CCID 3, one of Linux's data packets in 5 one place late, no loss event", reorderCase, false},
}

// pair is one connection between our stack and the kernel.
type pair struct {
	ours   *stack.DCCPConn
	theirs *kdccp.Socket
	close  func()
}

// connect opens a connection: we dial a kernel listener (weDial) or the
// kernel dials our listener.
func connect(e *env, port uint16, ccid uint8, weDial, ourServerTW, theirServerTW bool) (*pair, error) {
	o := kdccp.Options{Service: 42, CCID: ccid, Timeout: 10 * time.Second}
	if weDial {
		l, err := kdccp.Listen(netip.AddrPortFrom(e.kernel(), port), o, 4)
		if err != nil {
			return nil, err
		}
		type acc struct {
			s   *kdccp.Socket
			err error
		}
		ch := make(chan acc, 1)
		go func() { s, _, err := l.Accept(); ch <- acc{s, err} }()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := e.s.DialDCCP(ctx, netip.AddrPortFrom(e.kernel(), port), stack.DCCPOptions{Service: 42, CCID: int(ccid)})
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("our dial: %w", err)
		}
		a := <-ch
		if a.err != nil {
			l.Close()
			return nil, a.err
		}
		if theirServerTW {
			// Linux accepts DCCP_SOCKOPT_SERVER_TIMEWAIT only on a
			// server's socket (EOPNOTSUPP before listen): set it on the
			// accepted one.
			if err := unix.SetsockoptInt(a.s.Fd(), kdccp.SolDCCP, kdccp.OptServerTimewait, 1); err != nil {
				l.Close()
				return nil, fmt.Errorf("server timewait: %w", err)
			}
		}
		return &pair{ours: c, theirs: a.s, close: func() { a.s.Close(); l.Close() }}, nil
	}
	l, err := e.s.ListenDCCP(port, stack.DCCPListenOptions{Services: []uint32{42}, CCID: int(ccid), ServerTimewait: ourServerTW})
	if err != nil {
		return nil, err
	}
	type dial struct {
		s   *kdccp.Socket
		err error
	}
	ch := make(chan dial, 1)
	go func() { s, err := kdccp.Dial(netip.AddrPortFrom(e.ours(), port), o); ch <- dial{s, err} }()
	d := <-ch
	if d.err != nil {
		l.Close()
		return nil, fmt.Errorf("Linux dial: %w", d.err)
	}
	c, err := acceptWithin(l, 10*time.Second)
	if err != nil {
		d.s.Close()
		return nil, err
	}
	return &pair{ours: c, theirs: d.s, close: func() { d.s.Close(); l.Close() }}, nil
}

func acceptWithin(l *stack.DCCPListener, d time.Duration) (*stack.DCCPConn, error) {
	type acc struct {
		c   *stack.DCCPConn
		err error
	}
	ch := make(chan acc, 1)
	go func() { c, err := l.AcceptDCCP(); ch <- acc{c, err} }()
	select {
	case a := <-ch:
		return a.c, a.err
	case <-time.After(d):
		l.Close()
		return nil, errors.New("our accept timed out")
	}
}

// kernelRead reads datagrams until the kernel reports the end (0 bytes)
// or an error; it returns them and SO_ERROR.
func kernelRead(s *kdccp.Socket) ([]string, error, error) {
	var got []string
	buf := make([]byte, 2000)
	for {
		n, err := s.Recv(buf)
		if err != nil {
			return got, err, nil
		}
		if n == 0 {
			return got, nil, s.SoError()
		}
		got = append(got, string(buf[:n]))
	}
}

func ourRead(c *stack.DCCPConn) ([]string, error) {
	c.SetReadDeadline(deadline())
	var got []string
	buf := make([]byte, 2000)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return got, err
		}
		got = append(got, string(buf[:n]))
	}
}

func want(got []string, n int, prefix string) error {
	if len(got) != n {
		return fmt.Errorf("%d datagrams %q, want %d", len(got), got, n)
	}
	for i, g := range got {
		if g != fmt.Sprintf("%s %d", prefix, i) {
			return fmt.Errorf("datagram %d is %q", i, g)
		}
	}
	return nil
}

// dataCase: handshake, 10 datagrams each way (boundaries kept), then we
// close and the kernel sees the end.
func dataCase(e *env, port uint16, ccid uint8, weDial bool) (string, error) {
	p, err := connect(e, port, ccid, weDial, false, false)
	if err != nil {
		return "", err
	}
	defer p.close()
	tx, rx, err := p.theirs.CCIDs()
	if err != nil || tx != int(ccid) || rx != int(ccid) {
		return "", fmt.Errorf("kernel CCIDs tx %d rx %d (%v), want %d", tx, rx, err, ccid)
	}
	const n = 10
	for i := range n {
		if err := p.theirs.Send([]byte(fmt.Sprintf("from linux %d", i))); err != nil {
			return "", err
		}
		time.Sleep(5 * time.Millisecond) // the kernel's 5-packet queue answers EAGAIN when full
	}
	p.ours.SetReadDeadline(deadline())
	buf := make([]byte, 2000)
	var got []string
	for range n {
		k, err := p.ours.Read(buf)
		if err != nil {
			return "", fmt.Errorf("our read after %d: %w", len(got), err)
		}
		got = append(got, string(buf[:k]))
	}
	if err := want(got, n, "from linux"); err != nil {
		return "", fmt.Errorf("we read: %w", err)
	}
	for i := range n {
		if _, err := p.ours.Write([]byte(fmt.Sprintf("from us %d", i))); err != nil {
			return "", fmt.Errorf("our write %d: %w", i, err)
		}
	}
	got = got[:0]
	for range n {
		k, err := p.theirs.Recv(buf)
		if err != nil || k == 0 {
			return "", fmt.Errorf("kernel recv after %d: %d, %v", len(got), k, err)
		}
		got = append(got, string(buf[:k]))
	}
	if err := want(got, n, "from us"); err != nil {
		return "", fmt.Errorf("Linux read: %w", err)
	}
	// Linux holds our Close in PASSIVE_CLOSE(REQ) until its application
	// reads the end and closes: that runs beside our close.
	type end struct {
		rest        []string
		rerr, soerr error
	}
	kch := make(chan end, 1)
	go func() {
		rest, rerr, soerr := kernelRead(p.theirs)
		p.theirs.Close()
		kch <- end{rest, rerr, soerr}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := p.ours.CloseAndWait(ctx)
	if err != nil || rep.How != "closed" {
		return "", fmt.Errorf("our close: %v, %v", rep, err)
	}
	if k := <-kch; len(k.rest) != 0 || k.rerr != nil || k.soerr != nil {
		return "", fmt.Errorf("kernel after our close: %q, %v, SO_ERROR %v", k.rest, k.rerr, k.soerr)
	}
	return fmt.Sprintf("CCID %d both ways; 10+10 datagrams; we end %s (%s)", ccid, rep.State, rep.How), nil
}

// linuxClosesCase: the kernel sends 5 datagrams and closes (as server:
// CloseReq, or Close with server timewait; as client: Close) before we
// read; we must read all 5, then end-of-stream, then close cleanly.
func linuxClosesCase(e *env, port uint16, linuxServer, serverTW bool) (string, error) {
	p, err := connect(e, port, 2, linuxServer, false, serverTW)
	if err != nil {
		return "", err
	}
	defer p.close()
	for i := range 5 {
		if err := p.theirs.Send([]byte(fmt.Sprintf("d %d", i))); err != nil {
			return "", err
		}
	}
	time.Sleep(100 * time.Millisecond)
	p.theirs.Close()
	time.Sleep(300 * time.Millisecond) // our application is busy
	state := p.ours.State()
	got, err := ourRead(p.ours)
	if !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("our read ended with %v after %q, want end-of-stream", err, got)
	}
	if err := want(got, 5, "d"); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := p.ours.CloseAndWait(ctx)
	if err != nil || rep.How != "closed" || rep.UnreadDiscarded != 0 {
		return "", fmt.Errorf("our close: %v, %v", rep, err)
	}
	return fmt.Sprintf("we were in %s, read 5 + EOF, ended %s (%s)", state, rep.State, rep.How), nil
}

// weCloseCase: we send 5 datagrams and close (client: Close; server:
// CloseReq) before the kernel reads; the kernel reads all 5, then the end.
func weCloseCase(e *env, port uint16, weClient bool) (string, error) {
	p, err := connect(e, port, 2, weClient, false, false)
	if err != nil {
		return "", err
	}
	defer p.close()
	for i := range 5 {
		if _, err := p.ours.Write([]byte(fmt.Sprintf("d %d", i))); err != nil {
			return "", err
		}
	}
	p.ours.Close()
	time.Sleep(300 * time.Millisecond) // the kernel's application is busy
	got, rerr, soerr := kernelRead(p.theirs)
	if err := want(got, 5, "d"); err != nil || rerr != nil || soerr != nil {
		return "", fmt.Errorf("Linux read %q, %v, SO_ERROR %v (%v)", got, rerr, soerr, err)
	}
	p.theirs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := p.ours.CloseAndWait(ctx)
	if err != nil || rep.How != "closed" {
		return "", fmt.Errorf("our close: %v, %v", rep, err)
	}
	return fmt.Sprintf("Linux read 5 + end, SO_ERROR 0; we end %s (%s)", rep.State, rep.How), nil
}

// abortByUsCase: the kernel sends 3 datagrams; we close without reading:
// Reset(Aborted); the kernel's reader sees the end with ECONNRESET.
func abortByUsCase(e *env, port uint16) (string, error) {
	p, err := connect(e, port, 2, true, false, false)
	if err != nil {
		return "", err
	}
	defer p.close()
	for i := range 3 {
		if err := p.theirs.Send([]byte(fmt.Sprintf("d %d", i))); err != nil {
			return "", err
		}
	}
	time.Sleep(200 * time.Millisecond)
	p.ours.Close()
	rep := p.ours.Report()
	_, rerr, soerr := kernelRead(p.theirs)
	if !errors.Is(soerr, syscall.ECONNRESET) || rep.UnreadDiscarded != 3 {
		return "", fmt.Errorf("Linux read error %v, SO_ERROR %v; our report %v", rerr, soerr, rep)
	}
	return fmt.Sprintf("we: %s (%s), 3 unread discarded; Linux SO_ERROR ECONNRESET", rep.How, rep.CodeName), nil
}

// abortByLinuxCase: we send 3 datagrams; the kernel closes without
// reading: Reset(Aborted); our read sees ECONNRESET.
func abortByLinuxCase(e *env, port uint16) (string, error) {
	p, err := connect(e, port, 2, true, false, false)
	if err != nil {
		return "", err
	}
	defer p.close()
	for i := range 3 {
		if _, err := p.ours.Write([]byte(fmt.Sprintf("d %d", i))); err != nil {
			return "", err
		}
	}
	time.Sleep(200 * time.Millisecond)
	p.theirs.Close()
	_, err = ourRead(p.ours)
	rep := p.ours.Report()
	if !errors.Is(err, syscall.ECONNRESET) {
		return "", fmt.Errorf("our read: %v, report %v", err, rep)
	}
	return fmt.Sprintf("our read: ECONNRESET; report %s (%s)", rep.How, rep.CodeName), nil
}

// simultaneousCase: both ends close at once (the server with server
// timewait, so both send Close). The client must break the tie; the
// close must end in well under the 64 s of a ping-pong.
func simultaneousCase(e *env, port uint16, weClient bool) (string, error) {
	p, err := connect(e, port, 2, weClient, !weClient, weClient)
	if err != nil {
		return "", err
	}
	defer p.close()
	start := time.Now()
	holdClose.Store(int64(100 * time.Millisecond)) // the kernel's Close crosses ours
	defer holdClose.Store(0)
	go func() {
		time.Sleep(20 * time.Millisecond)
		p.theirs.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := p.ours.CloseAndWait(ctx)
	took := time.Since(start)
	if err != nil {
		return "", fmt.Errorf("our close did not end in 30 s: %v (%v)", rep, err)
	}
	st := p.ours.Stats()
	// The client breaks the tie with Reset (Linux's dccp_rcv_close, seed
	// 001 §4.1): we as client send it and end CLOSED; as server we get it
	// and end in TIMEWAIT. No Close is retransmitted.
	if weClient && (st.ResetsSent != 1 || rep.State != "CLOSED") || !weClient && (st.ResetsSent != 0 || rep.State != "TIMEWAIT") || st.Retransmits != 0 {
		return "", fmt.Errorf("tie not broken by the client: %v, %d Resets sent, %d retransmissions", rep, st.ResetsSent, st.Retransmits)
	}
	return fmt.Sprintf("ended %s (%s) after %v; we sent %d Resets, retransmitted %d times", rep.State, rep.How, took.Round(time.Millisecond), st.ResetsSent, st.Retransmits), nil
}

// badServiceCase: we dial with a service code the kernel does not listen
// for, and the kernel dials us with one we do not accept.
func badServiceCase(e *env, port uint16) (string, error) {
	l, err := kdccp.Listen(netip.AddrPortFrom(kernelAddr, port), kopts(0), 4)
	if err != nil {
		return "", err
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = e.s.DialDCCP(ctx, netip.AddrPortFrom(kernelAddr, port), stack.DCCPOptions{Service: 7})
	if !errors.Is(err, syscall.EBADRQC) {
		return "", fmt.Errorf("our dial with a wrong service code: %v, want EBADRQC", err)
	}
	ol, err := e.s.ListenDCCP(port+100, stack.DCCPListenOptions{Services: []uint32{42}})
	if err != nil {
		return "", err
	}
	defer ol.Close()
	o := kopts(0)
	o.Service = 7
	_, kerr := kdccp.Dial(netip.AddrPortFrom(ourAddr, port+100), o)
	if !errors.Is(kerr, syscall.EBADRQC) {
		return "", fmt.Errorf("Linux dial with a wrong service code: %v, want EBADRQC", kerr)
	}
	return "both ways EBADRQC", nil
}
