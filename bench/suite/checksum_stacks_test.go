package suite

import "testing"

// The two columns that make the checksum trust explicit (ours over a
// pipe that does not vouch, gVisor with receive checksum offload) are
// whole stacks: a bulk transfer over each arrives complete.
func TestChecksumTrustStacksMoveBytes(t *testing.T) {
	for _, s := range []string{Ours, OursChecked, GVisorRXOffload} {
		r, err := Bulk(s, 65535, 4<<20)
		if err != nil || r.Bytes != 4<<20 {
			t.Fatalf("%s: %d bytes, %v; want 4 MiB", s, r.Bytes, err)
		}
	}
}
