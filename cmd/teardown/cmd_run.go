package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/teardown-lab/teardown/internal/trace"
	"github.com/teardown-lab/teardown/lab"
	"github.com/teardown-lab/teardown/profile"
)

func init() {
	register(&command{
		name:  "run",
		short: "replay a scenario on the simulated network, draw it and explain it",
		usage: "run ID|all [--variant V] [--profile P] [--seed N] [--pcap FILE] [--svg FILE] [--mermaid FILE] [--plantuml FILE] [--json] [--width N] [--ascii]",
		long: "Run replays scenario ID (see 'teardown list') on a deterministic simulated network and prints a " +
			"sequence diagram (simulated time on the left, one column per host, application calls, packets and " +
			"state changes), what each application saw, the verdict (data lost, errors) and why. --svg, " +
			"--mermaid and --plantuml write the same diagram as SVG or as Mermaid or PlantUML sequence diagrams " +
			"(to paste into an issue or a document). The same " +
			"arguments always give the same output and the same pcap bytes.\n\n" +
			"'run all' replays every scenario in every variant and prints a summary table, or with --json one " +
			"JSON object whose \"runs\" hold what 'run ID --json' prints for each.",
		run: runRun,
	})
}

// maxWidth bounds --width: wider than any terminal, narrow enough that a
// typo (--width 100000) is caught.
const maxWidth = 1000

type runFlags struct {
	variant, profile, pcap, svg *string
	mermaid, plantuml           *string
	seed, width                 *uint64
	json, ascii                 *bool
}

func runRun(e *env, args []string) error {
	fs := newFlags(e, commands["run"])
	f := runFlags{
		variant:  fs.String("variant", "", "V", "the variant (default: the scenario's first, usually naive)"),
		profile:  fs.Choice("profile", "", profile.Names(), "P", "the stacks' profile (default: the variant's, usually linux)"),
		seed:     fs.Uint("seed", lab.DefaultSeed, 1, 1<<64-1, "N", "the simulation's seed"),
		pcap:     fs.String("pcap", "", "FILE", "write the capture to FILE (- for stdout, instead of the diagram)"),
		svg:      fs.String("svg", "", "FILE", "write the diagram as SVG to FILE (- for stdout, instead of the text)"),
		mermaid:  fs.String("mermaid", "", "FILE", "write the diagram as a Mermaid sequence diagram to FILE (- for stdout)"),
		plantuml: fs.String("plantuml", "", "FILE", "write the diagram as a PlantUML sequence diagram to FILE (- for stdout)"),
		json:     fs.Bool("json", "print JSON instead of text (run all: one object with every run)"),
		width: fs.Uint("width", 0, trace.MinWidth, maxWidth, "N",
			fmt.Sprintf("the diagram's width in columns, %d to %d (default: the terminal's, or %d when stdout is not a terminal)",
				trace.MinWidth, maxWidth, trace.DefaultWidth)),
		ascii: fs.Bool("ascii", "draw with ASCII only"),
	}
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("run takes one scenario id or 'all' (scenarios: %s)", strings.Join(lab.IDs(), ", "))
	}
	if err := fs.only(pos[0] != "all", "to one scenario, not to 'run all'", "variant", "pcap", "svg", "mermaid", "plantuml", "width", "ascii"); err != nil {
		return err
	}
	var dashes []string
	for _, o := range f.outputs() {
		if *o.file == "-" {
			dashes = append(dashes, "--"+o.name+" -")
		}
	}
	if len(dashes) > 1 {
		return usageError("%s both want stdout: give all but one of them a file name", strings.Join(dashes, " and "))
	}
	toStdout := len(dashes) > 0
	if err := fs.only(!toStdout, "when stdout carries no capture or diagram file (--pcap -, --svg -, --mermaid -, --plantuml -)", "json", "width", "ascii"); err != nil {
		return err
	}
	if err := fs.only(!*f.json, "to the text diagram, not with --json", "width", "ascii"); err != nil {
		return err
	}
	if pos[0] == "all" {
		return runAll(e, f)
	}
	if !fs.given["width"] {
		*f.width = uint64(diagramWidth(e.stdout, os.Getenv))
	}
	return runOne(e, pos[0], f)
}

func runOne(e *env, id string, f runFlags) error {
	res, err := lab.Run(id, lab.Options{Variant: *f.variant, Profile: *f.profile, Seed: *f.seed})
	switch {
	case errors.Is(err, lab.ErrUnknown):
		return usageError("%s", strings.TrimPrefix(err.Error(), "unknown: "))
	case errors.Is(err, lab.ErrNotRunnable):
		return usageError("%v", err)
	case err != nil:
		return err
	}
	toStdout := false
	for _, o := range f.outputs() {
		if *o.file == "" {
			continue
		}
		toStdout = toStdout || *o.file == "-"
		if err := writeOutput(e, *o.file, o.render(res)); err != nil {
			return err
		}
	}
	switch {
	case toStdout:
		return nil
	case *f.json:
		return res.WriteJSON(e.stdout)
	}
	return res.WriteText(e.stdout, lab.TextOptions{Width: int(*f.width), ASCII: *f.ascii})
}

// output is a flag naming a file for one rendering of a run.
type output struct {
	name   string
	file   *string
	render func(*lab.Result) []byte
}

// outputs are the run's file outputs, in the order they are written.
func (f runFlags) outputs() []output {
	return []output{
		{"pcap", f.pcap, func(r *lab.Result) []byte { return r.Pcap }},
		{"svg", f.svg, func(r *lab.Result) []byte { return r.SVG(lab.SVGOptions{}) }},
		{"mermaid", f.mermaid, func(r *lab.Result) []byte { return []byte(r.Mermaid()) }},
		{"plantuml", f.plantuml, func(r *lab.Result) []byte { return []byte(r.PlantUML()) }},
	}
}

// writeOutput writes b to the file named by an output flag, or to stdout
// for "-"; "" (the flag not given) writes nothing.
func writeOutput(e *env, name string, b []byte) error {
	switch name {
	case "":
		return nil
	case "-":
		_, err := e.stdout.Write(b)
		return err
	}
	return os.WriteFile(name, b, 0o644)
}
