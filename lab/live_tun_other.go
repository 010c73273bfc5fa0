//go:build !linux

package lab

import "errors"

// tunHost fails: TUN devices are opened through Linux's /dev/net/tun. The
// rest of the lab (the simulated runs) builds everywhere, WebAssembly
// included (teardown web).
func tunHost(*LiveConfig) (*liveRun, error) {
	return nil, errors.New("--link tun needs Linux")
}
