package interop

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/stack"
)

const bulkBytes = 16 << 20

// stream writes n bytes of a seeded pseudo-random stream to w and returns
// their SHA-256.
func stream(w io.Writer, n int, seed uint64) ([32]byte, error) {
	var key [32]byte
	key[0], key[1] = byte(seed), byte(seed>>8)
	src := rand.NewChaCha8(key)
	h := sha256.New()
	buf := make([]byte, 64<<10)
	for n > 0 {
		b := append([]byte(nil), buf[:min(n, len(buf))]...)
		src.Read(b)
		h.Write(b)
		if _, err := w.Write(b); err != nil {
			return [32]byte{}, err
		}
		n -= len(b)
	}
	return [32]byte(h.Sum(nil)), nil
}

// sink reads r to EOF and returns the count and SHA-256 of what it read.
func sink(r io.Reader) (int64, [32]byte, error) {
	h := sha256.New()
	n, err := io.CopyBuffer(h, r, make([]byte, 64<<10))
	return n, [32]byte(h.Sum(nil)), err
}

// send is the sending side of a bulk transfer: write everything, shut
// down writing, wait for the receiver's FIN, close.
func send(c halfCloser, n int, seed uint64) ([32]byte, error) {
	defer c.Close()
	sum, err := stream(c, n, seed)
	if err != nil {
		return sum, fmt.Errorf("write: %w", err)
	}
	if err := c.CloseWrite(); err != nil {
		return sum, fmt.Errorf("shutdown: %w", err)
	}
	if _, err := io.Copy(io.Discard, c); err != nil {
		return sum, fmt.Errorf("waiting for the receiver's FIN: %w", err)
	}
	return sum, nil
}

// receive is the receiving side: read to EOF, then close.
func receive(c halfCloser) (int64, [32]byte, error) {
	defer c.Close()
	return sink(c)
}

// Every byte of a 16 MiB transfer arrives once and in order in each of
// the eight combinations: our stack as client or server, data flowing
// from client to server or back, with no loss or 2% seeded loss on our
// side of the link (both directions).
func TestBulk(t *testing.T) {
	for _, loss := range []float64{0, 0.02} {
		for _, oursClient := range []bool{true, false} {
			for _, upload := range []bool{true, false} {
				name := fmt.Sprintf("loss=%v/ours-client=%v/client-sends=%v", loss, oursClient, upload)
				t.Run(name, func(t *testing.T) { bulk(t, loss, oursClient, upload) })
			}
		}
	}
}

func bulk(t *testing.T, loss float64, oursClient, upload bool) {
	const seed = 7
	n := newNet(t, netOpts{loss: loss, seed: seed})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	const port = 5001
	var client, server halfCloser
	accepted := make(chan halfCloser, 1)
	if oursClient {
		l := n.gvListen(t, port)
		go func() {
			c, err := l.Accept()
			if err != nil {
				t.Errorf("accept: %v", err)
				close(accepted)
				return
			}
			accepted <- c.(halfCloser)
		}()
		c, err := n.oursDial(ctx, port)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		client = c
	} else {
		l, err := n.ours.ListenTCP(port, stack.ListenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			c, err := l.AcceptTCP()
			if err != nil {
				t.Errorf("accept: %v", err)
				close(accepted)
				return
			}
			accepted <- c
		}()
		c, err := n.gvDial(ctx, port)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		client = c
	}
	server = <-accepted
	if server == nil {
		t.FailNow()
	}
	deadline := time.Now().Add(testTimeout)
	client.SetDeadline(deadline)
	server.SetDeadline(deadline)
	from, to := client, server
	if !upload {
		from, to = server, client
	}
	type result struct {
		sum [32]byte
		err error
	}
	sent := make(chan result, 1)
	go func() {
		sum, err := send(from, bulkBytes, seed)
		sent <- result{sum, err}
	}()
	got, gotSum, rerr := receive(to)
	s := <-sent
	if s.err != nil {
		t.Fatalf("sender: %v", s.err)
	}
	if rerr != nil {
		t.Fatalf("receiver after %d bytes: %v", got, rerr)
	}
	if got != bulkBytes || gotSum != s.sum {
		t.Fatalf("received %d bytes with hash %x, want %d bytes with hash %x", got, gotSum[:6], bulkBytes, s.sum[:6])
	}
	if loss > 0 && n.loss.Dropped() == 0 {
		t.Fatal("the loss link dropped nothing: the lossy case was not exercised")
	}
	if st := n.ours.Stats(); loss > 0 {
		t.Logf("dropped %d packets; our retransmits %d (RTOs %d, fast %d); gVisor retransmits %d (timeouts %d)",
			n.loss.Dropped(), st.TCP.Retransmits, st.TCP.RTOs, st.TCP.FastRetransmits,
			n.gv.Stats().TCP.Retransmits.Value(), n.gv.Stats().TCP.Timeouts.Value())
	}
}
