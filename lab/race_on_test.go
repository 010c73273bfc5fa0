//go:build race

package lab

// raceEnabled is set when the race detector is on: the memory tests then
// echo less.
const raceEnabled = true
