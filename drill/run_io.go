package drill

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
)

// The data calls of the simulator backend: write and read (and sendmsg
// and recvmsg, which move the sum of their iovecs), blocking or not.

func (d *driver) write(s *socket, n Arg) (int64, error) {
	conn, err := d.conn(s)
	if err != nil {
		return 0, err
	}
	if n.Kind != ArgInt || n.Int < 0 || n.Int > 1<<24 {
		return 0, errUnsupported("write length " + n.Text)
	}
	w, err := conn.Write(make([]byte, n.Int))
	if w > 0 {
		return int64(w), nil
	}
	return 0, err
}

func (d *driver) read(s *socket, n Arg) (int64, error) {
	conn, err := d.conn(s)
	if err != nil {
		return 0, err
	}
	if n.Kind != ArgInt || n.Int < 0 || n.Int > 1<<24 {
		return 0, errUnsupported("read length " + n.Text)
	}
	buf := make([]byte, n.Int)
	var r int
	if s.nonblock {
		var n64 int64
		n64, err = d.nonblocking(conn.SetReadDeadline, func() (int64, error) {
			r, err := conn.Read(buf)
			return int64(r), err
		})
		r = int(n64)
	} else {
		r, err = conn.Read(buf)
	}
	if r > 0 || errors.Is(err, io.EOF) {
		return int64(r), nil
	}
	return 0, err
}

// nonblocking runs op, a Read or an Accept, as on an O_NONBLOCK socket:
// if op is still blocked once every ready goroutine has run, a deadline
// in the past (expire) makes it fail, which is EAGAIN.
func (d *driver) nonblocking(expire func(time.Time) error, op func() (int64, error)) (int64, error) {
	var mu sync.Mutex
	returned := false
	t := d.be.NewTimer(func() {
		mu.Lock()
		defer mu.Unlock()
		if !returned {
			expire(time.Unix(1, 0)) //nolint:errcheck // a closed socket fails op anyway
		}
	})
	t.Reset(d.be.Now())
	n, err := op()
	mu.Lock()
	returned = true
	mu.Unlock()
	t.Stop()
	expire(time.Time{}) //nolint:errcheck // as above
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return 0, syscall.EAGAIN
	}
	return n, err
}

// acceptOn runs a listener's accept as the socket's mode asks: blocking,
// or non-blocking through nonblocking (EAGAIN when nothing is queued).
func acceptOn[C any](d *driver, nonblock bool, expire func(time.Time) error, accept func() (C, error)) (C, error) {
	var conn C
	op := func() (int64, error) {
		var err error
		conn, err = accept()
		return 0, err
	}
	var err error
	if nonblock {
		_, err = d.nonblocking(expire, op)
	} else {
		_, err = op()
	}
	return conn, err
}

// msgLen reads the bytes a sendmsg or recvmsg line moves: the sum of its
// iovec lengths, {msg_name(...)=..., msg_iov(N)=[{..., LEN}...],
// msg_flags=0}, with no control data and no flags; anything else is
// unsupported.
func msgLen(c *Call) (Arg, error) {
	msg := c.arg(1)
	unsup := errUnsupported(c.Name + " " + shorten(msg.Text))
	if msg.Kind != ArgStruct || !zeroFlags(c.arg(2)) {
		return Arg{}, unsup
	}
	var total int64
	for _, f := range msg.Fields {
		switch {
		case f.Name == "msg_name":
		case f.Name == "msg_flags" && zeroFlags(f.Value):
		case f.Name == "msg_control" && f.Value.Kind == ArgList && len(f.Value.Elems) == 0:
		case f.Name == "msg_iov" && f.Value.Kind == ArgList:
			for _, iov := range f.Value.Elems {
				if iov.Kind != ArgStruct || len(iov.Fields) != 2 || iov.Fields[1].Value.Kind != ArgInt {
					return Arg{}, unsup
				}
				total += iov.Fields[1].Value.Int
			}
		default:
			return Arg{}, unsup
		}
	}
	return Arg{Kind: ArgInt, Int: total, Text: fmt.Sprint(total)}, nil
}
