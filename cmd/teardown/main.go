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
	"strings"
)

// command is one subcommand of the CLI.
type command struct {
	name  string
	short string // one line for the command list
	usage string // the synopsis, after "teardown "
	long  string // paragraphs shown by "teardown help NAME"
	// run executes the command. An error wrapping errUsage (usageError)
	// makes the CLI say where the help is and exit with status 2.
	run func(env *env, args []string) error
}

// env is what a command may touch: its streams.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// stdin is what "-" reads (analyze -); tests replace it.
var stdin io.Reader = os.Stdin

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

// run is main without the process: it returns the exit status. Every
// error is one line (or a few) starting "teardown: " on stderr: a usage
// error exits 2 and says where the help is, any other error exits 1.
func run(args []string, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, "teardown: no command given\n\n")
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
		fmt.Fprintf(stderr, "teardown: unknown command %q\nrun 'teardown help' for the list of commands\n", name)
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
		hint := "run 'teardown help " + c.name + "' for usage"
		if c.name == "help" {
			hint = "run 'teardown help' for the list of commands"
		}
		fmt.Fprintf(stderr, "teardown: %s\n%s\n", msg, hint)
		return 2
	default:
		fmt.Fprintf(stderr, "teardown: %s\n", strings.TrimPrefix(err.Error(), "teardown: "))
		return 1
	}
}
