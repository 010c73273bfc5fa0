package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// flags is one command's flag set, with what every command shares:
//
//   - -h, -help and --help print the command's help to stdout, the same
//     text as 'teardown help CMD';
//   - values are checked as they are parsed (a number in its range, one word
//     of a list, no empty strings), and errors name the flag as --name in
//     plain words;
//   - a flag that applies only in some cases (--tun with --link tun) is
//     rejected in the others (only);
//   - flags may follow positional arguments ("run tcp-echo-one --ascii").
type flags struct {
	fs    *flag.FlagSet
	e     *env
	c     *command
	order []string // flag names in definition order, for the help
	given map[string]bool
}

// newFlags returns the flag set of command c.
func newFlags(e *env, c *command) *flags {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(discard{}) // errors are returned and printed once, by run
	fs.Usage = func() {}
	return &flags{fs: fs, e: e, c: c, given: map[string]bool{}}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func (f *flags) define(v flag.Value, name, usage string) {
	f.fs.Var(v, name, usage)
	f.order = append(f.order, name)
}

// Bool defines a flag without value.
func (f *flags) Bool(name, usage string) *bool {
	p := new(bool)
	f.define(boolValue{p}, name, usage)
	return p
}

// String defines a flag taking a non-empty string; meta names the value in
// the help (FILE, ADDR:PORT).
func (f *flags) String(name, def, meta, usage string) *string {
	p := &def
	f.define(&stringValue{p: p, meta: meta}, name, usage)
	return p
}

// Choice defines a flag taking one of the words of choices. The help
// shows them as the value's name (tcp|dccp), or when they are many, meta
// names the value and the choices follow the usage.
func (f *flags) Choice(name, def string, choices []string, meta, usage string) *string {
	p := &def
	if meta == "" {
		meta = strings.Join(choices, "|")
	} else {
		usage += " (one of " + strings.Join(choices, ", ") + ")"
	}
	f.define(&stringValue{p: p, meta: meta, choices: choices}, name, usage)
	return p
}

// Uint defines a flag taking a whole number from lo to hi.
func (f *flags) Uint(name string, def, lo, hi uint64, meta, usage string) *uint64 {
	p := &def
	f.define(&uintValue{p: p, lo: lo, hi: hi, meta: meta}, name, usage)
	return p
}

// parse parses args, allowing flags after positional arguments, and
// returns the positional ones. On -h it prints the help to stdout and
// returns flag.ErrHelp; other errors are usage errors in plain words.
func (f *flags) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(f.e.stdout, helpText(f.c, f))
				return nil, err
			}
			return nil, usageError("%s", plainFlagError(err, f.c.name))
		}
		args = f.fs.Args()
		if len(args) == 0 || args[0] == "--" {
			if len(args) > 0 {
				pos = append(pos, args[1:]...)
			}
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	f.fs.Visit(func(fl *flag.Flag) { f.given[fl.Name] = true })
	return pos, nil
}

// only rejects the flags names that were given when ok is false: they
// apply only in the case when describes ("with --link tun").
func (f *flags) only(ok bool, when string, names ...string) error {
	if ok {
		return nil
	}
	for _, n := range names {
		if f.given[n] {
			return usageError("--%s applies only %s", n, when)
		}
	}
	return nil
}

// noArgs rejects positional arguments, for commands that take none.
func noArgs(c *command, pos []string) error {
	if len(pos) != 0 {
		return usageError("%s takes no arguments (got %q)", c.name, pos[0])
	}
	return nil
}

var flagErrors = []struct {
	re   *regexp.Regexp
	says string // with $1, $2 from re
}{
	{regexp.MustCompile(`^flag provided but not defined: -+(.*)$`), "unknown flag --$1 for $cmd"},
	{regexp.MustCompile(`^flag needs an argument: -+(.*)$`), "--$1 needs a value"},
	{regexp.MustCompile(`^invalid boolean value "(.*)" for -+([^:]*): (.*)$`), "--$2=$1: $3"},
	{regexp.MustCompile(`^invalid value "(.*)" for flag -+([^:]*): (.*)$`), "--$2 $1: $3"},
	{regexp.MustCompile(`^bad flag syntax: (.*)$`), "bad flag syntax $1"},
}

// plainFlagError rewrites the flag package's messages ("flag provided but
// not defined: -x") in the CLI's words ("unknown flag --x for run").
func plainFlagError(err error, cmd string) string {
	msg := err.Error()
	for _, fe := range flagErrors {
		if m := fe.re.FindStringSubmatchIndex(msg); m != nil {
			says := strings.ReplaceAll(fe.says, "$cmd", cmd)
			return string(fe.re.ExpandString(nil, says, msg, m))
		}
	}
	return msg
}

type boolValue struct{ p *bool }

func (b boolValue) String() string {
	if b.p == nil {
		return "false"
	}
	return strconv.FormatBool(*b.p)
}
func (b boolValue) IsBoolFlag() bool { return true }
func (b boolValue) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("want true or false, or the flag alone")
	}
	*b.p = v
	return nil
}

type stringValue struct {
	p       *string
	meta    string
	choices []string
}

func (s *stringValue) String() string {
	if s == nil || s.p == nil {
		return ""
	}
	return *s.p
}
func (s *stringValue) Set(v string) error {
	switch {
	case v == "":
		return errors.New("an empty value")
	case s.choices != nil && !slices.Contains(s.choices, v):
		return fmt.Errorf("want one of %s", strings.Join(s.choices, ", "))
	}
	*s.p = v
	return nil
}

type uintValue struct {
	p      *uint64
	lo, hi uint64
	meta   string
}

func (u *uintValue) String() string {
	if u == nil || u.p == nil {
		return "0"
	}
	return strconv.FormatUint(*u.p, 10)
}
func (u *uintValue) Set(s string) error {
	v, err := strconv.ParseUint(s, 10, 64)
	if _, nerr := strconv.ParseUint(strings.TrimPrefix(s, "-"), 10, 64); err != nil && nerr != nil &&
		!errors.Is(nerr, strconv.ErrRange) {
		return errors.New("not a whole number")
	}
	if err != nil || v < u.lo || v > u.hi { // negative, beyond 64 bits, or outside [lo, hi]
		return fmt.Errorf("must be a whole number from %d to %d", u.lo, u.hi)
	}
	*u.p = v
	return nil
}

// isTerminal reports whether w is a terminal (progress goes only there).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
