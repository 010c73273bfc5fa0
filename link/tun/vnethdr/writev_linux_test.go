package vnethdr

import (
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// Writev gathers the header and the packet's pieces into one write; an
// empty vector is refused. (A pipe stands in for the device: link/tun's
// device tests write through a real TUN.)
func TestWritev_GathersThePieces(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	rc, err := w.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var hdr [Len]byte
	Header{Flags: NeedsCsum, CsumStart: 20, CsumOffset: 16}.Encode(hdr[:])
	pieces := [][]byte{hdr[:], []byte("ip+tcp headers|"), []byte("payload")}
	var iov []unix.Iovec
	for _, p := range pieces {
		v := unix.Iovec{Base: &p[0]}
		v.SetLen(len(p))
		iov = append(iov, v)
	}
	if err := Writev(rc, iov); err != nil {
		t.Fatal(err)
	}
	want := string(hdr[:]) + "ip+tcp headers|payload"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(r, got); err != nil || string(got) != want {
		t.Fatalf("read %q, %v; want %q", got, err, want)
	}
	if err := Writev(rc, nil); err == nil {
		t.Fatal("an empty vector was written")
	}
}
