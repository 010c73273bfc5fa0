//go:build race

package tcp

// raceEnabled: the race detector makes sync.Pool drop a share of the
// buffers put back, on purpose, so allocation counts mean nothing.
const raceEnabled = true
