package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// helpWidth is the most columns any help line takes.
const helpWidth = 80

func init() {
	register(&command{
		name:  "help",
		short: "show help for teardown or one of its commands",
		usage: "help [command]",
		long: "Help prints the list of commands, or the usage, description and flags of one command: " +
			"'teardown help run' prints what 'teardown run -h' and 'teardown run --help' print.",
		run: runHelp,
	})
}

func runHelp(e *env, args []string) error {
	pos, err := newFlags(e, commands["help"]).parse(args)
	if err != nil {
		return err
	}
	switch len(pos) {
	case 0:
		printCommands(e.stdout)
		return nil
	case 1:
		c, ok := commands[pos[0]]
		if !ok {
			return usageError("unknown command %q", pos[0])
		}
		// Every command parses its flags with newFlags, whose -h prints the
		// usage, description and flags to stdout.
		if err := c.run(e, []string{"-h"}); err != nil && !errors.Is(err, flag.ErrHelp) {
			return err
		}
		return nil
	default:
		return usageError("help takes at most one command name")
	}
}

// helpText is command c's help: usage, description and flags, each wrapped
// at helpWidth.
func helpText(c *command, f *flags) string {
	var b strings.Builder
	for _, l := range wrapUsage("usage: teardown "+c.usage, helpWidth) {
		b.WriteString(l + "\n")
	}
	for _, para := range strings.Split(c.long, "\n\n") {
		if para != "" {
			b.WriteString("\n" + strings.Join(wrap(para, helpWidth, ""), "\n") + "\n")
		}
	}
	if len(f.order) > 0 {
		b.WriteString("\nFlags:\n")
	}
	for _, name := range f.order {
		fl := f.fs.Lookup(name)
		head := "  --" + name
		if m := meta(fl.Value); m != "" {
			head += " " + m
		}
		usage := fl.Usage
		if def := fl.DefValue; def != "" && def != "false" && def != "0" {
			usage += " (default " + def + ")"
		}
		b.WriteString(head + "\n" + strings.Join(wrap(usage, helpWidth, "      "), "\n") + "\n")
	}
	return b.String()
}

// meta names the value a flag takes in the help ("" for a bool flag).
func meta(v flag.Value) string {
	switch v := v.(type) {
	case *stringValue:
		return v.meta
	case *uintValue:
		return v.meta
	}
	return ""
}

// wrap breaks text into lines of at most width columns, each starting with
// indent; a word longer than a line gets a line of its own.
func wrap(text string, width int, indent string) []string {
	var lines []string
	line := indent
	for _, w := range strings.Fields(text) {
		switch {
		case line == indent:
			line += w
		case len([]rune(line))+1+len([]rune(w)) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = indent + w
		}
	}
	return append(lines, line)
}

// wrapUsage wraps a synopsis without breaking a bracketed group such as
// "[--link sim|tun|udp]"; continuation lines line up after the command.
func wrapUsage(usage string, width int) []string {
	var groups []string
	depth, start := 0, 0
	for i, r := range usage {
		switch r {
		case '[':
			depth++
		case ']':
			depth--
		case ' ':
			if depth == 0 {
				groups = append(groups, usage[start:i])
				start = i + 1
			}
		}
	}
	groups = append(groups, usage[start:])
	indent := strings.Repeat(" ", min(len("usage: teardown ")+len(groups[2])+1, 40))
	var lines []string
	line := ""
	for i, g := range groups {
		switch {
		case i == 0:
			line = g
		case len([]rune(line))+1+len([]rune(g)) <= width:
			line += " " + g
		default:
			lines = append(lines, line)
			line = indent + g
		}
	}
	return append(lines, line)
}

// printCommands prints the list of commands ('teardown help').
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
		lines := wrap(commands[n].short, helpWidth, strings.Repeat(" ", 15))
		lines[0] = fmt.Sprintf("    %-10s %s", n, strings.TrimLeft(lines[0], " "))
		fmt.Fprintln(w, strings.Join(lines, "\n"))
	}
	fmt.Fprint(w, "\nUse \"teardown help <command>\" for more information about a command.\n")
}
