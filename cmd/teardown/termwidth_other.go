//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package main

import "os"

// terminalColumns cannot ask a terminal here: output is taken as not one.
func terminalColumns(*os.File) (int, bool) { return 0, false }
