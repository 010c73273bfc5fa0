//go:build !race

package stack

const gsoRaceEnabled = false
