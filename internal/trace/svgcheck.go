package trace

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// CheckSVG reports what would make an SVG from SVG hard to read: two
// texts whose boxes overlap, a text that sticks out of the picture, a
// rotated text (its box could not be checked), and a text cut with "…"
// (the SVG wraps and grows instead). Each <text> element's box is
// computed from its x, y, text-anchor, font-size and font-weight with
// textWidth's estimate, which errs on the wide side, so texts that pass
// do not touch when drawn. Lines of one wrapped text are separate <text>
// elements and are checked like any other pair.
func CheckSVG(doc []byte) error {
	if bytes.ContainsRune(doc, '…') {
		return errors.New("svg: a text is cut with \"…\"")
	}
	boxes, w, h, err := svgTextBoxes(doc)
	if err != nil {
		return err
	}
	var errs []error
	for i, a := range boxes {
		if a.x0 < 0 || a.y0 < 0 || a.x1 > w || a.y1 > h {
			errs = append(errs, fmt.Errorf("svg: %q (%.0f,%.0f to %.0f,%.0f) sticks out of the %.0fx%.0f picture",
				a.text, a.x0, a.y0, a.x1, a.y1, w, h))
		}
		for _, b := range boxes[i+1:] {
			if a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1 {
				errs = append(errs, fmt.Errorf("svg: %q at (%.0f,%.0f) overlaps %q at (%.0f,%.0f)",
					a.text, a.x0, a.y0, b.text, b.x0, b.y0))
			}
		}
	}
	return errors.Join(errs...)
}

// textBox is the estimated extent of one <text>.
type textBox struct {
	text           string
	x0, y0, x1, y1 float64
}

// svgTextBoxes returns the boxes of doc's texts and the picture's size.
func svgTextBoxes(doc []byte) (boxes []textBox, w, h float64, err error) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	size := svgFont
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return boxes, w, h, nil
		}
		if err != nil {
			return nil, 0, 0, fmt.Errorf("svg: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "svg":
			w, h = svgNum(se, "width", 0), svgNum(se, "height", 0)
			size = svgNum(se, "font-size", size)
		case "text":
			var content string
			if err := dec.DecodeElement(&struct {
				Text *string `xml:",chardata"`
			}{&content}, &se); err != nil {
				return nil, 0, 0, fmt.Errorf("svg: %w", err)
			}
			b, err := svgTextBox(se, content, size)
			if err != nil {
				return nil, 0, 0, err
			}
			boxes = append(boxes, b)
		}
	}
}

func svgTextBox(se xml.StartElement, content string, size float64) (textBox, error) {
	if svgAttr(se, "transform") != "" {
		return textBox{}, fmt.Errorf("svg: %q is transformed; its box cannot be checked", content)
	}
	size = svgNum(se, "font-size", size)
	x, y := svgNum(se, "x", 0), svgNum(se, "y", 0)
	wd := textWidth(content, size, svgAttr(se, "font-weight") == "bold")
	switch svgAttr(se, "text-anchor") {
	case "middle":
		x -= wd / 2
	case "end":
		x -= wd
	}
	return textBox{text: content, x0: x, y0: y - textAscent*size, x1: x + wd, y1: y + textDescent*size}, nil
}

func svgAttr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func svgNum(se xml.StartElement, name string, def float64) float64 {
	v, err := strconv.ParseFloat(strings.TrimSuffix(svgAttr(se, name), "px"), 64)
	if err != nil {
		return def
	}
	return v
}
