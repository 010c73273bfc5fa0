package stack

import (
	"testing"
)

// A Read that blocks on a connection through which a quantum has moved
// yields its processor once woken and starts a new turn; one that blocks
// before the quantum is reached does not.
func TestTurn_YieldsOnceAQuantumHasMoved(t *testing.T) {
	client, server := pipePair(t, 1500)
	c, s := connect(t, client, server)
	read := func() { readOneAfterBlocking(t, c, s) }
	s.mu.Lock()
	s.turn = turnQuantum - 1
	s.mu.Unlock()
	read()
	if got := server.Stats().TurnsYielded; got != 0 {
		t.Fatalf("a Read that blocked %d bytes short of the quantum yielded (%d)", 1, got)
	}
	s.mu.Lock()
	turn := s.turn
	s.mu.Unlock()
	if turn != turnQuantum {
		t.Fatalf("turn = %d after the read's byte, want the quantum %d", turn, turnQuantum)
	}
	server.turns.Add(1) // another connection's turn ended meanwhile
	read()
	s.mu.Lock()
	turn = s.turn
	s.mu.Unlock()
	if got := server.Stats().TurnsYielded; got != 1 || turn != 1 {
		t.Fatalf("after a quantum: %d yields and turn %d, want 1 yield and a new turn holding the byte read", got, turn)
	}
}

// A connection whose turns end with no other's in between is alone (a
// single bulk transfer): it has nobody to give way to and does not yield.
func TestTurn_AloneDoesNotYield(t *testing.T) {
	client, server := pipePair(t, 1500)
	c, s := connect(t, client, server)
	for range 3 {
		s.mu.Lock()
		s.turn = turnQuantum
		s.mu.Unlock()
		readOneAfterBlocking(t, c, s)
	}
	if got := server.Stats().TurnsYielded; got != 0 {
		t.Fatalf("a connection alone yielded %d times, want 0", got)
	}
}

// The count saturates at the quantum: a connection that never blocks
// (and so never yields) cannot overflow it.
func TestTurn_CountSaturatesAtTheQuantum(t *testing.T) {
	var c sock
	for range 10000 {
		c.moved(1 << 30)
	}
	if c.turn != turnQuantum {
		t.Fatalf("turn = %d, want %d", c.turn, turnQuantum)
	}
}

// readOneAfterBlocking has a Read on s block for want of data, then
// writes one byte from c and waits for that Read to return it.
func readOneAfterBlocking(t *testing.T, c, s *TCPConn) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := s.Read(make([]byte, 16))
		done <- err
	}()
	waitBlocked(s, &s.readers)
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
