package lab

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// gateWriter blocks every write until open is closed, as a terminal that
// cannot keep up; it collects what is written.
type gateWriter struct {
	open chan struct{}
	mu   sync.Mutex
	b    strings.Builder
}

func (g *gateWriter) Write(p []byte) (int, error) {
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.b.Write(p)
}

// The transcript waits for a slow output in a ring of traceLines lines:
// beyond it lines are dropped, not kept, and one line says how many; the
// lines that must not be lost (a connection's, the summary) are kept.
func TestLiveOut_FullRingDropsTranscriptAndSaysHowMany(t *testing.T) {
	g := &gateWriter{open: make(chan struct{})}
	o := newLiveOut(g)
	const n = 3 * traceLines
	for i := range n {
		o.trace(fmt.Sprintf("call %d\n", i))
	}
	close(g.open)
	o.say("summary\n")
	o.close()
	lines := strings.Split(strings.TrimSuffix(g.b.String(), "\n"), "\n")
	written, dropped := 0, 0
	for _, l := range lines {
		var d int
		switch {
		case strings.HasPrefix(l, "call "):
			written++
		case strings.Contains(l, "transcript lines dropped"):
			if _, err := fmt.Sscanf(strings.TrimSpace(l), "... %d transcript", &d); err != nil {
				t.Fatalf("drop line %q: %v", l, err)
			}
			dropped += d
		}
	}
	if written > traceLines+1 || written+dropped != n {
		t.Errorf("%d transcript lines written, %d said dropped, of %d; want at most the ring (%d, +1 in the writer's hands) written and the rest counted",
			written, dropped, n, traceLines)
	}
	if lines[len(lines)-1] != "summary" {
		t.Errorf("last line %q; want the summary, which is never dropped", lines[len(lines)-1])
	}
}
