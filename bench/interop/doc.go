// Package interop tests teardown's TCP against gVisor's netstack in one
// process, over an in-memory link (package gvlink), in real time: bulk
// transfers both ways with and without seeded loss, checked by hash, and
// the seed's close scenarios (echo-one) with each stack as the server.
//
// The package has only tests. gVisor behaviours that differ from Linux
// are written down next to the tests they affect.
package interop
