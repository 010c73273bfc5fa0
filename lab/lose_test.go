package lab

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// Options.Lose drops what one host sends at one instant: the packets are
// drawn as dropped, and TCP sends the data again.
func TestLose_DropsTheInstantsPacketsAndTCPRetransmits(t *testing.T) {
	const at = 2 * time.Millisecond // the client's ACK and "hello" (tcp-echo-one)
	res, err := Run("tcp-echo-one", Options{Lose: []Loss{{From: "client", At: at}}})
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Wire []struct {
			TNs     int64 `json:"t_ns"`
			From    string
			Len     int
			Dropped bool
		}
	}
	var b bytes.Buffer
	if err := res.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	dropped, resent := 0, false
	for _, w := range rep.Wire {
		lost := w.From == "client" && w.TNs == at.Nanoseconds()
		if w.Dropped != lost {
			t.Errorf("packet from %s at %d ns: dropped %v, want %v", w.From, w.TNs, w.Dropped, lost)
		}
		if lost {
			dropped++
		}
		resent = resent || w.From == "client" && w.TNs > at.Nanoseconds() && w.Len == 5
	}
	if dropped == 0 || !resent {
		t.Errorf("%d packets dropped at %v, hello sent again: %v; want some dropped and hello resent", dropped, at, resent)
	}
}

func TestLose_UnknownHostRefused(t *testing.T) {
	_, err := Run("tcp-echo-one", Options{Lose: []Loss{{From: "nobody"}}})
	if !errors.Is(err, ErrUnknown) {
		t.Errorf("Lose from an unknown host: %v, want ErrUnknown", err)
	}
}
