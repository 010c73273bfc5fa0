package tcp

import (
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
)

// Per-connection settings (setsockopt on one socket) live in the
// connection's Config like the stack-wide ones: the first setter gives the
// connection a Config of its own, copied from the shared one, so that a
// connection nobody tunes costs nothing (tcp.Conn has no room for fields
// of its own: TestConnFitsItsSizeClass).

// ownConfig returns the connection's Config, first copying it if it is
// shared with other connections.
func (c *Conn) ownConfig() *Config {
	if c.cfg.shared {
		own := *c.cfg
		own.shared = false
		c.cfg = &own
	}
	return c.cfg
}

// SetKeepAliveTiming sets when keepalive probes are sent (RFC 1122
// §4.2.3.6; Linux TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT): after idle
// without a segment from the peer, then every interval, giving up after
// count unanswered probes. A value that is zero or negative leaves that
// setting as it is. It does not turn keepalive on (SetKeepAlive does).
// An idle period that is already running is measured against the new
// idle time, as Linux does: if it has passed, the first probe is due now.
func (c *Conn) SetKeepAliveTiming(now clock.Instant, idle, interval time.Duration, count int) {
	cfg := c.ownConfig()
	if idle > 0 {
		if t := &c.timers.keepalive; *t != 0 && c.kaProbes == 0 {
			// Armed as last-heard + the old idle time: move it.
			*t = max(t.Add(idle-cfg.KeepAliveIdle), now)
		}
		cfg.KeepAliveIdle = idle
	}
	if interval > 0 {
		cfg.KeepAliveInterval = interval
	}
	if count > 0 {
		cfg.KeepAliveCount = count
	}
}

// SetUserTimeout sets how long sent data may stay unacknowledged before
// the connection gives up with ErrTimeout (RFC 5482, RFC 9293 §3.8.3;
// Linux TCP_USER_TIMEOUT); zero leaves only the retransmission limit.
func (c *Conn) SetUserTimeout(d time.Duration) {
	c.ownConfig().UserTimeout = max(d, 0)
}

// SetCork turns TCP_CORK on or off: while on, a segment shorter than the
// MSS waits even with nothing in flight (fillNew); the FIN sends it.
func (c *Conn) SetCork(on bool) {
	if c.cfg.Cork != on {
		c.ownConfig().Cork = on
	}
}

// SetSendBuffer sets how many bytes Write may queue (SO_SNDBUF), at least
// one MSS, and keeps it so (no growth with the congestion window,
// buftune.go). Data already queued beyond a smaller size stays and is
// sent; Write takes more once the queue is below the new size.
func (c *Conn) SetSendBuffer(n int) {
	cfg := c.ownConfig()
	cfg.SendBuffer, cfg.SendBufferSet = max(n, cfg.MSS), true
	c.snd.size = int32(cfg.SendBuffer)
}

// SetRecvBuffer sets how many bytes may wait for Read (SO_RCVBUF), at
// least two MSS, and turns the buffer's tuning off (buftune.go), as on
// Linux. The window scale is fixed by the handshake (RFC 7323
// §2.2): a larger buffer is advertised only up to what the scale can say,
// and before the peer's SYN arrives (SYN-SENT) the buffer is kept within
// what the scale our SYN announced covers. A smaller buffer takes effect
// as reads free room, never by moving the advertised right edge left (RFC
// 9293 §3.8.6.2.1): the ring keeps room for everything already promised.
func (c *Conn) SetRecvBuffer(n int) {
	cfg := c.ownConfig()
	cfg.recvBufferFixed = true // no tuning (buftune.go)
	c.releaseTuning()
	if c.state == SynSent {
		if shift := cfg.windowShift(); shift > 0 && !cfg.scalesForMaxBuffer() {
			n = max(n, 65535<<(shift-1)+1)
		}
		n = min(n, 65535<<cfg.windowShift())
		cfg.RecvBuffer = max(n, 2*cfg.MSS)
		c.rcv.size = int32(cfg.RecvBuffer + 1<<cfg.windowShift())
		return
	}
	cfg.RecvBuffer = max(n, 2*cfg.MSS)
	readSeq := c.rcvNxt.Add(-seqnum.Size32(c.rcv.len()))
	size := cfg.RecvBuffer + 1<<c.rcvShift
	if promised := int(c.rcvAdv.Sub(readSeq)) + 1<<c.rcvShift; promised > size {
		size = promised
	}
	c.rcv.size = int32(max(size, c.rcv.len()))
}
