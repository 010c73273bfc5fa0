package main

import (
	"fmt"
	"strings"

	"github.com/teardown-lab/teardown/lab"
)

func init() {
	register(&command{
		name:  "list",
		short: "list the scenarios the lab can replay",
		usage: "list",
		long: "List prints every scenario of docs/scenarios.md, one per line: its id, its variants and a one-line " +
			"summary. Scenarios that cannot run yet are marked with what they need.",
		run: runList,
	})
}

func runList(e *env, args []string) error {
	fs := newFlags(e, commands["list"])
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := noArgs(commands["list"], pos); err != nil {
		return err
	}
	idW, varW := 0, 0
	for _, s := range lab.Scenarios() {
		idW = max(idW, len(s.ID))
		varW = max(varW, len(strings.Join(s.VariantNames(), ",")))
	}
	for _, s := range lab.Scenarios() {
		summary := s.Summary
		if !s.Runnable() {
			summary = "[not runnable yet] " + summary
		}
		fmt.Fprintf(e.stdout, "%-*s  %-*s  %s\n", idW, s.ID, varW, strings.Join(s.VariantNames(), ","), summary)
	}
	needs := map[string]bool{}
	for _, s := range lab.Scenarios() {
		if !s.Runnable() && !needs[s.Needs] {
			needs[s.Needs] = true
			fmt.Fprintf(e.stdout, "\nnot runnable yet (%s): needs %s\n", s.Group, s.Needs)
		}
	}
	return nil
}
