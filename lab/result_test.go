package lab

import (
	"bytes"
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/internal/trace"
)

// Result's Verdict and Explanation are the record's: they agree with the
// JSON contract field for field, and the text diagram prints the same
// explanation.
func TestResultVerdictAndExplanationAreTheRecords(t *testing.T) {
	res := run(t, "tcp-primes", "naive", "")
	var js bytes.Buffer
	if err := res.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	rep, err := trace.ReadJSON(&js)
	if err != nil {
		t.Fatal(err)
	}
	v := res.Verdict()
	if !v.DataLost || v.DataLost != rep.Verdict.DataLost || v.LostBytes != rep.Verdict.LostBytes {
		t.Errorf("Verdict %+v, the JSON's %+v; the naive primes client loses data", v, rep.Verdict)
	}
	if len(v.Errors) == 0 || len(v.Errors) != len(rep.Verdict.Errors) {
		t.Fatalf("Verdict errors %v, the JSON's %v; the client sees a reset", v.Errors, rep.Verdict.Errors)
	}
	for i, e := range v.Errors {
		if w := rep.Verdict.Errors[i]; e.Host != w.Host || e.Error != w.Error {
			t.Errorf("error %d: %+v, the JSON's %+v", i, e, w)
		}
	}
	ex := res.Explanation()
	if ex == "" || ex != rep.Explanation {
		t.Errorf("Explanation %q, the JSON's %q", ex, rep.Explanation)
	}
	text := res.Text(TextOptions{Width: 1000})
	if !strings.Contains(strings.Join(strings.Fields(text), " "), strings.Join(strings.Fields(ex), " ")) {
		t.Errorf("the diagram does not print the explanation %q:\n%s", ex, text)
	}
	var w bytes.Buffer
	if err := res.WriteText(&w, TextOptions{Width: 1000}); err != nil || w.String() != text {
		t.Errorf("WriteText wrote something other than Text (%v)", err)
	}
}
