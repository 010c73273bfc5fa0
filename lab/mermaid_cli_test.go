package lab

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Mermaid's own parser accepts every Mermaid golden: each .mmd under
// testdata/golden goes through mermaid.parse in headless Chromium
// (scripts/mermaid-parse.cjs, with the puppeteer and mermaid of an
// installed @mermaid-js/mermaid-cli). trace.CheckMermaid, which TestGolden
// runs, is our reading of the syntax; this is Mermaid's.
func TestGolden_MermaidCLIParsesEveryDiagram(t *testing.T) {
	cli := mermaidCLIDir(t)
	browser := os.Getenv("PUPPETEER_EXECUTABLE_PATH")
	if browser == "" {
		b, err := exec.LookPath("chromium")
		if err != nil {
			t.Skip("SKIPPING: no chromium for mermaid-cli's puppeteer: apt-get install chromium (CI does)")
		}
		browser = b
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("SKIPPING: no node: apt-get install nodejs (CI does)")
	}
	files, err := filepath.Glob(filepath.Join(goldenDir, "*", "*.mmd"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Mermaid goldens (%v)", err)
	}
	cmd := exec.Command(node, append([]string{filepath.Join("..", "scripts", "mermaid-parse.cjs"), cli}, files...)...)
	cmd.Env = append(os.Environ(), "PUPPETEER_EXECUTABLE_PATH="+browser)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("Mermaid rejects diagrams: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "0 rejected") {
		t.Errorf("mermaid-parse.cjs says:\n%s", out)
	}
}

// mermaidCLIDir returns the directory of the installed mermaid-cli package
// (where the mmdc on PATH comes from), or skips the test.
func mermaidCLIDir(t *testing.T) string {
	t.Helper()
	skip := "SKIPPING: mermaid-cli not installed: PUPPETEER_SKIP_DOWNLOAD=1 npm install -g @mermaid-js/mermaid-cli (CI does)"
	mmdc, err := exec.LookPath("mmdc")
	if err != nil {
		t.Skip(skip)
	}
	real, err := filepath.EvalSymlinks(mmdc)
	if err != nil {
		t.Skip(skip)
	}
	for dir := filepath.Dir(real); dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		b, err := os.ReadFile(filepath.Join(dir, "package.json"))
		if err == nil && strings.Contains(string(b), `"name": "@mermaid-js/mermaid-cli"`) {
			return dir
		}
	}
	t.Skip(skip + " (mmdc found, but not its package)")
	return ""
}
