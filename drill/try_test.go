package drill

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTry(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.pkt")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		s, err := Parse(f, b)
		if err != nil {
			t.Fatal(err)
		}
		t.Log(Run(s, Options{}))
	}
}
