//go:build linux

package drill

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// tcpInfo reads TCP_INFO of the socket under test from the kernel.
func (b *kernelBackend) tcpInfo(*driver) (map[string]int64, error) {
	b.mu.Lock()
	n, ok := underTest(b.fds)
	fd := b.fds[n]
	b.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("no open socket")
	}
	ti, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return nil, err
	}
	return map[string]int64{
		"tcpi_state": int64(ti.State), "tcpi_ca_state": int64(ti.Ca_state),
		"tcpi_snd_cwnd": int64(ti.Snd_cwnd), "tcpi_unacked": int64(ti.Unacked),
		"tcpi_retrans": int64(ti.Retrans), "tcpi_lost": int64(ti.Lost),
		"tcpi_sacked": int64(ti.Sacked), "tcpi_rto": int64(ti.Rto),
	}, nil
}
