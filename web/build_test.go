package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Build writes every file the page loads, main.wasm.js holds main.wasm's
// bytes, wasm_exec.js is the toolchain's, and the handler serves them
// with the media type browsers want for WebAssembly.
func TestBuild_WritesAndServesThePage(t *testing.T) {
	dir := t.TempDir()
	if err := Build(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	index := string(mustRead(t, filepath.Join(dir, "index.html")))
	for _, f := range []string{"wasm_exec.js", "draw.js", "app.js", "style.css"} {
		if !strings.Contains(index, `"`+f+`"`) {
			t.Errorf("index.html does not load %s", f)
		}
		mustRead(t, filepath.Join(dir, f))
	}
	wasm := mustRead(t, filepath.Join(dir, WasmFile))
	if !bytes.HasPrefix(wasm, []byte("\x00asm")) {
		t.Fatalf("%s is not WebAssembly: % x", WasmFile, wasm[:min(8, len(wasm))])
	}
	js := string(mustRead(t, filepath.Join(dir, WasmJSFile)))
	_, b64, _ := strings.Cut(js, `window.TEARDOWN_WASM = "`)
	b64, _, _ = strings.Cut(b64, `"`)
	if inJS, err := base64.StdEncoding.DecodeString(b64); err != nil || !bytes.Equal(inJS, wasm) {
		t.Errorf("%s does not hold %s's bytes (%v)", WasmJSFile, WasmFile, err)
	}
	goroot, err := exec.Command(mustGo(t), "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", ExecJSFile))
	if err == nil && !bytes.Equal(want, mustRead(t, filepath.Join(dir, ExecJSFile))) {
		t.Errorf("%s is not the toolchain's", ExecJSFile)
	}
	srv := httptest.NewServer(Handler(dir))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/" + WasmFile)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/wasm" || !bytes.Equal(got, wasm) {
		t.Errorf("GET /%s: %s, %d bytes; want application/wasm, %d bytes", WasmFile, ct, len(got), len(wasm))
	}
}

func mustGo(t *testing.T) string {
	t.Helper()
	p, err := goTool()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestModuleRoot_FindsTheCheckout(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "web", "wasm", "main.go")); err != nil {
		t.Errorf("ModuleRoot %s: %v", root, err)
	}
	t.Chdir(t.TempDir()) // not in the checkout: found from where this package was compiled
	if again, err := ModuleRoot(); err != nil || again != root {
		t.Errorf("from elsewhere: %q, %v; want %q", again, err, root)
	}
}
