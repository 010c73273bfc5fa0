package dccpbench

import (
	"bytes"
	"strings"
	"testing"
)

// The guest's lines come back through the console's noise, and the rows
// pair each protocol's two paths with TCP's on the same condition.
func TestSummarize_RatiosPerConditionAndPath(t *testing.T) {
	p := 2500.0
	rs := []Result{
		{Condition: "loss-1%", Proto: "ccid2", Path: UsToLinux, Bytes: 1e6, ElapsedNS: 1e9, Sent: 100, Delivered: 99, LinkLost: 3, SeqWindowStalls: 1},
		{Condition: "loss-1%", Proto: "ccid2", Path: LinuxToUs, Bytes: 2e6, ElapsedNS: 1e9, Sent: 100, Delivered: 98, LinkLost: 5, RecvQueueDrops: 2},
		{Condition: "loss-1%", Proto: "ccid3", Path: LinuxToUs, Bytes: 1e6, ElapsedNS: 1e9, Sent: 100, Delivered: 100, LossEvents: 4, LinuxP: &p},
		{Condition: "loss-1%", Proto: "ccid3", Path: UsToLinux, Err: "our close: timeout"},
		{Condition: "loss-1%", Proto: "tcp", Path: UsToLinux, Bytes: 4e6, ElapsedNS: 1e9, Retransmits: 7},
		{Condition: "loss-1%", Proto: "tcp", Path: LinuxToUs, Bytes: 8e6, ElapsedNS: 1e9, Retransmits: 9},
	}
	var out bytes.Buffer
	out.WriteString("[    3.1] random kernel line\n")
	for _, r := range rs {
		out.WriteString(r.line() + "\n")
	}
	parsed := ParseOutput(out.Bytes())
	if len(parsed) != len(rs) {
		t.Fatalf("parsed %d results of %d", len(parsed), len(rs))
	}
	rows := Summarize(parsed)
	if len(rows) != 3 {
		t.Fatalf("got %d rows, want ccid2, ccid3, tcp: %+v", len(rows), rows)
	}
	c2, c3, tcp := rows[0], rows[1], rows[2]
	if c2.Ours.Median != 8 || c2.Linux.Median != 16 || *c2.OursOverLinux != 0.5 || *c2.OursVsTCP != 0.25 || *c2.LinuxVsTCP != 0.25 {
		t.Errorf("ccid2 row: ours %v, Linux %v, ratios %v %v %v", c2.Ours, c2.Linux, *c2.OursOverLinux, *c2.OursVsTCP, *c2.LinuxVsTCP)
	}
	if c2.Counts["delivered-%/"+UsToLinux] != 99 || c2.Counts["link-lost/"+LinuxToUs] != 5 || c2.Counts["our-seqwin-stalls/"+UsToLinux] != 1 ||
		c2.Counts["our-recv-queue-drops/"+LinuxToUs] != 2 {
		t.Errorf("ccid2 counts %v", c2.Counts)
	}
	if len(c3.Failures) != 1 || c3.Failures[0] != "us-to-linux rep 0: our close: timeout" || c3.Ours != nil || c3.OursOverLinux != nil || c3.Counts["linux-p/"+LinuxToUs] != 2500 || c3.Counts["our-loss-events/"+LinuxToUs] != 4 {
		t.Errorf("ccid3 row: %+v", c3)
	}
	if tcp.OursVsTCP != nil || tcp.Counts["retransmits/"+LinuxToUs] != 9 {
		t.Errorf("tcp row: %+v", tcp)
	}
	var table bytes.Buffer
	WriteTable(&table, rows)
	if !strings.Contains(table.String(), "| loss-1% | ccid3 (1 failed) |") || !strings.Contains(table.String(), "\nfailed: loss-1% ccid3 us-to-linux rep 0: our close: timeout") {
		t.Errorf("table:\n%s", table.String())
	}
}
