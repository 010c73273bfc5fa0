package main

import (
	"errors"
	"flag"
)

func init() {
	register(&command{
		name:  "help",
		short: "show help for teardown or one of its commands",
		usage: "help [command]",
		long:  "Help prints the list of commands, or the usage, description and flags of one command.",
		run:   runHelp,
	})
}

func runHelp(e *env, args []string) error {
	switch len(args) {
	case 0:
		printCommands(e.stdout)
		return nil
	case 1:
		c, ok := commands[args[0]]
		if !ok {
			return usageError("unknown command %q", args[0])
		}
		if c.name == "help" {
			fs := newFlags(&env{stdout: e.stdout, stderr: e.stdout}, c)
			fs.Usage()
			return nil
		}
		// Every command parses its flags with newFlags, whose -h prints the
		// usage, description and flags: send that to stdout.
		err := c.run(&env{stdout: e.stdout, stderr: e.stdout}, []string{"-h"})
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			return err
		}
		return nil
	default:
		return usageError("help takes at most one command name")
	}
}
