package analyze

import (
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/internal/wire"
)

// The text groups connections by ending, the largest group first, with
// counts in a summary line and in each group's heading, plurals right.
func TestText_GroupedByEnding(t *testing.T) {
	s := newSynth(t)
	s.tcp(true, wire.SYN, 1, 0, 65535, "") // 1: unanswered (10.0.0.1:40000)
	s.cli = netipMust("10.0.0.1:40001")
	graceful(s) // 2: fin
	s.cli = netipMust("10.0.0.1:40002")
	s.handshake() // 3: rst
	s.tcp(true, PA, 1001, 5001, 65535, "x")
	s.tcp(false, RA, 5001, 1001, 0, "")
	s.cli = netipMust("10.0.0.1:40003")
	graceful(s) // 4: fin
	var b strings.Builder
	if err := s.report(Options{}).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, want := range []string{
		"capture: pcap, 20 packets, 4 connections\n",
		"endings: fin 2, never_established 1, rst 1\n",
		"\n== fin: 2 connections ==\nconnection 2 ",
		"\n== never_established: 1 connection ==\nconnection 1 ",
		"\n== rst: 1 connection ==\nconnection 3 ",
		"client->server 1 packet, 0 data bytes;",
		"client->server 3 packets, 1 data byte;",
		"RST with 1 byte unread",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if i, j := strings.Index(text, "connection 2 "), strings.Index(text, "connection 4 "); i > j {
		t.Errorf("connection 4 before connection 2 in the fin group:\n%s", text)
	}
	for _, bad := range []string{" 1 packets", " 1 connections", " 1 bytes", " 1 data bytes"} {
		if strings.Contains(text, bad) {
			t.Errorf("text says %q:\n%s", bad, text)
		}
	}
}
