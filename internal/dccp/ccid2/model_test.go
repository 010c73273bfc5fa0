package ccid2

import (
	"math/rand/v2"
	"testing"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/replay"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// model is the rule of RFC 4341 §5 computed the slow way, over every
// packet ever sent: a data packet is lost once NumDupAck packets sent
// after it are acknowledged; the window halves at most once per window.
type model struct {
	cwnd, ssthresh, limit float64
	data, acked, lost     map[seqnum.V48]bool
	high, recover         seqnum.V48
}

func (m *model) pipe() int {
	n := 0
	for s, d := range m.data {
		if d && !m.acked[s] && !m.lost[s] {
			n++
		}
	}
	return n
}

func (m *model) ack(ranges []wire.DCCPAckRange) {
	newly := 0
	for _, r := range ranges {
		if r.State != wire.DCCPAckReceived {
			continue
		}
		for s := r.Low; s.LessThanEq(r.High); s = s.Add(1) {
			if _, sent := m.data[s]; sent && !m.acked[s] {
				m.acked[s] = true
				if m.data[s] && !m.lost[s] {
					newly++
				}
			}
		}
	}
	for range newly {
		if m.cwnd < m.ssthresh {
			m.cwnd++
		} else {
			m.cwnd += 1 / m.cwnd
		}
	}
	m.cwnd = min(m.cwnd, m.limit)
	for s, d := range m.data {
		if !d || m.acked[s] || m.lost[s] {
			continue
		}
		after := 0
		for a := range m.acked {
			if s.LessThan(a) {
				after++
			}
		}
		if after >= NumDupAck {
			m.lost[s] = true
			if m.recover.LessThan(s) {
				m.ssthresh = max(m.cwnd/2, 2)
				m.cwnd = m.ssthresh
				m.recover = m.high
			}
		}
	}
}

// TestScanMatchesModel: random sends (data and pure acknowledgements),
// a lossy reordering path, and Ack Vectors built from what arrived; after
// every acknowledgement the sender's pipe and cwnd equal the model's,
// although the sender only scans from its oldest unsettled packet.
func TestScanMatchesModel(t *testing.T) {
	replay.OnFailure(t)
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 7))
		now := clock.Instant(1e18)
		tx := NewTx(1400)
		tx.SetLimit(64)
		m := &model{cwnd: tx.cwnd, ssthresh: tx.ssthresh, limit: 64,
			data: map[seqnum.V48]bool{}, acked: map[seqnum.V48]bool{}, lost: map[seqnum.V48]bool{}}
		var arrived []seqnum.V48 // at the receiver, in arrival order
		got := map[seqnum.V48]bool{}
		seq := seqnum.V48(5000)
		var head seqnum.V48
		for step := range 400 {
			for tx.CanSend(now) && rng.IntN(4) != 0 {
				data := rng.IntN(5) != 0
				tx.OnSent(now, seq, data)
				m.data[seq], m.high = data, seq
				if rng.IntN(10) != 0 { // 10 % lost
					arrived = append(arrived, seq)
				}
				seq = seq.Add(1)
			}
			if len(arrived) == 0 {
				continue
			}
			rng.Shuffle(len(arrived), func(i, j int) { // reordering within a flight
				if d := i - j; d < 3 && d > -3 {
					arrived[i], arrived[j] = arrived[j], arrived[i]
				}
			})
			for _, s := range arrived {
				got[s] = true
				if head.LessThan(s) {
					head = s
				}
			}
			arrived = arrived[:0]
			var vec []byte
			for back := 0; back < 200; {
				st := wire.DCCPAckNotReceived
				if got[head.Add(-int64(back))] {
					st = wire.DCCPAckReceived
				}
				run := 1
				for back+run < 200 && run < 64 && got[head.Add(-int64(back+run))] == (st == wire.DCCPAckReceived) {
					run++
				}
				vec = wire.AppendDCCPAckRun(vec, st, run)
				back += run
			}
			now = now.Add(1e6)
			tx.OnAck(now, head, vec)
			m.ack(wire.DCCPAckVector(vec).Ranges(head, nil))
			if tx.Pipe() != m.pipe() || tx.Cwnd() != m.cwnd {
				t.Fatalf("seed %d step %d: pipe %d cwnd %v, model %d %v", seed, step, tx.Pipe(), tx.Cwnd(), m.pipe(), m.cwnd)
			}
		}
	}
}

// TestCwndLimit: the window never grows past SetLimit, and a lower limit
// cuts it at once.
func TestCwndLimit(t *testing.T) {
	now := clock.Instant(1e18)
	tx := NewTx(1400)
	tx.SetLimit(10)
	for s := seqnum.V48(1); s <= 40; s++ {
		for !tx.CanSend(now) {
			t.Fatalf("cannot send %d: pipe %d cwnd %v", s, tx.Pipe(), tx.Cwnd())
		}
		tx.OnSent(now, s, true)
		tx.OnAck(now, s, nil)
	}
	if tx.Cwnd() != 10 {
		t.Errorf("cwnd %v after 40 acknowledged packets, want the limit 10", tx.Cwnd())
	}
	tx.SetLimit(6)
	if tx.Cwnd() != 6 {
		t.Errorf("cwnd %v after SetLimit(6)", tx.Cwnd())
	}
	tx.SetLimit(1 << 20)
	if tx.limit != MaxCwnd {
		t.Errorf("limit %v, want MaxCwnd %d", tx.limit, MaxCwnd)
	}
}
