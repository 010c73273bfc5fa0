package lab

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/internal/replay"
	"github.com/teardown-lab/teardown/internal/trace"
	"github.com/teardown-lab/teardown/netsim"
)

var update = flag.Bool("update", false, "rewrite the goldens under testdata/golden from the current output")

// eachRun runs fn for every runnable scenario in every variant.
func eachRun(t *testing.T, fn func(t *testing.T, res *Result)) {
	for _, s := range Scenarios() {
		if !s.Runnable() {
			continue
		}
		for _, v := range s.Variants {
			t.Run(s.ID+"/"+v.Name, func(t *testing.T) {
				replay.OnFailure(t)
				fn(t, run(t, s.ID, v.Name, ""))
			})
		}
	}
}

// tsharkPacket is what tshark decodes of one packet.
type tsharkPacket struct {
	src, dst, kind string
	seq, ack       uint64
	len            int
	tNs            int64 // since netsim.Epoch
}

// tsharkRead runs tshark on a pcap and returns its packets (-T json with
// only the fields compared).
func tsharkRead(t *testing.T, pcapBytes []byte) []tsharkPacket {
	t.Helper()
	bin, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("SKIPPING: tshark not installed: apt-get install tshark (CI does)")
	}
	path := filepath.Join(t.TempDir(), "run.pcap")
	if err := os.WriteFile(path, pcapBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	fields := []string{"frame.time_epoch", "ip.src", "ip.dst", "tcp.flags", "tcp.seq_raw", "tcp.ack_raw", "tcp.len",
		"dccp.type", "dccp.seq_raw", "dccp.ack_raw", "data.len"}
	args := []string{"-r", path, "-T", "json", "-o", "tcp.relative_sequence_numbers:FALSE"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	var pkts []struct {
		Source struct {
			Layers map[string][]string `json:"layers"`
		} `json:"_source"`
	}
	if err := json.Unmarshal(out, &pkts); err != nil {
		t.Fatalf("tshark JSON: %v", err)
	}
	var res []tsharkPacket
	for _, p := range pkts {
		l := p.Source.Layers
		get := func(k string) string {
			if len(l[k]) == 0 {
				return ""
			}
			return l[k][0]
		}
		u := func(k string) uint64 {
			v, _ := strconv.ParseUint(strings.TrimPrefix(get(k), "0x"), 0, 64)
			return v
		}
		tp := tsharkPacket{src: get("ip.src"), dst: get("ip.dst"), seq: u("tcp.seq_raw"), ack: u("tcp.ack_raw"),
			len: int(u("tcp.len")), tNs: epochNs(t, get("frame.time_epoch"))}
		flags, _ := strconv.ParseUint(get("tcp.flags"), 0, 16)
		tp.kind = flagKind(flags)
		if get("dccp.type") != "" {
			types := []string{"Request", "Response", "Data", "Ack", "DataAck", "CloseReq", "Close", "Reset", "Sync", "SyncAck"}
			tp.kind, tp.seq, tp.ack, tp.len = "dccp type "+get("dccp.type"), u("dccp.seq_raw"), u("dccp.ack_raw"), int(u("data.len"))
			if n := int(u("dccp.type")); n < len(types) {
				tp.kind = types[n]
			}
		}
		res = append(res, tp)
	}
	return res
}

// flagKind spells TCP flag bits as the JSON contract does, written out
// here independently of the trace package.
func flagKind(f uint64) string {
	var s []string
	for _, b := range []struct {
		bit  uint64
		name string
	}{{0x02, "SYN"}, {0x01, "FIN"}, {0x04, "RST"}, {0x08, "PSH"}, {0x10, "ACK"}} {
		if f&b.bit != 0 {
			s = append(s, b.name)
		}
	}
	return strings.Join(s, "|")
}

// epochNs turns tshark's "946684800.001000000" into ns since netsim.Epoch.
func epochNs(t *testing.T, s string) int64 {
	sec, frac, _ := strings.Cut(s, ".")
	secs, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		t.Fatalf("frame.time_epoch %q", s)
	}
	frac = (frac + "000000000")[:9]
	ns, _ := strconv.ParseInt(frac, 10, 64)
	return secs*1e9 + ns - int64(netsim.Epoch)
}

// The JSON's wire list and tshark's reading of the pcap agree packet for
// packet: hosts, flags, raw sequence and acknowledgement numbers, payload
// length and time; and the text and SVG draw every packet.
func TestJSONAgreesWithTsharkTextAndSVG(t *testing.T) {
	eachRun(t, func(t *testing.T, res *Result) {
		var js bytes.Buffer
		if err := res.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		rep, err := trace.ReadJSON(&js)
		if err != nil {
			t.Fatal(err)
		}
		addr := map[string]string{ClientAddr.String(): res.Scenario.Client, ServerAddr.String(): res.Scenario.Server}
		// The capture is taken as packets are offered to the link, so a
		// packet the link then lost (a partition) is in both.
		sent := rep.Wire
		pk := tsharkRead(t, res.Pcap)
		if len(pk) != len(sent) || len(sent) == 0 {
			t.Fatalf("tshark reads %d packets, the JSON lists %d", len(pk), len(sent))
		}
		for i, w := range sent {
			p := pk[i]
			got := fmt.Sprintf("%s>%s %s seq=%d ack=%d len=%d t=%d", addr[p.src], addr[p.dst], p.kind, p.seq, p.ack, p.len, p.tNs)
			want := fmt.Sprintf("%s>%s %s seq=%d ack=%d len=%d t=%d", w.From, w.To, w.Kind, w.Seq, w.Ack, w.Len, w.TNs)
			if got != want {
				t.Errorf("packet %d: tshark %s, JSON %s", i+1, got, want)
			}
		}
		text := res.Text(TextOptions{Width: 120, RawSeq: true})
		svg := string(res.SVG(SVGOptions{}))
		for _, w := range sent {
			label := w.Kind + " seq=" + strconv.FormatUint(w.Seq, 10)
			if w.Dropped {
				// A lost packet's arrow stops half way: with raw
				// sequence numbers its label keeps only the kind.
				label = w.Kind
				if !strings.Contains(text, "lost") {
					t.Errorf("the text diagram does not mark %s lost", w.Kind)
				}
			}
			if !strings.Contains(text, label) {
				t.Errorf("the text diagram does not draw %s", label)
			}
			if !strings.Contains(svg, w.Kind) {
				t.Errorf("the SVG does not draw %s", w.Kind)
			}
		}
		if rep.Verdict.DataLost != res.Verdict().DataLost || !strings.Contains(text, "Verdict") {
			t.Errorf("JSON verdict %+v, text without a verdict section", rep.Verdict)
		}
	})
}

// The SVG of a real run renders with rsvg-convert into a PNG that is not
// blank.
func TestSVGRendersWithRsvg(t *testing.T) {
	bin, err := exec.LookPath("rsvg-convert")
	if err != nil {
		t.Skip("SKIPPING: rsvg-convert not found: apt-get install librsvg2-bin (CI does)")
	}
	for _, id := range []string{"tcp-echo-one", "tcp-close-unsent"} {
		svg := run(t, id, "naive", "").SVG(SVGOptions{})
		cmd := exec.Command(bin, "--format", "png")
		cmd.Stdin = bytes.NewReader(svg)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: rsvg-convert: %v\n%s", id, err, stderr.String())
		}
		img, err := png.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		b := img.Bounds()
		colours := map[[4]uint32]int{}
		for y := b.Min.Y; y < b.Max.Y; y += 3 {
			for x := b.Min.X; x < b.Max.X; x += 3 {
				r, g, bl, a := img.At(x, y).RGBA()
				colours[[4]uint32{r, g, bl, a}]++
			}
		}
		if b.Dx() < 200 || b.Dy() < 200 || len(colours) < 4 {
			t.Errorf("%s: PNG %dx%d with %d colours: blank", id, b.Dx(), b.Dy(), len(colours))
		}
	}
}
