package stack

import (
	"net"
	"time"

	"github.com/teardown-lab/teardown/clock"
)

// The socket options Go's net.TCPConn has beyond net.Conn, with its
// meaning of zero and negative values; each fails with net.ErrClosed after
// Close.

// Keepalive defaults of Go's net package (dial.go), for a zero Idle,
// Interval or Count: probes after 15 s idle, every 15 s, 9 of them.
const (
	goKeepAliveIdle     = 15 * time.Second
	goKeepAliveInterval = 15 * time.Second
	goKeepAliveCount    = 9
)

// SetKeepAliveConfig turns keepalive probes on or off and sets their
// timing (RFC 1122 §4.2.3.6; Linux TCP_KEEPIDLE, TCP_KEEPINTVL,
// TCP_KEEPCNT), as net.TCPConn.SetKeepAliveConfig does: a zero Idle,
// Interval or Count means Go's default (15 s, 15 s, 9), a negative one
// leaves that setting as it is. After Count unanswered probes the
// connection is reset and calls fail with ETIMEDOUT.
func (c *TCPConn) SetKeepAliveConfig(cfg net.KeepAliveConfig) error {
	idle := orDefault(cfg.Idle, goKeepAliveIdle)
	interval := orDefault(cfg.Interval, goKeepAliveInterval)
	count := cfg.Count
	if count == 0 {
		count = goKeepAliveCount
	}
	return c.setOption(func(now clock.Instant) {
		c.core.SetKeepAliveTiming(now, idle, interval, count)
		c.core.SetKeepAlive(now, cfg.Enable)
	})
}

// SetKeepAlivePeriod sets the idle time before the first keepalive probe
// and the time between probes, as net.TCPConn.SetKeepAlivePeriod does on
// Linux; it does not turn keepalive on.
func (c *TCPConn) SetKeepAlivePeriod(d time.Duration) error {
	return c.setOption(func(now clock.Instant) { c.core.SetKeepAliveTiming(now, d, d, 0) })
}

// SetUserTimeout sets how long sent data may stay unacknowledged before
// the connection gives up and calls fail with ETIMEDOUT (RFC 5482; Linux
// TCP_USER_TIMEOUT, measured from the first retransmission); zero leaves
// only the retransmission limit, TCPOptions.Retries. The stack-wide
// default is TCPOptions.UserTimeout.
func (c *TCPConn) SetUserTimeout(d time.Duration) error {
	return c.setOption(func(clock.Instant) { c.core.SetUserTimeout(d) })
}

// SetReadBuffer sets the size in bytes of the receive buffer (SO_RCVBUF),
// at least two segments. The window scale was fixed by the handshake, so
// a larger buffer is advertised only as far as the scale reaches; a
// smaller one takes effect as the application reads, never by taking back
// window already advertised.
func (c *TCPConn) SetReadBuffer(bytes int) error {
	return c.setOption(func(clock.Instant) { c.core.SetRecvBuffer(bytes) })
}

// SetWriteBuffer sets the size in bytes of the send buffer (SO_SNDBUF),
// at least one segment: Write blocks once that much is queued unsent or
// unacknowledged. Data queued beyond a smaller size stays and is sent.
func (c *TCPConn) SetWriteBuffer(bytes int) error {
	return c.setOption(func(clock.Instant) {
		c.core.SetSendBuffer(bytes)
		c.wake(wakeWriters) // a larger buffer has room for a blocked Write
	})
}

// SetCork holds back segments shorter than the MSS while on, whether or
// not data is in flight, so that several writes leave as full segments
// (Linux TCP_CORK); turning it off sends what was held. A close sends it
// too, with the FIN.
func (c *TCPConn) SetCork(on bool) error {
	return c.setOption(func(clock.Instant) { c.core.SetCork(on) })
}

// orDefault is d, or def for a zero d (a negative d stays negative: the
// core leaves the setting alone).
func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
