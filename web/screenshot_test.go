package web

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// screenshot captures the browser's viewport as an image.
func screenshot(t *testing.T, l *labPage) image.Image {
	t.Helper()
	b, err := chromedp.Run(l.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Goldens are kept in grey at half the screenshot's size (a twentieth of
// the bytes), which is all the comparison looks at: it compares the mean
// brightness of blocks of block×block pixels (of the halved image), so a
// font that draws a little wider or a line one pixel lower passes, while
// a missing diagram, pane or verdict does not. (Measured: the same
// machine differs in 0 to 1 of 4240 blocks, the clock's digits; a diagram
// without its packet arrows in 4 to 4.5 %.)
const (
	block        = 8
	blockDiff    = 12    // brightness levels (of 255) a block may differ by
	blocksDiffer = 0.025 // the share of blocks that may differ by more
)

// checkScreenshot checks img is not blank (enough ink, some of it in the
// packets' colours) and like testdata/golden (-update rewrites it). On a
// failure the screenshot is kept beside the test's temporary files.
func checkScreenshot(t *testing.T, img image.Image, golden string) {
	t.Helper()
	ink, colour, n := 0, 0, 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			n++
			if r < 0xe000 || g < 0xe000 || bl < 0xe000 {
				ink++
			}
			if max(r, g, bl)-min(r, g, bl) > 0x3000 {
				colour++
			}
		}
	}
	if float64(ink)/float64(n) < 0.02 || float64(colour)/float64(n) < 0.0005 {
		keep(t, img, golden)
		t.Fatalf("the screenshot looks blank: %.2f%% ink, %.3f%% in colour", 100*float64(ink)/float64(n), 100*float64(colour)/float64(n))
	}
	path := filepath.Join("testdata", golden)
	small := halve(img)
	if *update {
		var buf bytes.Buffer
		png.Encode(&buf, small)
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (go test ./web -run TestBrowser -update writes it)", err)
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if want.Bounds() != small.Bounds() {
		keep(t, img, golden)
		t.Fatalf("screenshot %v halved to %v, golden %v", img.Bounds(), small.Bounds(), want.Bounds())
	}
	a, w := brightness(small), brightness(want)
	differ := 0
	for i := range a {
		if d := a[i] - w[i]; d > blockDiff || d < -blockDiff {
			differ++
		}
	}
	if share := float64(differ) / float64(len(a)); share > blocksDiffer {
		keep(t, img, golden)
		t.Errorf("%.1f%% of the blocks of %d×%d pixels differ from %s by more than %d levels (at most %.1f%% may)",
			100*share, 2*block, 2*block, path, blockDiff, 100*blocksDiffer)
	}
}

// halve returns img in grey at half its width and height, each pixel the
// mean of four.
func halve(img image.Image) *image.Gray {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx()/2, b.Dy()/2))
	for y := 0; y < b.Dy()/2; y++ {
		for x := 0; x < b.Dx()/2; x++ {
			sum := 0.0
			for _, d := range [4][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				r, g, bl, _ := img.At(b.Min.X+2*x+d[0], b.Min.Y+2*y+d[1]).RGBA()
				sum += float64(r+g+bl) / 3 / 257
			}
			out.SetGray(x, y, color.Gray{Y: uint8(sum/4 + 0.5)})
		}
	}
	return out
}

// brightness is the mean brightness (0-255) of each block.
func brightness(img image.Image) []float64 {
	b := img.Bounds()
	var out []float64
	for by := b.Min.Y; by+block <= b.Max.Y; by += block {
		for bx := b.Min.X; bx+block <= b.Max.X; bx += block {
			sum := 0.0
			for y := by; y < by+block; y++ {
				for x := bx; x < bx+block; x++ {
					r, g, bl, _ := img.At(x, y).RGBA()
					sum += float64(r+g+bl) / 3 / 257
				}
			}
			out = append(out, sum/block/block)
		}
	}
	return out
}

func keep(t *testing.T, img image.Image, name string) {
	t.Helper()
	var buf bytes.Buffer
	png.Encode(&buf, img)
	path := filepath.Join(os.TempDir(), "teardown-web-"+name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err == nil {
		t.Logf("the screenshot is in %s", path)
	}
}
