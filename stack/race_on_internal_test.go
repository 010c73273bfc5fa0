//go:build race

package stack

// raceEnabled: the race detector makes sync.Pool drop a share of what is
// put back, on purpose, so allocation counts mean nothing under it.
const raceEnabled = true
