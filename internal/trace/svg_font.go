package trace

import "strings"

// The SVG places every text itself, so it must know how wide a text will
// be without a font at hand. textWidth estimates it from above for DejaVu
// Sans, the first family the SVG asks for (Debian's default sans; the
// fallbacks Helvetica and Arial are narrower): each character counts the
// advance of the widest glyph of its class, in ems, rounded up from
// DejaVu Sans Book's metrics (units per em 2048), and bold adds 12 %
// (DejaVu Sans Bold's digits and lower case are 9 to 10 % wider). A box
// computed this way holds the rendered text; the layout and the overlap
// check (CheckSVG) use the same estimate.

// glyphClasses map characters to their widest advance in ems.
var glyphClasses = []struct {
	chars string
	em    float64
}{
	{" .,:;'!|ijlftr()[]{}/\\`·", 0.42}, // narrow (i, l 0.28; r 0.41)
	{"-_\"*", 0.52},
	{"mwMW@%", 1.00},                   // m 0.97, W 0.99, % 0.95
	{"=+<>~#&→←↔×÷", 0.86},             // = + < > 0.84, → 0.84
	{"0123456789", 0.66},               // digits 0.64
	{"abcdeghknopqsuvxyz?$§", 0.66},    // lower case 0.52 to 0.64
	{"ABCDEFGHIJKLNOPQRSTUVXYZ", 0.80}, // upper case 0.56 to 0.79
}

// emWidth is the estimated advance of c in ems; 1 for characters outside
// the classes (wider scripts, symbols).
func emWidth(c rune) float64 {
	for _, g := range glyphClasses {
		if strings.ContainsRune(g.chars, c) {
			return g.em
		}
	}
	return 1
}

// textWidth estimates from above the width of s at size px.
func textWidth(s string, size float64, bold bool) float64 {
	w := 0.0
	for _, c := range s {
		w += emWidth(c)
	}
	if bold {
		w *= 1.12
	}
	return w * size
}

// Vertical extent of a line of text around its baseline, in ems: DejaVu
// Sans's ascent is 0.93 and its descent 0.24.
const (
	textAscent  = 0.95
	textDescent = 0.25
)

// wrapPx breaks s at spaces into lines no wider than width px (a word
// wider than that is broken between characters): the SVG grows instead of
// cutting a text.
func wrapPx(s string, width, size float64, bold bool) []string {
	fits := func(t string) bool { return textWidth(t, size, bold) <= width }
	var lines []string
	cur := ""
	for w := range strings.FieldsSeq(s) {
		for !fits(w) {
			if cur != "" {
				lines, cur = append(lines, cur), ""
			}
			rs := []rune(w)
			n := 1
			for n < len(rs) && fits(string(rs[:n+1])) {
				n++
			}
			lines, w = append(lines, string(rs[:n])), string(rs[n:])
		}
		switch {
		case cur == "":
			cur = w
		case fits(cur + " " + w):
			cur += " " + w
		default:
			lines, cur = append(lines, cur), w
		}
	}
	if cur != "" || len(lines) == 0 {
		lines = append(lines, cur)
	}
	return lines
}
