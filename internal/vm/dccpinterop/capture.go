package dccpinterop

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/link/pcap"
)

// Golden captures: every interop case's packets, as they crossed the TUN
// device in the VM, kept in testdata/linux61 as one pcap per case. Linux
// removed DCCP in 6.16 and the VM boots Debian 12's kernel fetched at
// test time; the captures keep Linux 6.1's packets after that kernel can
// no longer be had, and the replay tests (replay_test.go) check our core
// against them without the VM.

// captureDir holds the golden captures, relative to this package.
const captureDir = "testdata/linux61"

// capturePrefix starts the output line that carries one captured packet
// out of the VM: CAP|case index|unix nanoseconds|hex of the IP packet.
const capturePrefix = "CAP|"

// captureLine formats one captured packet of case i.
func captureLine(i int, unixNano int64, pkt []byte) string {
	return fmt.Sprintf("%s%d|%d|%s", capturePrefix, i, unixNano, hex.EncodeToString(pkt))
}

// captured is one packet read back from the VM's output.
type captured struct {
	at  clock.Instant
	pkt []byte
}

// parseCaptures collects the captured packets of each case index from the
// VM's output.
func parseCaptures(out []byte) (map[int][]captured, error) {
	caps := map[int][]captured{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.Index(line, capturePrefix)
		if i < 0 {
			continue
		}
		f := strings.SplitN(line[i+len(capturePrefix):], "|", 3)
		if len(f) != 3 {
			return nil, fmt.Errorf("capture line %q: want 3 fields", line)
		}
		idx, err1 := strconv.Atoi(f[0])
		ns, err2 := strconv.ParseInt(f[1], 10, 64)
		pkt, err3 := hex.DecodeString(f[2])
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("capture line %q: bad field", line)
		}
		caps[idx] = append(caps[idx], captured{clock.Instant(ns), pkt})
	}
	return caps, sc.Err()
}

// captureFile names the golden capture of case i: its index and a slug
// of its name.
func captureFile(i int, name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		switch {
		case ok:
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	return fmt.Sprintf("%02d-%s.pcap", i+1, strings.TrimRight(b.String(), "-"))
}

// writeCaptures writes one pcap per case into dir.
func writeCaptures(dir string, names []string, caps map[int][]captured) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i, name := range names {
		var buf bytes.Buffer
		w, err := pcap.NewWriter(&buf, 65535)
		if err != nil {
			return err
		}
		for _, c := range caps[i] {
			if err := w.WritePacket(c.at, c.pkt); err != nil {
				return err
			}
		}
		if err := os.WriteFile(filepath.Join(dir, captureFile(i, name)), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
