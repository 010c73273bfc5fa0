package web

import (
	"bytes"
	"encoding/json"
	"image"
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

// The tolerances of the golden comparison: the page is compared in
// blocks of block×block pixels by mean brightness, so a font that draws
// a little wider or a line one pixel lower passes, while a missing
// diagram, pane or verdict does not.
const (
	block        = 16
	blockDiff    = 40   // brightness levels (of 255) a block may differ by
	blocksDiffer = 0.04 // the share of blocks that may differ by more
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
	if *update {
		var buf bytes.Buffer
		png.Encode(&buf, img)
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
	if want.Bounds() != img.Bounds() {
		keep(t, img, golden)
		t.Fatalf("screenshot %v, golden %v", img.Bounds(), want.Bounds())
	}
	a, w := brightness(img), brightness(want)
	differ := 0
	for i := range a {
		if d := a[i] - w[i]; d > blockDiff || d < -blockDiff {
			differ++
		}
	}
	if share := float64(differ) / float64(len(a)); share > blocksDiffer {
		keep(t, img, golden)
		t.Errorf("%.1f%% of the %d-pixel blocks differ from %s (at most %.1f%% may)", 100*share, block, path, 100*blocksDiffer)
	}
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
