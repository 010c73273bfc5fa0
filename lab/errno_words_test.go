package lab

import (
	"runtime"
	"testing"
)

// On Linux the words are syscall's own: the table changes nothing there.
func TestErrnoWords_AreLinuxs(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("syscall's texts are Linux's only on Linux")
	}
	for e, s := range errnoWords {
		if e.Error() != s {
			t.Errorf("errno %d: the table says %q, Linux %q", int(e), s, e.Error())
		}
	}
}
