package stack_test

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/profile"
	"github.com/teardown-lab/teardown/simrun"
	"github.com/teardown-lab/teardown/stack"
)

const backlogPort = 9

// backlogRow is one row of the seed's table (docs/scenarios.md, seed 003): what the
// client does while its connection waits in the backlog, and what the
// server's accept, first read and second read then return.
type backlogRow struct {
	id                   string
	accept, read1, read2 string
}

// seedTable is the seed 003_*'s table, i.e. the vos-17.1 profile. "—"
// means the call is not made (the one before blocked, or returned EOF).
// For the "gone" rows after an EOF the second column is what a write
// draws instead of a read. backlog-data-fin-gone is the slow reader here
// (the client's RST lands before the first read); the fast reader is
// TestBacklogDataFinGoneFastReader.
var seedTable = []backlogRow{
	{"backlog-nothing", "returns", "blocks", "—"},
	{"backlog-data", "returns", "data", "blocks"},
	{"backlog-fin", "returns", "EOF", "—"},
	{"backlog-data-fin", "returns", "data", "EOF"},
	{"backlog-data-fin-gone", "returns", "reset", "reset"},
	{"backlog-fin-gone", "returns", "EOF", "write draws RST"},
	{"backlog-data-rst", "blocks", "—", "—"},
	{"backlog-rst", "blocks", "—", "—"},
}

// linuxTable is what the Linux kernel does for the same rows (checked
// against the kernel by TestBacklogKernelJudge): the FIN is acknowledged
// at once, no duplicate ACK at accept, and a reset connection stays in
// the accept queue.
var linuxTable = []backlogRow{
	{"backlog-nothing", "returns", "blocks", "—"},
	{"backlog-data", "returns", "data", "blocks"},
	{"backlog-fin", "returns", "EOF", "—"},
	{"backlog-data-fin", "returns", "data", "EOF"},
	{"backlog-data-fin-gone", "returns", "data", "EOF"},
	{"backlog-fin-gone", "returns", "EOF", "write draws RST"},
	{"backlog-data-rst", "returns", "data", "reset"},
	{"backlog-rst", "returns", "reset", "EOF"},
}

// backlogClient plays a row's client on an established connection: what
// it does while the server has not accepted yet. sleep waits in the
// driver's time (virtual or real).
func backlogClient(id string, c *stack.TCPConn, sleep func(time.Duration)) {
	switch id {
	case "backlog-nothing":
	case "backlog-data":
		c.Write([]byte("hello"))
	case "backlog-fin":
		c.CloseWrite()
	case "backlog-data-fin":
		c.Write([]byte("hello"))
		c.CloseWrite()
	case "backlog-data-fin-gone":
		c.Write([]byte("hello"))
		c.Close()
		sleep(2 * time.Second) // the FIN is retransmitted meanwhile if held
		c.Vanish()
	case "backlog-fin-gone":
		c.Close()
		sleep(2 * time.Second)
		c.Vanish()
	case "backlog-data-rst":
		c.Write([]byte("hello"))
		sleep(100 * time.Millisecond)
		c.SetLinger(0)
		c.Close()
	case "backlog-rst":
		c.SetLinger(0)
		c.Close()
	}
}

// readResult names what a read returned, as the seed's table does.
func readResult(n int, err error) string {
	switch {
	case n > 0:
		return "data"
	case err == io.EOF:
		return "EOF"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case err != nil:
		return err.Error()
	}
	return "zero read"
}

// backlogServer is the row's server once it accepts: two reads (a pause
// between them, and before the first unless fast), or after an EOF a
// write, then whether an RST came back. It fills res as it goes, so a
// call that blocks forever leaves its column "blocks".
type backlogServer struct {
	accept, read1, read2 string
}

func newBacklogServer() *backlogServer {
	return &backlogServer{accept: "blocks", read1: "—", read2: "—"}
}

func (b *backlogServer) row(id string) backlogRow {
	return backlogRow{id, b.accept, b.read1, b.read2}
}

// serverConn is what serve needs of an accepted connection: ours or the
// kernel's (*net.TCPConn).
type serverConn interface {
	Read([]byte) (int, error)
	Write([]byte) (int, error)
	SetReadDeadline(time.Time) error
}

// serve runs after accept returned c. blockAfter, when positive, is how
// long a read may wait before it counts as "blocks" (real time); on
// netsim it is zero and a read that never returns shows as
// simrun.ErrDeadlock. rstsFromClient counts the RSTs the client's host
// sent for no connection.
func (b *backlogServer) serve(c serverConn, fast bool, sleep func(time.Duration), now func() time.Time,
	blockAfter time.Duration, rstsFromClient func() uint64) {
	b.accept = "returns"
	if !fast {
		sleep(time.Second)
	}
	buf := make([]byte, 64)
	read := func(col *string) bool {
		*col = "blocks"
		if blockAfter > 0 {
			c.SetReadDeadline(now().Add(blockAfter))
		}
		n, err := c.Read(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return false
		}
		*col = readResult(n, err)
		return err != io.EOF
	}
	if !read(&b.read1) {
		if b.read1 == "EOF" {
			// The seed's last column for a vanished client: "any attempt
			// to write to the socket ... will result in a reset".
			before := rstsFromClient()
			c.Write([]byte("late"))
			sleep(time.Second)
			if rstsFromClient() > before {
				b.read2 = "write draws RST"
			}
		}
		return
	}
	sleep(time.Second)
	read(&b.read2)
}

// runBacklogRowSim plays a row on netsim: the client connects and acts,
// the server accepts 5 s later. It returns the server's results.
func runBacklogRowSim(t *testing.T, p profile.Profile, id string, fast bool) (backlogRow, *stack.TCPListener) {
	t.Helper()
	n := newSimNet(t, 3, simOpts{serverProfile: p, clientProfile: profile.Linux})
	l, err := n.server.ListenTCP(backlogPort, stack.ListenOptions{Backlog: 4})
	if err != nil {
		t.Fatal(err)
	}
	srv := newBacklogServer()
	n.run.Go(func() {
		c, err := n.client.DialTCP(context.Background(), netip.AddrPortFrom(serverAddr, backlogPort))
		if err != nil {
			t.Errorf("%s: dial: %v", id, err)
			return
		}
		backlogClient(id, c, n.run.Sleep)
	})
	n.run.Go(func() {
		n.run.Sleep(5 * time.Second)
		c, err := l.AcceptTCP()
		if err != nil {
			t.Errorf("%s: accept: %v", id, err)
			return
		}
		srv.serve(c, fast, n.run.Sleep, func() time.Time { return time.Unix(0, int64(n.run.Now())) }, 0,
			func() uint64 { return n.client.Stats().RSTsForNoConnection })
	})
	err = n.run.Run(nil)
	if err != nil && !errors.Is(err, simrun.ErrDeadlock) {
		t.Fatalf("%s: %v", id, err)
	}
	return srv.row(id), l
}

// TestBacklogSeedTable: under vos-17.1 every backlog-* row yields the
// seed's accept / first read / second read; under linux, the kernel's.
func TestBacklogSeedTable(t *testing.T) {
	for _, tc := range []struct {
		p     profile.Profile
		table []backlogRow
	}{{profile.VOS171, seedTable}, {profile.Linux, linuxTable}} {
		for _, want := range tc.table {
			t.Run(tc.p.Name+"/"+want.id, func(t *testing.T) {
				got, _ := runBacklogRowSim(t, tc.p, want.id, false)
				if got != want {
					t.Errorf("%s under %s:\n got  accept %q, read1 %q, read2 %q\n want accept %q, read1 %q, read2 %q",
						want.id, tc.p.Name, got.accept, got.read1, got.read2, want.accept, want.read1, want.read2)
				}
			})
		}
	}
}

// The timing-dependent row: a server that reads at once after accept
// gets the data, because the client's RST (drawn by the duplicate ACK
// sent at accept) is still on its way; its next read reports the reset.
// Under linux the FIN was acknowledged long ago and nothing is reset.
func TestBacklogDataFinGoneFastReader(t *testing.T) {
	got, _ := runBacklogRowSim(t, profile.VOS171, "backlog-data-fin-gone", true)
	if want := (backlogRow{"backlog-data-fin-gone", "returns", "data", "reset"}); got != want {
		t.Errorf("vos-17.1, fast reader: got %+v, want %+v (data read before the RST lands)", got, want)
	}
	got, _ = runBacklogRowSim(t, profile.Linux, "backlog-data-fin-gone", true)
	if want := (backlogRow{"backlog-data-fin-gone", "returns", "data", "EOF"}); got != want {
		t.Errorf("linux, fast reader: got %+v, want %+v", got, want)
	}
}

// Under vos-17.1 an RST takes the connection off the queue: the listener
// counts it, and nothing is left for accept.
func TestBacklogRSTRemovesQueued(t *testing.T) {
	_, l := runBacklogRowSim(t, profile.VOS171, "backlog-rst", false)
	st := l.Stats()
	if st.QueuedResets != 1 || st.AcceptQueue != 0 || st.Accepted != 0 {
		t.Errorf("vos-17.1 listener after backlog-rst: %+v, want 1 queued reset, empty queue, nothing accepted", st)
	}
}
