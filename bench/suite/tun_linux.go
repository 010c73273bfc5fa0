package suite

import "github.com/teardown-lab/teardown/bench/tunbench"

// The rows of issue 15 over a TUN device against the Linux kernel
// (package tunbench: a network namespace per transfer, root only):
// tun-send, our side sending to a kernel server, and tun-recv, a kernel
// client sending to us, each with the device's offloads. "ours" is our
// stack on link/tun with offloads (tunbench.OursOffload), "gvisor-tuned"
// is gVisor as tailscale runs it, its TCP tuned as tailscale tunes it on
// a link that offloads both ways as tailscale's does (tunbench.GVisorGSO).
// The suite's own gVisor configuration has no offloading TUN link and is
// not measured. The kernel's TCP uses the host's congestion control
// (tunbench.KernelCC; bbr on these machines), which decides tun-recv.
func init() {
	Register(Measure{
		Rows:      []Row{{Measure: "tun-send", Unit: "Gbit/s"}, {Measure: "tun-recv", Unit: "Gbit/s"}},
		Stacks:    []string{Ours, GVisorTuned},
		Available: tunbench.Available,
		Take: func(cfg Config, s string) (map[string]float64, error) {
			which := tunbench.OursOffload
			if s == GVisorTuned {
				which = tunbench.GVisorGSO
			}
			out := map[string]float64{}
			for _, send := range []bool{true, false} {
				m := "tun-recv"
				if send {
					m = "tun-send"
				}
				r, err := tunbench.Transfer(which, send, cfg.BulkBytes)
				if err != nil {
					return nil, err
				}
				out[m], out[m+cpuSuffix] = r.Gbps, r.CPUPerByte
			}
			return out, nil
		},
	})
}
