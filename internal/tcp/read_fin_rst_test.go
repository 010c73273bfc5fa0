package tcp

import (
	"io"
	"testing"

	"github.com/teardown-lab/teardown/profile"
)

// The seed's fix: the server shuts down its sending side (FIN) and then
// closes with unread data (RST). A reader that received the FIN before the
// RST sees the reply and then end-of-stream under Linux, whose tcp_recvmsg
// tests SOCK_DONE (set by the FIN) before sk_err.
func TestCloseWait_RSTAfterFINReadsEOF(t *testing.T) {
	h := newHarness(t, Established)
	h.recv(seg{flags: ACK | PSH | FIN, seq: remoteISS + 1, ack: localISS + 1, payload: "h"})
	h.wantState(CloseWait)
	h.recv(seg{flags: RST, seq: remoteISS + 3})
	h.wantState(Closed)
	if got, err := h.app.Read(10); got != "h" || err != nil {
		t.Fatalf("first read = %q, %v; want the queued reply", got, err)
	}
	if _, err := h.app.Read(10); err != io.EOF {
		t.Fatalf("linux: read after FIN then RST = %v, want io.EOF", err)
	}
}

// Without that rule (4.4BSD descendants return so_error first), the same
// sequence reports the reset after the data.
func TestCloseWait_RSTAfterFINReportsResetWithoutTheRule(t *testing.T) {
	p := profile.Linux
	p.Name = "bsd-like"
	p.FINBeforeResetReadsEOF = false
	h := newHarness(t, Established, withProfile(p))
	h.recv(seg{flags: ACK | PSH | FIN, seq: remoteISS + 1, ack: localISS + 1, payload: "h"})
	h.recv(seg{flags: RST, seq: remoteISS + 3})
	if got, _ := h.app.Read(10); got != "h" {
		t.Fatalf("first read = %q, want the queued reply", got)
	}
	if _, err := h.app.Read(10); err != ErrConnReset {
		t.Fatalf("read after FIN then RST = %v, want ErrConnReset", err)
	}
}
