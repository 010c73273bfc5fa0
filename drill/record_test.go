package drill

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/link/pcap"
)

// A recorded run gives a capture of every packet both ways, in the
// script's order, and the lab's diagram of it.
func TestRecord_CaptureAndDiagram(t *testing.T) {
	r := runFile(t, "testdata/tcp_primes.pkt", Options{Record: true})
	if r.Status != Pass {
		t.Fatal(r)
	}
	rd, err := pcap.NewReader(bytes.NewReader(r.Pcap))
	if err != nil {
		t.Fatal(err)
	}
	var flags []string
	for {
		p, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		s, ok := sniff(p.IP)
		if !ok {
			t.Fatalf("packet %d is not TCP", p.Number)
		}
		flags = append(flags, flagText(s.flags))
	}
	// SYN, SYN-ACK, ACK, the numbers, their ACK, ERROR, the RST.
	if got := strings.Join(flags, " "); got != "S S. . P. . P. R." {
		t.Fatalf("captured %s", got)
	}
	svg := string(r.SVG())
	for _, want := range []string{"tcp_primes.pkt", "recv(10)", "close()", "RST|ACK seq=7 ack=51", "ESTABLISHED"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the diagram lacks %q", want)
		}
	}
	if plain := runFile(t, "testdata/tcp_primes.pkt", Options{}); plain.Pcap != nil || plain.SVG() != nil {
		t.Fatal("a run without Record recorded")
	}
}
