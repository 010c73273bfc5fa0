// Package gvlink joins teardown's link.Endpoint world to gVisor's netstack
// in one process, for the interop tests and the benchmark suite.
//
// A Bridge has two faces: Ours, a link.Endpoint for a teardown stack, and
// GVisor, a gVisor link/channel endpoint for a gVisor stack. Packets cross
// without a goroutine hop of the bridge's own: what our stack writes is
// injected into gVisor inside WritePackets (gVisor then hands it to its
// own segment processors), and what gVisor writes is drained from the
// channel endpoint's queue by the goroutine that wrote it, through the
// queue's write notification, and delivered to our stack in batches.
//
// Pair joins two gVisor stacks the same way, so that both stacks run over
// the same link model in the benchmark suite. NewStack builds a gVisor
// stack with one NIC, one IPv4 address and a default route.
//
// Loss joins a seeded drop rule to any link.Endpoint, on both directions,
// for tests that need loss on our side of the link.
package gvlink
