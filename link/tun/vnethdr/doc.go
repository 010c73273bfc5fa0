// Package vnethdr is struct virtio_net_hdr, the 10-byte header a Linux
// TUN device opened with IFF_VNET_HDR puts before every packet in both
// directions once its offloads are on (TUN_F_CSUM, TUN_F_TSO4/6): its
// codec, the checks a header read from the kernel must pass before its
// packet is trusted, and Writev, which hands the device a header and its
// packet in one writev(2).
//
// It serves every endpoint over such a device: link/tun's, and the gVisor
// endpoint the TUN benchmark compares against (bench/gvtun, a module of
// its own, hence a public package). The codec is sans-I/O; only Writev
// (Linux) makes a system call.
package vnethdr
