package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

func init() {
	register(&command{
		name:  "version",
		short: "print teardown's version and the Go version it was built with",
		usage: "version",
		long:  "Version prints the module version (or \"(devel)\" for a build from a work tree), the VCS revision when the build recorded one, and the Go toolchain.",
		run:   runVersion,
	})
}

func runVersion(e *env, args []string) error {
	fs := newFlags(e, commands["version"])
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := noArgs(commands["version"], pos); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "teardown %s (%s, %s/%s)\n", moduleVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// moduleVersion returns the main module's version and, when recorded, the
// VCS revision it was built from.
func moduleVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " " + rev + dirty
	}
	return v
}
