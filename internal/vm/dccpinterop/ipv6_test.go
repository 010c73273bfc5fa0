//go:build linux

package dccpinterop

import (
	"fmt"
	"net/netip"
	"os"

	"github.com/teardown-lab/teardown/link/tun"
	"github.com/teardown-lab/teardown/stack"
)

// The IPv6 case: a second TUN device with the kernel at fd77::1 and a
// second stack of ours at fd77::2, when the kernel has dccp_ipv6.
var (
	tunPrefix6  = netip.MustParsePrefix("fd77::1/64")
	kernelAddr6 = netip.MustParseAddr("fd77::1")
	ourAddr6    = netip.MustParseAddr("fd77::2")
)

// ipv6Case is dataCase over IPv6 (RFC 4340 §9.1's IPv6 pseudo-header,
// Linux's dccp_ipv6). Without the module it reports that, as a failure:
// the VM's module list asks for it.
func ipv6Case(e *env, port uint16) (string, error) {
	if _, err := os.Stat("/proc/net/dccp6"); err != nil {
		if _, err := os.Stat("/sys/module/dccp_ipv6"); err != nil {
			return "", fmt.Errorf("dccp_ipv6 not loaded: %v", err)
		}
	}
	dev, err := tun.Open(tun.Config{Name: "td6", KernelAddr: tunPrefix6})
	if err != nil {
		return "", err
	}
	defer dev.Close()
	s, err := stack.New(stack.Config{Name: "teardown6", Addrs: []netip.Addr{ourAddr6}, Link: traceEndpoint{dev}})
	if err != nil {
		return "", err
	}
	defer s.Close()
	e6 := &env{t: e.t, dev: dev, s: s, kernelIP: kernelAddr6, ourIP: ourAddr6}
	detail, err := dataCase(e6, port, 2, true)
	return "over IPv6: " + detail, err
}
