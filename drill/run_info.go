package drill

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/teardown-lab/teardown/stack"
)

// infoBackend is a backend that takes tcp_info snapshots: both do.
type infoBackend interface {
	// tcpInfo returns the judged fields of the socket under test.
	tcpInfo(d *driver) (map[string]int64, error)
}

// checkInfo judges a %{ }% block's assertions against a snapshot of the
// socket under test taken at the block's time.
func (d *driver) checkInfo(ev *Event) *Result {
	ib, ok := d.be.(infoBackend)
	if !ok {
		return &Result{Status: Unsupported, Line: ev.Line, Message: "tcp_info on this backend"}
	}
	info, err := ib.tcpInfo(d)
	if err != nil {
		return d.failf(ev, "tcp_info: %v", err)
	}
	var bad []string
	for _, a := range ev.Info.Asserts {
		if got := info[a.Field]; !a.holds(got) {
			bad = append(bad, fmt.Sprintf("%s is %d, expected %s %d", a.Field, got, a.Op, a.Value))
		}
	}
	if len(bad) > 0 {
		r := d.failf(ev, "%s", strings.Join(bad, "; "))
		r.Actual = strings.Join(bad, "; ")
		return r
	}
	return nil
}

// underTest is the highest-numbered open fd: the socket packetdrill
// scripts assert on is the one they opened last (the accepted or the
// connected one).
func underTest[S any](fds map[int]S) (int, bool) {
	if len(fds) == 0 {
		return 0, false
	}
	keys := make([]int, 0, len(fds))
	for k := range fds {
		keys = append(keys, k)
	}
	return slices.Max(keys), true
}

func (b *simBackend) tcpInfo(d *driver) (map[string]int64, error) {
	n, ok := underTest(d.fds)
	if !ok {
		return nil, fmt.Errorf("no open socket")
	}
	s := d.fds[n]
	switch {
	case s.conn != nil:
		return infoOf(s.conn.Info()), nil
	case s.ln != nil:
		return map[string]int64{"tcpi_state": 10}, nil // TCP_LISTEN
	}
	return map[string]int64{"tcpi_state": 7}, nil // TCP_CLOSE: not connected
}

// infoOf maps the stack's TCPInfo to tcp_info's names and units.
func infoOf(in stack.TCPInfo) map[string]int64 {
	return map[string]int64{
		"tcpi_state":    int64(in.LinuxState),
		"tcpi_ca_state": int64(in.CAState),
		"tcpi_snd_cwnd": int64(in.CWnd / max(in.MSS, 1)),
		"tcpi_unacked":  int64(in.Unacked),
		"tcpi_retrans":  int64(in.Retrans),
		"tcpi_lost":     int64(in.Lost),
		"tcpi_sacked":   int64(in.SACKed),
		"tcpi_rto":      int64(in.RTO / time.Microsecond),
	}
}
