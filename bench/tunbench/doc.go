// Package tunbench measures bulk TCP over a TUN device against the Linux
// kernel, in a network namespace it creates (root only): tun-send (our
// side sends to a kernel server) and tun-recv (a kernel client sends to
// us), for our stack without and with the device's offloads, for gVisor
// on its fdbased link over the same kind of device (fdbased offloads only
// on sockets, so over TUN it runs without), and for gVisor as tailscale
// runs it: TCP tuned as tailscale tunes it, on a link that offloads both
// ways (package gvtun).
//
//	TUNBENCH_REPS=5 TUNBENCH_MIB=256 go test ./tunbench -run TestTUNReport -v
package tunbench
