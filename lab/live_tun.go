//go:build linux

package lab

import (
	"fmt"
	"net/netip"

	"github.com/teardown-lab/teardown/link/tun"
)

// tunHost builds our stack on a TUN device whose other end is the
// kernel's (Linux only).
func tunHost(cfg *LiveConfig) (*liveRun, error) {
	kernel, ours, ok := tun.HostAddrs(cfg.Net)
	if !ok {
		return nil, fmt.Errorf("--net %s has fewer than two host addresses", cfg.Net)
	}
	dev, err := tun.Open(tun.Config{Name: cfg.TunName, MTU: mtu, KernelAddr: netip.PrefixFrom(kernel, cfg.Net.Bits()),
		Offload: cfg.TunOffload})
	if err != nil {
		return nil, err
	}
	prof, err := lookupProfile(cfg.Profile, "")
	if err != nil {
		dev.Close()
		return nil, err
	}
	run, err := recordingHost(cfg, ours, dev, prof)
	if err != nil {
		return nil, err
	}
	run.peer = kernel
	return run, nil
}
