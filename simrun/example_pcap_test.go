package simrun_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/teardown-lab/teardown/link/pcap"
)

// The README promises "same seed, same run, same pcap bytes" of its
// example: run it twice and compare the captures byte for byte.
func TestREADMEExampleWritesTheSameCaptureEveryRun(t *testing.T) {
	var first, second bytes.Buffer
	if err := echo(&first); err != nil {
		t.Fatal(err)
	}
	if err := echo(&second); err != nil {
		t.Fatal(err)
	}
	n := countPackets(t, first.Bytes())
	if n < 8 {
		t.Fatalf("the capture holds %d packets; a handshake, hello, its echo and two FINs with their ACKs are at least 8", n)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Fatalf("two runs of the README example captured different bytes (%d and %d): the run is not deterministic", first.Len(), second.Len())
	}
}

func countPackets(t *testing.T, capture []byte) int {
	t.Helper()
	r, err := pcap.NewReader(bytes.NewReader(capture))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}
