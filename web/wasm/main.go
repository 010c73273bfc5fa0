//go:build js && wasm

// Command wasm is the lab compiled to WebAssembly for teardown web's
// page: it runs the real stacks on the real simulator inside the browser
// and hands the page JSON. It sets globalThis.teardown to
//
//	catalogue()          → JSON string (page.Catalogue)
//	run(requestJSON)     → Promise of {outcome: JSON string, pcap: Uint8Array}
//	analyze(Uint8Array)  → Promise of a JSON string (page.Analysis)
//
// and then calls globalThis.teardownReady() if the page defined it.
package main

import (
	"encoding/json"
	"errors"
	"syscall/js"

	"github.com/teardown-lab/teardown/web/page"
)

func main() {
	td := js.Global().Get("Object").New()
	td.Set("catalogue", js.FuncOf(func(js.Value, []js.Value) any {
		b, _ := json.Marshal(page.NewCatalogue())
		return string(b)
	}))
	td.Set("run", js.FuncOf(func(_ js.Value, args []js.Value) any {
		return promise(func() (any, error) {
			var req page.Request
			if len(args) != 1 || json.Unmarshal([]byte(args[0].String()), &req) != nil {
				return nil, errors.New("run wants one JSON request")
			}
			out, err := page.Run(req)
			if err != nil {
				return nil, err
			}
			b, err := json.Marshal(out)
			if err != nil {
				return nil, err
			}
			o := js.Global().Get("Object").New()
			o.Set("outcome", string(b))
			o.Set("pcap", bytesToJS(out.Pcap))
			return o, nil
		})
	}))
	td.Set("analyze", js.FuncOf(func(_ js.Value, args []js.Value) any {
		return promise(func() (any, error) {
			if len(args) != 1 || args[0].Get("length").IsUndefined() {
				return nil, errors.New("analyze wants the capture's bytes (a Uint8Array)")
			}
			capture := make([]byte, args[0].Get("length").Int())
			js.CopyBytesToGo(capture, args[0])
			a, err := page.Analyze(capture)
			if err != nil {
				return nil, err
			}
			b, err := json.Marshal(a)
			return string(b), err
		})
	}))
	js.Global().Set("teardown", td)
	if ready := js.Global().Get("teardownReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {} // the page calls in for as long as it is open
}

// promise runs fn on a goroutine of its own (a run blocks on the
// simulator's goroutines, which must not hold up the page's event loop)
// and settles a JavaScript Promise with its result or error.
func promise(fn func() (any, error)) js.Value {
	var executor js.Func
	executor = js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			defer executor.Release()
			v, err := fn()
			if err != nil {
				reject.Invoke(js.Global().Get("Error").New(err.Error()))
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	return js.Global().Get("Promise").New(executor)
}

func bytesToJS(b []byte) js.Value {
	a := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}
