//go:build linux

package dccpinterop

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The loss and reordering cases: the TUN device between our stack and
// Linux loses or reorders data packets (faults in trace_test.go).

// exchangeFromLinux has the kernel send n datagrams, spaced for its 5-packet
// queue, and returns the datagrams we read once want of them arrived (or
// the read deadline passed).
func exchangeFromLinux(p *pair, n, want int) ([]string, error) {
	for i := range n {
		if err := p.theirs.Send([]byte(fmt.Sprintf("from linux %d", i))); err != nil {
			return nil, err
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.ours.SetReadDeadline(deadline())
	buf := make([]byte, 2000)
	var got []string
	for len(got) < want {
		k, err := p.ours.Read(buf)
		if err != nil {
			return got, fmt.Errorf("our read after %d of %d: %w", len(got), want, err)
		}
		got = append(got, string(buf[:k]))
	}
	return got, nil
}

// closeBoth closes our side while the kernel reads to the end.
func closeBoth(p *pair) (string, error) {
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
	if k := <-kch; k.rerr != nil || k.soerr != nil {
		return "", fmt.Errorf("kernel after our close: %v, SO_ERROR %v", k.rerr, k.soerr)
	}
	return rep.State, nil
}

// lossCase: CCID 2 both ways, one data packet in 8 lost each way. DCCP
// does not retransmit: each side reads exactly what was not lost, in
// order, and the connection still closes cleanly.
func lossCase(e *env, port uint16) (string, error) {
	p, err := connect(e, port, 2, true, false, false)
	if err != nil {
		return "", err
	}
	defer p.close()
	faults.set(8, 0)
	defer faults.set(0, 0)
	const n = 48 // read after all are sent: within our receive queue of 64
	want := n - n/8
	got, err := exchangeFromLinux(p, n, want)
	if err != nil {
		return "", err
	}
	if !inOrder(got, "from linux") {
		return "", fmt.Errorf("we read %q: not in order", got)
	}
	for i := range n {
		if _, err := p.ours.Write([]byte(fmt.Sprintf("from us %d", i))); err != nil {
			return "", fmt.Errorf("our write %d: %w", i, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	buf := make([]byte, 2000)
	var theirs []string
	for len(theirs) < want {
		k, err := p.theirs.Recv(buf)
		if err != nil || k == 0 {
			return "", fmt.Errorf("kernel recv after %d of %d: %d, %v", len(theirs), want, k, err)
		}
		theirs = append(theirs, string(buf[:k]))
	}
	out, in := faults.counts()
	faults.set(0, 0)
	state, err := closeBoth(p)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("CCID 2; %d of %d datagrams lost to us, %d of %d to Linux; each side read the rest in order; we end %s",
		in, n, out, n, state), nil
}

// reorderCase: CCID 3 from Linux to us, one data packet in 5 delivered one
// place late. Every datagram arrives, and our CCID 3 receiver counts no
// loss event: a packet is lost only once NDUPACK = 3 later packets came
// (RFC 5348 §5.1).
func reorderCase(e *env, port uint16) (string, error) {
	p, err := connect(e, port, 3, true, false, false)
	if err != nil {
		return "", err
	}
	defer p.close()
	faults.set(0, 5)
	defer faults.set(0, 0)
	const n = 58 // not a multiple of 5: the last datagram is not the one held back
	got, err := exchangeFromLinux(p, n, n)
	if err != nil {
		return "", err
	}
	sorted := slices.Clone(got)
	slices.SortFunc(sorted, func(a, b string) int { return num(a) - num(b) })
	if !inOrder(sorted, "from linux") || len(sorted) != n {
		return "", fmt.Errorf("we read %q", got)
	}
	late := 0
	for i := range got {
		if i > 0 && num(got[i]) < num(got[i-1]) {
			late++
		}
	}
	if late == 0 {
		return "", fmt.Errorf("no datagram arrived out of order: the case did not reorder")
	}
	if ev := p.ours.Stats().LossEvents; ev != 0 {
		return "", fmt.Errorf("%d loss events for %d reordered datagrams: reordering counted as loss", ev, late)
	}
	faults.set(0, 0)
	state, err := closeBoth(p)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("CCID 3; %d of %d datagrams one place late, all read, 0 loss events; we end %s", late, n, state), nil
}

// inOrder reports whether got are "<prefix> <i>" with i strictly rising.
func inOrder(got []string, prefix string) bool {
	last := -1
	for _, g := range got {
		if !strings.HasPrefix(g, prefix+" ") || num(g) <= last {
			return false
		}
		last = num(g)
	}
	return true
}

// num is the number at the end of a datagram ("from linux 7" → 7).
func num(s string) int {
	var n int
	fmt.Sscanf(s[strings.LastIndexByte(s, ' ')+1:], "%d", &n)
	return n
}
