package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/teardown-lab/teardown/lab"
)

// allReport is what 'run all --json' prints: one JSON object holding every
// run as 'run ID --json' prints it, and the variants that could not run.
type allReport struct {
	Seed        uint64            `json:"seed"`
	Runs        []json.RawMessage `json:"runs"`
	NotRunnable []notRunnable     `json:"not_runnable,omitempty"`
	Failed      []failedRun       `json:"failed,omitempty"`
	rows        []allRow          // the table's rows, in the same order
}

type notRunnable struct {
	Scenario string `json:"scenario"`
	Variant  string `json:"variant"`
	Needs    string `json:"needs"`
}

type failedRun struct {
	Scenario string `json:"scenario"`
	Variant  string `json:"variant"`
	Error    string `json:"error"`
}

type allRow struct{ id, variant, profile, lost, errs string }

// runAll replays every scenario in every variant and prints a table, or
// with --json one object.
func runAll(e *env, f runFlags) error {
	rep := allReport{Seed: *f.seed, Runs: []json.RawMessage{}}
	progress := isTerminal(e.stderr)
	for _, s := range lab.Scenarios() {
		for _, v := range s.Variants {
			if progress {
				fmt.Fprintf(e.stderr, "\rrunning %-40s", s.ID+" "+v.Name)
			}
			res, err := lab.Run(s.ID, lab.Options{Variant: v.Name, Profile: *f.profile, Seed: *f.seed})
			switch {
			case errors.Is(err, lab.ErrNotRunnable):
				p := *f.profile
				if p == "" {
					p = v.Profile
				}
				rep.rows = append(rep.rows, allRow{s.ID, v.Name, p, "-", "not runnable yet: needs " + s.Needs})
				rep.NotRunnable = append(rep.NotRunnable, notRunnable{s.ID, v.Name, s.Needs})
				continue
			case err != nil:
				rep.Failed = append(rep.Failed, failedRun{s.ID, v.Name, err.Error()})
				continue
			}
			rep.rows = append(rep.rows, allRow{s.ID, v.Name, res.Profile.Name, lostText(res.Verdict()), errorsText(res.Verdict())})
			var one bytes.Buffer
			if err := res.WriteJSON(&one); err != nil {
				return err
			}
			rep.Runs = append(rep.Runs, one.Bytes())
		}
	}
	if progress {
		fmt.Fprintf(e.stderr, "\r%-48s\r", "")
	}
	if *f.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		writeAllTable(e, rep.rows)
	}
	if len(rep.Failed) > 0 {
		var lines []string
		for _, r := range rep.Failed {
			lines = append(lines, r.Scenario+"/"+r.Variant+": "+r.Error)
		}
		return fmt.Errorf("%d runs failed:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	return nil
}

func writeAllTable(e *env, rows []allRow) {
	w := [4]int{len("SCENARIO"), len("VARIANT"), len("PROFILE"), len("DATA LOST")}
	for _, r := range rows {
		w = [4]int{max(w[0], len(r.id)), max(w[1], len(r.variant)), max(w[2], len(r.profile)), max(w[3], len(r.lost))}
	}
	fmt.Fprintf(e.stdout, "%-*s  %-*s  %-*s  %-*s  %s\n", w[0], "SCENARIO", w[1], "VARIANT", w[2], "PROFILE", w[3], "DATA LOST", "ERRORS")
	for _, r := range rows {
		fmt.Fprintf(e.stdout, "%-*s  %-*s  %-*s  %-*s  %s\n", w[0], r.id, w[1], r.variant, w[2], r.profile, w[3], r.lost, r.errs)
	}
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
