package trace

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzReadJSON feeds arbitrary bytes to ReadJSON: it must return an error
// or a Report that encodes and decodes back to itself.
func FuzzReadJSON(f *testing.F) {
	for _, fx := range fixtures {
		var buf bytes.Buffer
		if err := WriteJSON(&buf, fx.tr()); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		rep, err := ReadJSON(bytes.NewReader(in))
		if err != nil {
			return
		}
		out, err := json.Marshal(rep)
		if err != nil {
			t.Fatalf("a decoded report does not encode: %v", err)
		}
		again, err := ReadJSON(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("re-reading %s: %v", out, err)
		}
		if !reflect.DeepEqual(normal(rep), normal(again)) {
			t.Errorf("round trip changed the report:\n%+v\n%+v", rep, again)
		}
	})
}

// normal makes nil and empty slices compare equal (omitempty drops the
// added ones when empty).
func normal(r Report) Report {
	if len(r.States) == 0 {
		r.States = nil
	}
	if len(r.Notes) == 0 {
		r.Notes = nil
	}
	return r
}
