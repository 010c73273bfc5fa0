//go:build !linux

package udp

import "net"

// prepareSocket does nothing here: the zero-checksum filter and the drop
// count are Linux's (sock_linux.go).
func prepareSocket(*net.UDPConn) error { return nil }

const oobSize = 0

func kernelDrops([]byte) (uint64, bool) { return 0, false }
