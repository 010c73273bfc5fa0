//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// main says how this command is built: it is meant for the browser.
func main() {
	fmt.Fprintln(os.Stderr, "web/wasm runs in a browser: build it with GOOS=js GOARCH=wasm (teardown web does)")
	os.Exit(2)
}
