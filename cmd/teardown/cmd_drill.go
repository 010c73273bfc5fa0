package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/teardown-lab/teardown/drill"
	"github.com/teardown-lab/teardown/profile"
)

func init() {
	register(&command{
		name:  "drill",
		short: "run packetdrill scripts against the stack on the simulated network",
		usage: "drill FILE.pkt... [--kernel] [--profile P] [--tolerance_usecs N] [--define NAME=VALUE,...] [--json] [--svg FILE] [--pcap FILE]",
		long: "Drill runs each script, written in packetdrill's language, against a fresh stack on a " +
			"simulated network in virtual time: the script's syscall lines call the stack's sockets, its " +
			"'<' lines are packets a fake remote host sends, its '>' lines are packets the stack must " +
			"send, at their times (within --tolerance_usecs, 4 ms by default, or 12.5% of the gap).\n\n" +
			"Each script passes, fails at its first mismatch (the script's line, what it expected and " +
			"what happened), or is unsupported: it uses a construct the runner cannot judge (a shell " +
			"command, a Python block, a call or option not implemented), counted apart from failures. " +
			"With --kernel the scripts run against the Linux kernel instead, in real time: the kernel " +
			"is the local host, in a network namespace drill creates, and the remote host is a TUN " +
			"device there; syscall lines are real socket calls. It needs root. A script should pass " +
			"there before it is used to judge the stack.\n\n" +
			"--svg and --pcap draw the run of one script with the lab's sequence diagram and write " +
			"its packets as a capture. The shell preamble's sysctls (defaults.sh, sysctl name=value) " +
			"are applied to the stack where they mean something, set in the kernel's namespace with " +
			"--kernel, and the others listed in a note.\n\n" +
			"The exit status is 1 when a script fails or cannot be read.",
		run: runDrill,
	})
}

// drillSummary is what --json prints.
type drillSummary struct {
	Profile     string         `json:"profile,omitempty"`
	Kernel      bool           `json:"kernel,omitempty"`
	Results     []drill.Result `json:"results"`
	Passed      int            `json:"passed"`
	Failed      int            `json:"failed"`
	Unsupported int            `json:"unsupported"`
}

func runDrill(e *env, args []string) error {
	fs := newFlags(e, commands["drill"])
	prof := fs.Choice("profile", "linux", profile.Names(), "P", "the stack's profile")
	tol := fs.Uint("tolerance_usecs", 0, 0, 10_000_000, "N",
		"the timing tolerance in microseconds, over the scripts' own (default: theirs, else 4000)")
	asJSON := fs.Bool("json", "print one JSON object with every result")
	kernel := fs.Bool("kernel", "run against the Linux kernel through a TUN device in a new network namespace (root)")
	defs := fs.String("define", "", "NAME=VALUE,...", "define symbols for the scripts, as packetdrill's -D (comma-separated)")
	svg := fs.String("svg", "", "FILE", "draw the run of the one script as an SVG sequence diagram in FILE (- for stdout)")
	pcapFile := fs.String("pcap", "", "FILE", "write the packets of the one script's run to FILE as a pcap capture (- for stdout)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := fs.only(!*kernel, "without --kernel", "profile"); err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError("drill takes one or more script files")
	}
	defines := map[string]string{}
	if *defs != "" {
		for _, d := range strings.Split(*defs, ",") {
			k, v, ok := strings.Cut(d, "=")
			if !ok || k == "" {
				return usageError("--define wants NAME=VALUE[,NAME=VALUE...], not %q", d)
			}
			defines[k] = v
		}
	}
	record := *svg != "" || *pcapFile != ""
	if record && len(pos) != 1 {
		return usageError("--svg and --pcap draw one script's run: give one script")
	}
	if record && (*svg == "-" || *pcapFile == "-") && *asJSON {
		return usageError("--json and a drawing on stdout (--svg -, --pcap -) do not mix")
	}
	quiet := *svg == "-" || *pcapFile == "-" // stdout carries the file
	p, err := profile.ByName(*prof)
	if err != nil {
		return usageError("%v", err)
	}
	target := "profile " + *prof
	sum := drillSummary{Profile: *prof}
	if *kernel {
		if err := drill.KernelAvailable(); err != nil {
			return fmt.Errorf("drill --kernel needs root, to create a network namespace and a TUN device (%v)", err)
		}
		target, sum = "Linux kernel", drillSummary{Kernel: true}
	}
	for _, name := range pos {
		r := drillOne(name, *kernel, defines, drill.Options{Profile: p, Tolerance: time.Duration(*tol) * time.Microsecond, Record: record})
		if err := writeOutput(e, *pcapFile, r.Pcap); err != nil {
			return err
		}
		if err := writeOutput(e, *svg, r.SVG()); err != nil {
			return err
		}
		switch r.Status {
		case drill.Pass:
			sum.Passed++
		case drill.Unsupported:
			sum.Unsupported++
		default:
			sum.Failed++
		}
		sum.Results = append(sum.Results, r)
		if !*asJSON && !quiet {
			fmt.Fprintln(e.stdout, r)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(sum); err != nil {
			return err
		}
	} else if !quiet {
		fmt.Fprintf(e.stdout, "%d passed, %d failed, %d unsupported (%s)\n",
			sum.Passed, sum.Failed, sum.Unsupported, target)
	}
	if sum.Failed > 0 {
		return fmt.Errorf("%d of %d scripts failed", sum.Failed, len(pos))
	}
	return nil
}

// drillOne reads, parses and runs one script; a script that cannot be
// read or parsed fails with the reason.
func drillOne(name string, kernel bool, defines map[string]string, opts drill.Options) drill.Result {
	src, err := os.ReadFile(name)
	if err != nil {
		return drill.Result{Script: name, Status: drill.Fail, Message: err.Error()}
	}
	s, err := drill.ParseWith(name, src, defines)
	if err != nil {
		r := drill.Result{Script: name, Status: drill.Fail, Message: err.Error()}
		if pe, ok := err.(*drill.ParseError); ok {
			r.Line, r.Message = pe.Line, "bad script: "+pe.Msg
		}
		return r
	}
	if kernel {
		return drill.RunKernel(s, opts)
	}
	return drill.Run(s, opts)
}
