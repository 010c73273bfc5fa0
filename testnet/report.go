package testnet

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
)

// report logs why a test failed as far as the network knows: the seed and
// the command that replays the run, every socket of every host, the
// faults that fired and where the capture is.
func (n *Network) report(t testing.TB) {
	var b strings.Builder
	fmt.Fprintf(&b, "testnet: seed %d", n.seed)
	if !n.virtual {
		b.WriteString(" (real time: a replay draws the same faults, the timing may differ)")
	}
	fmt.Fprintf(&b, "\nreplay: %s\n", replayCommand(t.Name(), n.seed))
	b.WriteString("sockets:\n")
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  host\tproto\tlocal\tremote\tstate\tsend-q\trecv-q\tsyn-q")
	n.mu.Lock()
	hosts := append([]*Host(nil), n.hosts...)
	events := append([]string(nil), n.events...)
	n.mu.Unlock()
	for _, h := range hosts {
		name := h.name
		if h.crashed.Load() {
			name += " (crashed)"
		}
		socks := h.Stack().Sockets()
		if len(socks) == 0 {
			fmt.Fprintf(tw, "  %s\t-\t\t\t(no sockets)\t\t\t\n", name)
		}
		for _, s := range socks {
			remote, synq := "*", ""
			if s.Remote.IsValid() {
				remote = s.Remote.String()
			}
			if s.State == "LISTEN" && s.Proto == "tcp" {
				synq = fmt.Sprint(s.SYNQueue)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", name, s.Proto, s.Local, remote, s.State, s.SendQueue, s.RecvQueue, synq)
		}
	}
	tw.Flush()
	n.countMu.Lock()
	counts := make([]string, 0, len(n.counts))
	for k, v := range n.counts {
		counts = append(counts, fmt.Sprintf("%s: %d packets", k, v))
	}
	n.countMu.Unlock()
	slices.Sort(counts)
	if len(events)+len(counts) > 0 {
		b.WriteString("faults:\n")
		for _, e := range events {
			fmt.Fprintf(&b, "  %s\n", e)
		}
		for _, c := range counts {
			fmt.Fprintf(&b, "  %s\n", c)
		}
	}
	fmt.Fprintf(&b, "capture: %s (complete once the test's cleanup has run; open it with Wireshark or `teardown analyze`)", n.pcapPath)
	t.Log(b.String())
}

// replayCommand is the go test command line that reruns test name (the
// top-level test and each subtest anchored) with seed.
func replayCommand(name string, seed uint64) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexpQuote(p) + "$"
	}
	dir, _ := os.Getwd()
	pkg := ""
	if dir != "" {
		pkg = " # in " + dir
	}
	return fmt.Sprintf("go test -run '%s' -testnet.seed=%d%s", strings.Join(parts, "/"), seed, pkg)
}

// regexpQuote quotes the characters go test's -run would read as regular
// expression syntax.
func regexpQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
