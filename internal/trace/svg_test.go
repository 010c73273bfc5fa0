package trace

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// svgElements parses doc with encoding/xml (failing the test if it is not
// well-formed) and returns its start elements.
func svgElements(t *testing.T, doc []byte) []xml.StartElement {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var out []xml.StartElement
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			out = append(out, se.Copy())
		}
	}
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func TestSVG_WellFormedAndStyled(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			tr := f.tr()
			els := svgElements(t, SVG(tr, SVGOptions{}))
			if len(els) == 0 || els[0].Name.Local != "svg" {
				t.Fatalf("first element is not <svg>")
			}
			var resets, fins, arrows, crosses int
			for _, e := range tr.Events {
				if e.Kind != KindPacket {
					continue
				}
				switch e.Packet.style() {
				case "rst":
					resets++
				case "fin":
					fins++
				}
			}
			var red, orange int
			for _, se := range els {
				switch {
				case se.Name.Local == "line" && attr(se, "stroke") == svgColors["rst"]:
					red++
				case se.Name.Local == "line" && attr(se, "stroke") == svgColors["fin"]:
					orange++
				case se.Name.Local == "path" && strings.Count(attr(se, "d"), "M") == 2:
					crosses++
				}
				if strings.HasPrefix(attr(se, "marker-end"), "url(#head-") {
					arrows++
				}
			}
			if red != resets || orange != fins {
				t.Errorf("%d red and %d orange lines, want one per RST/Reset (%d) and per FIN/Close (%d)", red, orange, resets, fins)
			}
			dropped := 0
			for _, e := range tr.Events {
				if e.Kind == KindPacket && e.Packet.Dropped {
					dropped++
				}
			}
			if crosses != dropped {
				t.Errorf("%d crosses, want one per dropped packet (%d)", crosses, dropped)
			}
			if want := countPackets(tr) - dropped; arrows != want {
				t.Errorf("%d arrowheads, want one per delivered packet (%d)", arrows, want)
			}
		})
	}
}

func countPackets(tr *Trace) int {
	n := 0
	for _, e := range tr.Events {
		if e.Kind == KindPacket {
			n++
		}
	}
	return n
}

func TestSVG_EscapesText(t *testing.T) {
	tr := echoOneNaive()
	tr.Scenario = `a<b & "c"`
	tr.AddCall(at(9), Call{Host: "client", Name: CallSend, Result: ResultOK, Bytes: 3, Detail: "</svg>"})
	doc := SVG(tr, SVGOptions{})
	svgElements(t, doc)
	if !bytes.Contains(doc, []byte("a&lt;b &amp; &#34;c&#34;")) {
		t.Errorf("the title was not escaped")
	}
}

func TestSVG_Deterministic(t *testing.T) {
	a, b := SVG(echoOneNaive(), SVGOptions{}), SVG(echoOneNaive(), SVGOptions{})
	if !bytes.Equal(a, b) {
		t.Error("two renderings of the same trace differ")
	}
}

// TestSVG_RendersNotBlank converts each fixture's SVG to PNG with
// rsvg-convert, a real renderer, and checks the image has the SVG's size
// and a fair share of drawn pixels.
func TestSVG_RendersNotBlank(t *testing.T) {
	bin, err := exec.LookPath("rsvg-convert")
	if err != nil {
		t.Skip("SKIPPING: rsvg-convert not found: apt-get install librsvg2-bin (CI does)")
	}
	dir := t.TempDir()
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			doc := SVG(f.tr(), SVGOptions{})
			root := svgElements(t, doc)[0]
			wantW, _ := strconv.Atoi(attr(root, "width"))
			wantH, _ := strconv.Atoi(attr(root, "height"))
			in, out := filepath.Join(dir, f.name+".svg"), filepath.Join(dir, f.name+".png")
			if err := os.WriteFile(in, doc, 0o644); err != nil {
				t.Fatal(err)
			}
			if msg, err := exec.Command(bin, "-o", out, in).CombinedOutput(); err != nil {
				t.Fatalf("rsvg-convert: %v\n%s", err, msg)
			}
			fh, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			img, err := png.Decode(fh)
			if err != nil {
				t.Fatalf("decoding the PNG: %v", err)
			}
			b := img.Bounds()
			if b.Dx() != wantW || b.Dy() != wantH || wantW < 600 || wantH < 200 {
				t.Errorf("PNG is %dx%d, want the SVG's %dx%d (and at least 600x200)", b.Dx(), b.Dy(), wantW, wantH)
			}
			inked := 0
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					r, g, bl, _ := img.At(x, y).RGBA()
					if r < 0xe000 || g < 0xe000 || bl < 0xe000 {
						inked++
					}
				}
			}
			if frac := float64(inked) / float64(b.Dx()*b.Dy()); frac < 0.01 || frac > 0.6 {
				t.Errorf("%.2f%% of the pixels are drawn; want a diagram, not a blank or solid image", 100*frac)
			}
		})
	}
}
