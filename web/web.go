// Package web builds and serves teardown web's page: the lab in a
// browser. The page's JavaScript (static/) draws and steps through runs
// that the real stacks and simulator make inside the browser, compiled
// from web/wasm to WebAssembly; nothing runs on the server, so the same
// files work from any static file server or straight from disk.
//
// The WebAssembly (about 7 MB) is not committed: Build compiles it with
// the Go toolchain from the module's source when the page is written,
// which takes seconds with a warm build cache and gives the same bytes
// for the same source and toolchain (-trimpath, no VCS stamp).
package web

import (
	"bytes"
	"context"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// modulePath is the module whose web/wasm Build compiles.
const modulePath = "github.com/teardown-lab/teardown"

// Files are the page's files Build writes, beside the static ones.
const (
	WasmFile   = "main.wasm"    // the lab, compiled to WebAssembly
	WasmJSFile = "main.wasm.js" // the same bytes in base64, for pages opened from disk (file://)
	ExecJSFile = "wasm_exec.js" // Go's loader, from the toolchain that compiled main.wasm
)

// Build writes the page into dir (created if missing): the static
// files, main.wasm compiled from the module's web/wasm, main.wasm.js and
// the toolchain's wasm_exec.js. It needs the go command and the module's
// source (ModuleRoot).
func Build(ctx context.Context, dir string) error {
	root, err := ModuleRoot()
	if err != nil {
		return err
	}
	goCmd, err := goTool()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeStatic(dir); err != nil {
		return err
	}
	wasm := filepath.Join(dir, WasmFile)
	build := exec.CommandContext(ctx, goCmd, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w",
		"-o", wasm, modulePath+"/web/wasm")
	build.Dir = root
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("compiling the lab to WebAssembly: %v\n%s", err, out)
	}
	b, err := os.ReadFile(wasm)
	if err != nil {
		return err
	}
	js := "// main.wasm in base64, for a page opened from disk (file://), where fetch is refused.\n" +
		"window.TEARDOWN_WASM = \"" + base64.StdEncoding.EncodeToString(b) + "\";\n"
	if err := os.WriteFile(filepath.Join(dir, WasmJSFile), []byte(js), 0o644); err != nil {
		return err
	}
	return copyExecJS(ctx, goCmd, filepath.Join(dir, ExecJSFile))
}

// writeStatic copies the embedded static files into dir.
func writeStatic(dir string) error {
	return fs.WalkDir(static, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, strings.TrimPrefix(path, "static/")), b, 0o644)
	})
}

// copyExecJS copies wasm_exec.js from the toolchain's GOROOT (lib/wasm
// since Go 1.24, misc/wasm before): it must match the compiler.
func copyExecJS(ctx context.Context, goCmd, to string) error {
	out, err := exec.CommandContext(ctx, goCmd, "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("go env GOROOT: %v", err)
	}
	goroot := strings.TrimSpace(string(out))
	for _, sub := range []string{"lib/wasm", "misc/wasm"} {
		b, err := os.ReadFile(filepath.Join(goroot, sub, ExecJSFile))
		if err == nil {
			return os.WriteFile(to, b, 0o644)
		}
	}
	return fmt.Errorf("no %s in %s/lib/wasm or %s/misc/wasm", ExecJSFile, goroot, goroot)
}

// goTool finds the go command: on PATH, or in the GOROOT this binary was
// built with.
func goTool() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	return "", errors.New("teardown web compiles the lab to WebAssembly and needs the go command (not on PATH)")
}

// ModuleRoot finds the module's source: the current directory or one
// above it holding its go.mod, else the checkout this package was
// compiled from (when it is still there).
func ModuleRoot() (string, error) {
	var tried []string
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if isModuleRoot(d) {
				return d, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
		tried = append(tried, wd+" and the directories above it")
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		d := filepath.Dir(filepath.Dir(file))
		if isModuleRoot(d) {
			return d, nil
		}
		tried = append(tried, d)
	}
	return "", fmt.Errorf("teardown web compiles the lab from its source: run it inside a checkout of %s (looked in %s)",
		modulePath, strings.Join(tried, ", "))
}

func isModuleRoot(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	first, _, _ := bytes.Cut(b, []byte("\n"))
	return strings.TrimSpace(string(first)) == "module "+modulePath
}

// Handler serves the page written into dir by Build, with the
// WebAssembly's media type (which a browser's streaming compile wants).
func Handler(dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".wasm") {
			w.Header().Set("Content-Type", "application/wasm")
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}

// Serve serves the page in dir on ln until ctx is done.
func Serve(ctx context.Context, ln net.Listener, dir string) error {
	srv := &http.Server{Handler: Handler(dir), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
