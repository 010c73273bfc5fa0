package suite

import "time"

// DCCPSlowReader is DCCPBulk with a reader slower than the sender: it
// sleeps a millisecond after every ten datagrams, so it takes at most
// about 10,000 datagrams a second (some 110 Mbit/s of 1380-byte
// datagrams), a fraction of what the sender writes. Its LostPercent is
// the share of datagrams the receive queue dropped: with Data Dropped and
// Slow Receiver (RFC 4340 §11.6, §11.7) the sender's CCID slows down to
// what the reader takes; without them it kept sending into a full queue.
func DCCPSlowReader(ccid, mtu int, d time.Duration) (TimedResult, error) {
	return dccpTransfer(ccid, mtu, d, func(n int64) {
		if n%10 == 0 {
			time.Sleep(time.Millisecond)
		}
	})
}
