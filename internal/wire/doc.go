// Package wire reads and writes every packet format teardown speaks: IPv4,
// IPv6, TCP and DCCP with their options and checksums.
//
// It is the lowest layer: packets only, no state, no clock, no I/O.
//
// Reading: ParseX(b) checks a buffer and returns a view (type X []byte)
// whose accessors read fields straight out of the bytes and never panic.
// Malformed input returns an error that wraps one of the sentinels in
// errors.go, so callers can count drops by reason with errors.Is. Nothing
// reads past the slice it was given.
//
// Writing: builders take a plain struct of decoded meaning and write into a
// caller-provided buffer, returning the number of bytes written. Neither
// direction allocates.
package wire
