//go:build linux

package stack_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"testing"
	"time"
)

// kernelCloseFirstServer serves, in the namespace, one short exchange per
// connection and closes first (nginx with Connection: close): each
// connection leaves a TIME-WAIT on the kernel's side.
func kernelCloseFirstServer(t *testing.T, l *net.TCPListener) {
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
					return
				}
				io.WriteString(c, "HTTP/1.0 200 OK\r\n\r\nhello\n")
			}()
		}
	}()
}

// Our client opens 1,000 short connections in a row to a Linux server that
// closes first, from a range of 100 ephemeral ports: every port comes back
// ten times while Linux holds its last 4-tuple in TIME-WAIT (60 s). Linux
// takes each new SYN (RFC 6191) only if its timestamp is not older than
// the last one (PAWS); our TSvals run on one clock per pair of addresses,
// so no SYN bounces, and none pays the 1 s SYN retransmission.
func TestKernelShortConnsReuseTimeWait(t *testing.T) {
	e := newKernelEnv(t, envOpts{ephemeral: [2]uint16{41000, 41099}})
	kernelCloseFirstServer(t, e.listen(t, 8080))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var bounced, rsts, conns int
	for i := range 1000 {
		c, err := e.st.DialTCP(ctx, e.addrPort(8080))
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		if _, err := io.WriteString(c, "GET / HTTP/1.0\r\n\r\n"); err != nil {
			t.Fatalf("connection %d: write: %v", i, err)
		}
		b, err := io.ReadAll(c)
		if err != nil || len(b) == 0 {
			t.Fatalf("connection %d: read %q, %v", i, b, err)
		}
		st := c.Stats()
		c.Close()
		conns++
		if st.Retransmits > 0 || st.RSTsOut > 0 {
			bounced++
		}
		rsts += int(st.RSTsOut)
	}
	t.Logf("%d connections: %d retransmitted or reset, %d RSTs sent", conns, bounced, rsts)
	if bounced != 0 {
		t.Fatalf("%d of %d connections bounced off the kernel's TIME-WAIT (%d RSTs sent)", bounced, conns, rsts)
	}
}
