// Command teardown is the lab of the teardown project: it replays, draws and
// explains the ways TCP and DCCP connections end badly, on a deterministic
// simulated network or against real peers.
//
// Run "teardown help" for the list of commands.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand of the CLI.
type command struct {
	name  string
	short string // one line for the command list
	usage string // the synopsis, after "teardown "
	long  string // paragraphs shown by "teardown help NAME"
	// run executes the command. A returned errUsage makes the CLI print the
	// command's usage and exit with status 2.
	run func(env *env, args []string) error
}

// env is what a command may touch: its arguments' streams.
type env struct {
	stdout, stderr io.Writer
}

// errUsage marks an error in how the command was called (exit status 2).
var errUsage = errors.New("usage")

// usageError wraps errUsage with a message for the user.
func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		printCommands(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		name = "help"
	case "-version", "--version":
		name = "version"
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "teardown: unknown command %q\nRun 'teardown help' for usage.\n", name)
		return 2
	}
	err := c.run(e, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		msg := strings.TrimPrefix(err.Error(), errUsage.Error()+": ")
		fmt.Fprintf(stderr, "teardown %s: %s\nusage: teardown %s\nRun 'teardown help %s' for details.\n", c.name, msg, c.usage, c.name)
		return 2
	default:
		fmt.Fprintf(stderr, "teardown %s: %v\n", c.name, err)
		return 1
	}
}

// newFlags returns a FlagSet for command c that prints c's help on -h.
func newFlags(e *env, c *command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: teardown %s\n", c.usage)
		if c.long != "" {
			fmt.Fprintf(e.stderr, "\n%s\n", c.long)
		}
		if hasFlags(fs) {
			fmt.Fprintf(e.stderr, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

func printCommands(w io.Writer) {
	fmt.Fprint(w, `teardown replays, draws and explains the ways TCP and DCCP connections end
badly, on a deterministic simulated network or against real peers.

Usage:

	teardown <command> [arguments]

The commands are:

`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "\t%-10s %s\n", n, commands[n].short)
	}
	fmt.Fprint(w, "\nUse \"teardown help <command>\" for more information about a command.\n")
}
