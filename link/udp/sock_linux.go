//go:build linux

package udp

import (
	"encoding/binary"
	"net"

	"golang.org/x/sys/unix"
)

// dropZeroChecksum is a classic BPF socket filter that drops datagrams
// whose UDP checksum field is zero. A UDP socket's filter sees the packet
// from the UDP header on, after the kernel has verified a non-zero
// checksum; IPv4 lets a sender leave the checksum out (zero), which RFC
// 6773 §3.3 forbids for DCCP-UDP: such a datagram MUST be dropped.
var dropZeroChecksum = []unix.SockFilter{
	{Code: unix.BPF_LD | unix.BPF_H | unix.BPF_ABS, K: 6}, // UDP checksum field
	{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: 0},
	{Code: unix.BPF_RET | unix.BPF_K, K: 0},          // zero: drop
	{Code: unix.BPF_RET | unix.BPF_K, K: 0xffffffff}, // keep all of it
}

// prepareSocket makes the kernel apply RFC 6773 §3.3 on receipt: it drops
// datagrams with a bad UDP checksum on its own (RFC 768), the filter drops
// those with none, and SO_RXQ_OVFL reports how many the socket lost, so
// that the drops are counted (Stats.KernelDropped). On transmission Linux
// always computes the UDP checksum (SO_NO_CHECK stays off) and sends
// 0xffff for a sum of zero, so §3.1's non-zero checksum holds.
func prepareSocket(c *net.UDPConn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		prog := unix.SockFprog{Len: uint16(len(dropZeroChecksum)), Filter: &dropZeroChecksum[0]}
		if serr = unix.SetsockoptSockFprog(int(fd), unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog); serr != nil {
			return
		}
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// oobSize is room for the SO_RXQ_OVFL control message.
var oobSize = unix.CmsgSpace(4)

// kernelDrops returns the socket's drop count carried in oob, if any (the
// kernel adds it once the count is non-zero).
func kernelDrops(oob []byte) (uint64, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0, false
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_RXQ_OVFL && len(m.Data) >= 4 {
			return uint64(binary.NativeEndian.Uint32(m.Data)), true
		}
	}
	return 0, false
}
