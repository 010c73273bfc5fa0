//go:build !race

package stack

// raceEnabled: see race_on_internal_test.go.
const raceEnabled = false
