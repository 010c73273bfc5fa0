package testnet_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/teardown-lab/teardown/internal/syncbuf"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/testnet"
)

// keepAliveRace is the whole test a Go developer writes (the body of
// synctest.Test): the server closes an idle keep-alive connection after
// 5 s; the client reuses it half a millisecond before the server's FIN
// reaches it, so its POST crosses the FIN. A POST is not retried.
func keepAliveRace(t *testing.T) error {
	n := testnet.New(t, testnet.Capture(&lastCapture))
	srv := n.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	srv.Config.IdleTimeout = 5 * time.Second
	resp, err := srv.Client().Post(srv.URL, "text/plain", strings.NewReader("one"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	time.Sleep(5*time.Second - 500*time.Microsecond)
	_, err = srv.Client().Post(srv.URL, "text/plain", strings.NewReader("two"))
	return err
}

var lastCapture syncbuf.Buffer

func TestKeepAliveRace(t *testing.T) {
	var first error
	var firstCapture []byte
	for i := range 100 {
		lastCapture = syncbuf.Buffer{}
		var err error
		synctest.Test(t, func(t *testing.T) { err = keepAliveRace(t) })
		capture := lastCapture.Bytes()
		if i == 0 {
			first, firstCapture = err, capture
			if err == nil {
				t.Fatal("the POST that crossed the server's idle close succeeded")
			}
			t.Logf("the client's second POST: %v", err)
			checkKeepAliveWire(t, capture)
			continue
		}
		if fmt.Sprint(err) != fmt.Sprint(first) || !bytes.Equal(capture, firstCapture) {
			t.Fatalf("run %d: error %v and %d capture bytes; run 0: %v and %d bytes", i, err, len(capture), first, len(firstCapture))
		}
	}
}

// checkKeepAliveWire finds the race on the wire: the server's FIN, then
// the client's request arriving after it and answered with RST.
func checkKeepAliveWire(t *testing.T, capture []byte) {
	t.Helper()
	var finAt, reqAt, rstAt time.Duration
	for _, s := range segments(t, capture) {
		switch {
		case s.src.Port() == 80 && s.flags.Has(wire.FIN) && finAt == 0:
			finAt = s.at
		case s.dst.Port() == 80 && s.n > 0 && finAt > 0 && reqAt == 0:
			reqAt = s.at
		case s.src.Port() == 80 && s.flags.Has(wire.RST) && reqAt > 0 && rstAt == 0:
			rstAt = s.at
		}
	}
	if finAt == 0 || reqAt == 0 || rstAt == 0 || !(finAt < reqAt+time.Millisecond && reqAt < finAt+time.Millisecond) {
		t.Errorf("want the server's FIN (%v) and the client's request (%v) crossing, then the server's RST (%v)", finAt, reqAt, rstAt)
	}
}
