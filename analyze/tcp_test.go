package analyze

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/pcap"
)

const (
	A  = wire.ACK
	PA = wire.PSH | wire.ACK
	FA = wire.FIN | wire.ACK
	RA = wire.RST | wire.ACK
)

// The server resets without acknowledging the client's 10 bytes: the data
// is unacknowledged and lost.
func TestTCP_RSTWithUnackedData(t *testing.T) {
	s := newSynth(t)
	s.handshake()
	d := s.tcp(true, PA, 1001, 5001, 65535, "0123456789")
	r := s.tcp(false, RA, 5001, 1001, 0, "")
	c := only(t, s.report(Options{}))
	wantFinding(t, "RST before the data was acknowledged", c, FindingRSTUnreadData, d, r)
	if f := hasFinding(c, FindingRSTUnreadData); f != nil && !strings.Contains(f.Summary, "10 bytes of client's data still unacknowledged") {
		t.Errorf("summary does not count the unacknowledged bytes: %s", f.Summary)
	}
	if c.Ending.Kind != EndRST || c.Ending.By != "server" || c.Ending.State != "ESTABLISHED" {
		t.Errorf("ending %+v", c.Ending)
	}
}

// shutdown, then data from the client after the server's FIN, answered by
// RST: RST after FIN, and RST answering data after close.
func TestTCP_RSTAfterFINToDataAfterClose(t *testing.T) {
	s := newSynth(t)
	s.handshake()
	fin := s.tcp(false, FA, 5001, 1001, 65535, "")
	s.tcp(true, A, 1001, 5002, 65535, "")
	late := s.tcp(true, PA, 1001, 5002, 65535, "late")
	r := s.tcp(false, wire.RST, 5002, 0, 0, "")
	c := only(t, s.report(Options{}))
	wantFinding(t, "server's RST follows its FIN", c, FindingRSTAfterFIN, fin, r)
	wantFinding(t, "the client's data came after the server's FIN", c, FindingRSTToDataAfterClose, fin, late, r)
	if hasFinding(c, FindingRSTUnreadData) != nil {
		t.Errorf("no data arrived before the server's FIN, so nothing was unread at close: %+v", c.Findings)
	}
	if c.Ending.State != "FIN-WAIT-2" {
		t.Errorf("state at RST %q, want FIN-WAIT-2 (FIN sent and acknowledged)", c.Ending.State)
	}
}

// The client sends FIN and then resets when the server's reply arrives.
func TestTCP_ClientClosedWithoutWaiting(t *testing.T) {
	s := newSynth(t)
	s.handshake()
	s.tcp(true, PA, 1001, 5001, 65535, "req")
	fin := s.tcp(true, FA, 1004, 5001, 65535, "")
	reply := s.tcp(false, PA, 5001, 1005, 65535, "reply")
	r := s.tcp(true, wire.RST, 1005, 0, 0, "")
	c := only(t, s.report(Options{}))
	wantFinding(t, "client FIN then RST", c, FindingClientClosedEarly, fin, r)
	wantFinding(t, "the server's reply came after the client's FIN", c, FindingRSTToDataAfterClose, fin, reply, r)
}

// Retransmissions, a zero-window stall, data after FIN and a FIN never
// acknowledged, each with its packets.
func TestTCP_StallsAndRetransmissions(t *testing.T) {
	s := newSynth(t)
	s.handshake()
	s.tcp(true, PA, 1001, 5001, 65535, "abcd")
	re := s.tcp(true, PA, 1001, 5001, 65535, "abcd")
	z := s.tcp(false, A, 5001, 1005, 0, "")
	s.tcp(false, A, 5001, 1005, 0, "")
	open := s.tcp(false, A, 5001, 1005, 4096, "")
	fin := s.tcp(true, FA, 1005, 5001, 65535, "")
	after := s.tcp(true, PA, 1006, 5001, 65535, "x")
	c := only(t, s.report(Options{}))
	wantFinding(t, "the same 4 bytes sent twice", c, FindingRetransmissions, re)
	wantFinding(t, "window 0 then 4096", c, FindingZeroWindow, z, open)
	wantFinding(t, "a byte after the FIN", c, FindingDataAfterFIN, fin, after)
	wantFinding(t, "nobody acknowledged the FIN", c, FindingFINUnacked, fin)
	if c.ClientToServer.Retransmissions != 1 || c.ServerToClient.ZeroWindows != 2 || c.ClientToServer.DataBytes != 9 {
		t.Errorf("counts %+v / %+v", c.ClientToServer, c.ServerToClient)
	}
	if c.Ending.Kind != EndHalfClosed || c.Ending.By != "client" {
		t.Errorf("ending %+v, want half-closed by the client", c.Ending)
	}
}

// Three SYNs with one ISN are one unanswered connection with two retries;
// after a connection that ended with FIN both ways, a new SYN on the same
// ports (another ISN) is a new connection.
func TestTCP_RetriesAndPortReuse(t *testing.T) {
	s := newSynth(t)
	for range 3 {
		s.tcp(true, wire.SYN, 1, 0, 65535, "")
	}
	s.tcp(true, wire.SYN, 1000, 0, 65535, "") // another ISN: a new attempt
	s.tcp(false, wire.SYN|wire.ACK, 5000, 1001, 65535, "")
	s.tcp(true, A, 1001, 5001, 65535, "")
	s.tcp(true, FA, 1001, 5001, 65535, "")
	s.tcp(false, FA, 5001, 1002, 65535, "")
	s.tcp(true, A, 1002, 5002, 65535, "")
	s.tcp(true, wire.SYN, 9000, 0, 65535, "")
	rep := s.report(Options{})
	if len(rep.Connections) != 3 {
		t.Fatalf("%d connections, want 3", len(rep.Connections))
	}
	c1, c2, c3 := rep.Connections[0], rep.Connections[1], rep.Connections[2]
	if c1.Setup.Kind != SetupUnanswered || c1.Setup.Retries != 2 || c1.Ending.Kind != EndNeverEstablished {
		t.Errorf("first: %+v %+v", c1.Setup, c1.Ending)
	}
	if c2.Setup.Kind != SetupHandshake || c2.Ending.Kind != EndFIN || !c2.Ending.Clean || c2.Ending.By != "client" || len(c2.Findings) != 0 {
		t.Errorf("second: %+v %+v %+v", c2.Setup, c2.Ending, c2.Findings)
	}
	if c3.FirstPacket != 10 || c3.Setup.Kind != SetupUnanswered {
		t.Errorf("third: first packet %d setup %q", c3.FirstPacket, c3.Setup.Kind)
	}
}

// A capture that starts mid-stream guesses the client from the ports; both
// SYNs crossing is a simultaneous open.
func TestTCP_MidStreamAndSimultaneousOpen(t *testing.T) {
	s := newSynth(t)
	s.tcp(false, PA, 5001, 1001, 65535, "data") // from port 80 to port 40000
	c := only(t, s.report(Options{}))
	if c.Setup.Kind != SetupMidStream || c.RolesFrom != "port_guess" || !strings.HasSuffix(c.Client, ":40000") {
		t.Errorf("mid-stream: setup %q roles %q client %s", c.Setup.Kind, c.RolesFrom, c.Client)
	}
	if c.Ending.Kind != EndOpen {
		t.Errorf("ending %q, want open", c.Ending.Kind)
	}
	s = newSynth(t)
	s.tcp(true, wire.SYN, 1000, 0, 65535, "")
	s.tcp(false, wire.SYN, 5000, 0, 65535, "")
	s.tcp(true, wire.SYN|wire.ACK, 1000, 5001, 65535, "")
	s.tcp(false, wire.SYN|wire.ACK, 5000, 1001, 65535, "")
	if c := only(t, s.report(Options{})); c.Setup.Kind != SetupSimultaneousOpen {
		t.Errorf("setup %q, want simultaneous open", c.Setup.Kind)
	}
}

// Bad checksums are counted and kept by default, dropped on request;
// undecodable packets are counted, never fatal.
func TestTCP_BadInputCounted(t *testing.T) {
	s := newSynth(t)
	s.handshake()
	s.tcp(true, PA, 1001, 5001, 65535, "hello")
	raw := s.buf.Bytes()
	raw[len(raw)-1] ^= 0xff                                         // corrupt the payload: TCP checksum now wrong
	s.write([]byte{0x45, 0, 0})                                     // truncated IPv4
	s.write([]byte("not an IP packet at all, just some bytes....")) // bad version
	frag := make([]byte, 40)
	frag[0], frag[3], frag[6], frag[9] = 0x45, 40, 0x20, 6 // MF set
	frag[10], frag[11] = 0, 0
	s.write(frag)
	kept := s.report(Options{})
	if kept.Counts.BadChecksum < 1 || kept.Counts.DroppedBadChecksum != 0 || kept.Connections[0].ClientToServer.DataBytes != 5 {
		t.Errorf("kept: counts %+v, data %d", kept.Counts, kept.Connections[0].ClientToServer.DataBytes)
	}
	if kept.Counts.Truncated+kept.Counts.BadIP+kept.Counts.Fragments < 3 {
		t.Errorf("the three bad packets are not all counted: %+v", kept.Counts)
	}
	dropped := s.report(Options{DropBadChecksums: true})
	if dropped.Counts.DroppedBadChecksum < 1 || dropped.Connections[0].ClientToServer.DataBytes != 0 {
		t.Errorf("dropped: counts %+v, data %d", dropped.Counts, dropped.Connections[0].ClientToServer.DataBytes)
	}
}

// The JSON form uses the documented snake_case names.
func TestReport_JSONFieldNames(t *testing.T) {
	s := newSynth(t)
	s.handshake()
	s.tcp(true, PA, 1001, 5001, 65535, "0123456789")
	s.tcp(false, RA, 5001, 1001, 0, "")
	b, err := json.Marshal(s.report(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"format", "packets", "start_ns", "counts", "connections"} {
		if _, ok := m[k]; !ok {
			t.Errorf("report has no %q: %s", k, b)
		}
	}
	conn := m["connections"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "proto", "client", "server", "roles_from", "first_packet", "last_packet",
		"packets", "start_ns", "end_ns", "setup", "ending", "findings", "client_to_server", "server_to_client"} {
		if _, ok := conn[k]; !ok {
			t.Errorf("connection has no %q", k)
		}
	}
	ending := conn["ending"].(map[string]any)
	if ending["kind"] != "rst" || ending["by"] != "server" || ending["state"] != "ESTABLISHED" {
		t.Errorf("ending %v", ending)
	}
	f := conn["findings"].([]any)[0].(map[string]any)
	if f["kind"] != FindingRSTUnreadData || f["t_ns"] == nil || f["packets"] == nil {
		t.Errorf("finding %v", f)
	}
}

func TestReport_Text(t *testing.T) {
	s := newSynth(t)
	s.handshake()
	s.tcp(true, PA, 1001, 5001, 65535, "0123456789")
	s.tcp(false, RA, 5001, 1001, 0, "")
	var b strings.Builder
	if err := s.report(Options{}).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"connection 1  tcp  client 10.0.0.1:40000 -> server 10.0.0.2:80",
		"setup:   handshake", "ending:  rst: RST from server #5 in ESTABLISHED", "rst_with_unread_data at +0.004000s [#4, #5]"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
}

// The text says for each TCP connection what --json's vocabulary fields
// say: the verdict, who closed first, Zeek's conn_state and history and
// Wireshark's completeness, spelled out.
func TestReport_TextHasTheVocabulary(t *testing.T) {
	s := newSynth(t)
	s.handshake()
	s.tcp(true, PA, 1001, 5001, 65535, "0123456789")
	s.tcp(false, RA, 5001, 1001, 0, "")
	rep := s.report(Options{})
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	c := rep.Connections[0]
	if c.Verdict != VerdictRSTUnread || c.ClosedFirst != "server" || c.Completeness == nil {
		t.Fatalf("the synthetic capture no longer makes the case this test reads: %+v", c)
	}
	for _, want := range []string{
		"\n  verdict: " + c.Verdict + ": " + c.VerdictText + "\n",
		"\n  fields:  server closed first, Zeek conn_state " + c.ConnState + " history " + c.History +
			", Wireshark completeness 47 (SYN SYN-ACK ACK data RST)\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
}

func TestCompletenessNames_SpellsEachBit(t *testing.T) {
	for bits, want := range map[int]string{0: "none", CompleteSYN | CompleteFIN: "SYN FIN", 63: "SYN SYN-ACK ACK data FIN RST"} {
		if got := completenessNames(bits); got != want {
			t.Errorf("completenessNames(%d) = %q, want %q", bits, got, want)
		}
	}
}

// A capture cut by its snapshot length still counts the data the IP
// header declares, and says how many packets were cut.
func TestTCP_SnapLenCutCapture(t *testing.T) {
	full := newSynth(t)
	full.handshake()
	full.tcp(true, PA, 1001, 5001, 65535, strings.Repeat("x", 1000))
	full.tcp(false, A, 5001, 2001, 65535, "")
	var cut bytes.Buffer
	w, _ := pcap.NewWriter(&cut, 60) // 20 IP + 20 TCP + 20 bytes of payload
	r, _ := pcap.NewReader(bytes.NewReader(full.buf.Bytes()))
	for p, err := r.Next(); err == nil; p, err = r.Next() {
		w.WritePacket(p.Time, p.IP) //nolint:errcheck
	}
	rep, err := Reader(&cut, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := only(t, rep)
	if rep.Counts.Truncated != 1 || c.ClientToServer.DataBytes != 1000 || c.ClientToServer.BadChecksums != 0 {
		t.Errorf("counts %+v, client data %d, bad sums %d", rep.Counts, c.ClientToServer.DataBytes, c.ClientToServer.BadChecksums)
	}
}
