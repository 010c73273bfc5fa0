package drill

import (
	"strings"
	"testing"
)

// A %{ }% block of assertions on the judged fields is an event; any
// other statement makes the script unsupported, naming it.
func TestParseInfo(t *testing.T) {
	chk, why := parseInfo("%{\nassert tcpi_ca_state == TCP_CA_Loss, tcpi_ca_state\nassert tcpi_rto >= 0x10; assert tcpi_unacked != 2\n}%")
	if why != "" || len(chk.Asserts) != 3 {
		t.Fatalf("parseInfo = %+v, %q", chk, why)
	}
	if a := chk.Asserts[0]; a.Field != "tcpi_ca_state" || a.Op != "==" || a.Value != 4 || !a.holds(4) || a.holds(3) {
		t.Errorf("first assertion %+v", a)
	}
	if a := chk.Asserts[1]; a.Value != 16 || !a.holds(16) || a.holds(15) {
		t.Errorf("second assertion %+v", a)
	}
	for _, src := range []string{"%{ print(tcpi_rtt) }%", "%{ assert tcpi_rtt == 1 }%", "%{ assert tcpi_lost == x }%", "%{ }%"} {
		if _, why := parseInfo(src); why == "" {
			t.Errorf("parseInfo(%q) judged", src)
		}
	}
}

// A failing assertion fails the script at its line, with the value.
func TestRun_InfoAssertionFails(t *testing.T) {
	src := strings.Replace(base, "+0 write(4", "+0 %{ assert tcpi_state == TCP_ESTABLISHED }%\n+0 %{ assert tcpi_unacked == 3 }%\n+0 write(4", 1)
	r := run(t, src, Options{})
	if r.Status != Fail || r.Line != 10 || !strings.Contains(r.Message, "tcpi_unacked is 0, expected == 3") {
		t.Fatalf("want a failure at line 10 on tcpi_unacked, got %v", r)
	}
}
