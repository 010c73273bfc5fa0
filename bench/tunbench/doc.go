// Package tunbench measures bulk TCP over a TUN device against the Linux
// kernel, in a network namespace it creates (root only): tun-send (our
// side sends to a kernel server) and tun-recv (a kernel client sends to
// us), for our stack without and with the device's offloads, and for
// gVisor on its fdbased link over the same kind of device. gVisor's
// fdbased link offloads only on sockets (its GSO needs a packet socket),
// so over TUN it runs without; tailscale's own GSO/GRO link is not
// reproduced here (BENCHMARKS.md says what that leaves out).
//
//	TUNBENCH_REPS=5 TUNBENCH_MIB=256 go test ./tunbench -run TestTUNReport -v
package tunbench
