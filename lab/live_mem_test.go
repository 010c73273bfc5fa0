package lab

import (
	"context"
	"io"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/link/pipe"
	"github.com/teardown-lab/teardown/profile"
	"github.com/teardown-lab/teardown/stack"
)

// liveOverPipe runs Serve's server loop for cfg on a stack at 10.9.0.2
// (server), linked by an in-process pipe to a client stack at 10.9.0.1,
// in real time: what serve does over TUN, without the device.
func liveOverPipe(t *testing.T, cfg LiveConfig) (client, server *stack.Stack, at netip.AddrPort) {
	t.Helper()
	a, b := pipe.New(1500)
	run, err := recordingHost(&cfg, netip.MustParseAddr("10.9.0.2"), a, profile.Linux)
	if err != nil {
		t.Fatal(err)
	}
	client, err = stack.New(stack.Config{Name: "client", Addrs: []netip.Addr{netip.MustParseAddr("10.9.0.1")}, Link: b,
		TCP: stack.TCPOptions{MSL: time.Millisecond}}) // no TIME-WAIT left to weigh
	if err != nil {
		t.Fatal(err)
	}
	l, err := run.h.Listen(7, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, l.Close)
	served := make(chan error, 1)
	go func() { served <- newServer(&cfg, run).run(ctx, l.Accept) }()
	t.Cleanup(func() {
		cancel()
		<-served
		stop()
		client.Close()
		run.closeAll()
	})
	return client, run.h.st, netip.MustParseAddrPort("10.9.0.2:7")
}

// heapInUse is the live heap after two collections, less the socket
// buffers the stacks hold at that moment (stack.Stats' BufferMemory: data
// in flight, sized by the transfer and the windows, not kept by serve). Two collections, because the first only moves aside
// what the buffer pools (sync.Pool) cache for reuse and the second frees
// it: blocks of the buffers auto-tuning grew in a transfer's last moments,
// cached, once took a run of TestServeLive_HeapDoesNotGrowWithBytesEchoed
// 4.4 MB over its bound.
func heapInUse(stacks ...*stack.Stack) uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	var bufs uint64
	for _, st := range stacks {
		bufs += uint64(max(st.Stats().BufferMemory, 0))
	}
	return m.HeapInuse - min(bufs, m.HeapInuse)
}

// Issue 13: live mode kept every byte and call (10.5 bytes of memory per
// byte echoed). Now the heap serve uses does not grow with what it echoes:
// between a quarter and the whole of the transfer it grows by less than
// 4 MB while three quarters of it (48 MiB, or 12 MiB with -short) pass.
func TestServeLive_HeapDoesNotGrowWithBytesEchoed(t *testing.T) {
	total := 64 << 20
	if testing.Short() || raceEnabled {
		total = 16 << 20
	}
	client, server, at := liveOverPipe(t, LiveConfig{App: Apps["echo"], Variant: "naive", Out: io.Discard})
	c, err := client.DialTCP(context.Background(), at)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		chunk := make([]byte, 64<<10)
		for i := range chunk {
			chunk[i] = byte(i * 7)
		}
		for sent := 0; sent < total; sent += len(chunk) {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
		c.CloseWrite()
	}()
	buf := make([]byte, 64<<10)
	var got int
	var quarter uint64
	for got < total {
		n, err := c.Read(buf)
		for i := range n {
			if buf[i] != byte((got+i)%len(buf)*7) {
				t.Fatalf("byte %d echoed as %d, want %d", got+i, buf[i], byte((got+i)%len(buf)*7))
			}
		}
		got += n
		if quarter == 0 && got >= total/4 {
			quarter = heapInUse(client, server)
		}
		if err != nil {
			t.Fatalf("after %d of %d bytes echoed: %v", got, total, err)
		}
	}
	end := heapInUse(client, server)
	t.Logf("heap in use: %.1f MB after %d MiB echoed, %.1f MB after %d MiB", float64(quarter)/1e6, total>>22,
		float64(end)/1e6, total>>20)
	if end > quarter+4<<20 {
		t.Errorf("the heap grew from %d to %d bytes while %d bytes were echoed: it keeps what it echoes",
			quarter, end, total-total/4)
	}
}

// Nor does it grow with the connections served: 2 000 short echo
// connections after the first 200 leave the heap within 1 MB of where it
// was (it kept 4.3 kB of transcript for each).
func TestServeLive_HeapDoesNotGrowWithConnections(t *testing.T) {
	n := 2000
	if testing.Short() || raceEnabled {
		n = 600
	}
	client, server, at := liveOverPipe(t, LiveConfig{App: Apps["echo"], Variant: "naive", Out: io.Discard})
	var after200 uint64
	for i := range n {
		c, err := client.DialTCP(context.Background(), at)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		c.Write([]byte("hello"))
		c.CloseWrite()
		b, err := io.ReadAll(c)
		c.Close()
		if err != nil || string(b) != "hello" {
			t.Fatalf("connection %d: read %q, %v", i, b, err)
		}
		if i == 199 {
			after200 = heapInUse(client, server)
		}
	}
	time.Sleep(50 * time.Millisecond) // the last connections' TIME-WAIT (2 ms) ends
	end := heapInUse(client, server)
	t.Logf("heap in use: %.2f MB after 200 connections, %.2f MB after %d", float64(after200)/1e6, float64(end)/1e6, n)
	if end > after200+1<<20 {
		t.Errorf("the heap grew from %d to %d bytes over %d connections", after200, end, n-200)
	}
}
