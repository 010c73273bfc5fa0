//go:build race

package stack

// gsoRaceEnabled: the race detector makes sync.Pool drop a share of what
// is put back, on purpose, so allocation counts mean nothing.
const gsoRaceEnabled = true
