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
		usage: "run ID|all [--variant V] [--profile P] [--seed N] [--pcap FILE] [--svg FILE] [--json] [--width N] [--ascii]",
		long: "Run replays scenario ID (see 'teardown list') on a deterministic simulated network and prints a " +
			"sequence diagram (simulated time on the left, one column per host, application calls, packets and " +
			"state changes), what each application saw, the verdict (data lost, errors) and why. The same " +
			"arguments always give the same output and the same pcap bytes.\n\n" +
			"'run all' replays every scenario in every variant and prints a summary table.",
		run: runRun,
	})
}

type runFlags struct {
	variant, profile, pcap, svg string
	seed                        uint64
	json, ascii                 bool
	width                       int
}

func runRun(e *env, args []string) error {
	fs := newFlags(e, commands["run"])
	var f runFlags
	fs.StringVar(&f.variant, "variant", "", "the variant (default: the scenario's first, usually naive)")
	fs.StringVar(&f.profile, "profile", "", "the stacks' profile: "+strings.Join(profile.Names(), ", ")+" (default: the variant's, usually linux)")
	fs.Uint64Var(&f.seed, "seed", lab.DefaultSeed, "the simulation's seed")
	fs.StringVar(&f.pcap, "pcap", "", "write the capture to `FILE`")
	fs.StringVar(&f.svg, "svg", "", "write the diagram as SVG to `FILE`")
	fs.BoolVar(&f.json, "json", false, "print one JSON object instead of text")
	fs.IntVar(&f.width, "width", trace.DefaultWidth, "the diagram's width in columns")
	fs.BoolVar(&f.ascii, "ascii", false, "draw with ASCII only")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("run takes one scenario id or 'all' (scenarios: %s)", strings.Join(lab.IDs(), ", "))
	}
	if pos[0] == "all" {
		if f.variant != "" || f.pcap != "" || f.svg != "" || f.json {
			return usageError("run all takes only --profile and --seed")
		}
		return runAll(e, f)
	}
	return runOne(e, pos[0], f)
}

func runOne(e *env, id string, f runFlags) error {
	res, err := lab.Run(id, lab.Options{Variant: f.variant, Profile: f.profile, Seed: f.seed})
	switch {
	case errors.Is(err, lab.ErrUnknown):
		return usageError("%s", strings.TrimPrefix(err.Error(), "unknown: "))
	case errors.Is(err, lab.ErrNotRunnable):
		return usageError("%v", err)
	case err != nil:
		return err
	}
	if f.pcap != "" {
		if err := os.WriteFile(f.pcap, res.Pcap, 0o644); err != nil {
			return err
		}
	}
	if f.svg != "" {
		if err := os.WriteFile(f.svg, res.SVG(lab.SVGOptions{}), 0o644); err != nil {
			return err
		}
	}
	if f.json {
		return res.WriteJSON(e.stdout)
	}
	return res.WriteText(e.stdout, lab.TextOptions{Width: f.width, ASCII: f.ascii})
}

// runAll replays every scenario in every variant and prints a table.
func runAll(e *env, f runFlags) error {
	type row struct{ id, variant, profile, lost, errs string }
	var rows []row
	progress := isTerminal(e.stderr)
	var failed []string
	for _, s := range lab.Scenarios() {
		for _, v := range s.Variants {
			if progress {
				fmt.Fprintf(e.stderr, "\rrunning %-40s", s.ID+" "+v.Name)
			}
			res, err := lab.Run(s.ID, lab.Options{Variant: v.Name, Profile: f.profile, Seed: f.seed})
			switch {
			case errors.Is(err, lab.ErrNotRunnable):
				p := f.profile
				if p == "" {
					p = v.Profile
				}
				rows = append(rows, row{s.ID, v.Name, p, "-", "not runnable yet: needs " + s.Needs})
				continue
			case err != nil:
				failed = append(failed, s.ID+"/"+v.Name+": "+err.Error())
				continue
			}
			rows = append(rows, row{s.ID, v.Name, res.Profile.Name, lostText(res.Verdict()), errorsText(res.Verdict())})
		}
	}
	if progress {
		fmt.Fprintf(e.stderr, "\r%-48s\r", "")
	}
	w := [4]int{len("SCENARIO"), len("VARIANT"), len("PROFILE"), len("DATA LOST")}
	for _, r := range rows {
		w = [4]int{max(w[0], len(r.id)), max(w[1], len(r.variant)), max(w[2], len(r.profile)), max(w[3], len(r.lost))}
	}
	fmt.Fprintf(e.stdout, "%-*s  %-*s  %-*s  %-*s  %s\n", w[0], "SCENARIO", w[1], "VARIANT", w[2], "PROFILE", w[3], "DATA LOST", "ERRORS")
	for _, r := range rows {
		fmt.Fprintf(e.stdout, "%-*s  %-*s  %-*s  %-*s  %s\n", w[0], r.id, w[1], r.variant, w[2], r.profile, w[3], r.lost, r.errs)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d runs failed:\n%s", len(failed), strings.Join(failed, "\n"))
	}
	return nil
}

func lostText(v lab.Verdict) string {
	if !v.DataLost {
		return "no"
	}
	return fmt.Sprintf("%d bytes", v.LostBytes)
}

func errorsText(v lab.Verdict) string {
	if len(v.Errors) == 0 {
		return "none"
	}
	var s []string
	for _, e := range v.Errors {
		s = append(s, e.Host+" "+e.Error)
	}
	return strings.Join(s, "; ")
}
