package lab

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// cataloguePath is the scenario catalogue, from the package directory.
const cataloguePath = "../docs/scenarios.md"

// catalogueEntry is what docs/scenarios.md says about one scenario: the
// "- Variants:" and "- Profiles compared:" lines under its "###" heading.
// A heading may name several scenarios that share the two lines.
type catalogueEntry struct {
	variants, profiles []string
}

var (
	backticked = regexp.MustCompile("`([^`]+)`")
	// scenarioLike matches what reads as a scenario id in the catalogue.
	scenarioLike = regexp.MustCompile(`^(tcp|dccp|backlog)-[a-z0-9-]+$`)
)

// ticked returns the backticked words of s, in order.
func ticked(s string) []string {
	var out []string
	for _, m := range backticked.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// readCatalogue parses the catalogue: its entries by scenario id, and
// every backticked word anywhere in it that looks like a scenario id.
func readCatalogue(t *testing.T, text string) (map[string]*catalogueEntry, []string) {
	t.Helper()
	entries := map[string]*catalogueEntry{}
	var current *catalogueEntry
	var mentioned []string
	for _, line := range strings.Split(text, "\n") {
		for _, w := range ticked(line) {
			if scenarioLike.MatchString(w) {
				mentioned = append(mentioned, w)
			}
		}
		switch {
		case strings.HasPrefix(line, "### "):
			current = nil
			ids := slices.DeleteFunc(ticked(line), func(w string) bool { return !scenarioLike.MatchString(w) })
			if len(ids) == 0 {
				continue
			}
			current = &catalogueEntry{}
			for _, id := range ids {
				if entries[id] != nil {
					t.Errorf("%s: scenario %s has two headings", cataloguePath, id)
				}
				entries[id] = current
			}
		case strings.HasPrefix(line, "## "):
			current = nil
		case current != nil && strings.HasPrefix(line, "- Variants:"):
			// Only the names: a variant's description in parentheses
			// carries no backticks.
			current.variants = ticked(line)
		case current != nil && strings.HasPrefix(line, "- Profiles compared:"):
			current.profiles = ticked(line)
		}
	}
	return entries, mentioned
}

// TestCatalogue_MatchesRegistry: docs/scenarios.md and the lab's registry
// agree. Every registered scenario has an entry listing its variants (in
// order: the first is the default) and the profiles it compares, and the
// file names no scenario id the lab does not have.
func TestCatalogue_MatchesRegistry(t *testing.T) {
	b, err := os.ReadFile(cataloguePath)
	if err != nil {
		t.Fatalf("the scenario catalogue: %v", err)
	}
	entries, mentioned := readCatalogue(t, string(b))
	ids := IDs()
	for _, s := range Scenarios() {
		e := entries[s.ID]
		if e == nil {
			t.Errorf("%s: scenario %s is registered in lab but has no ### entry", cataloguePath, s.ID)
			continue
		}
		if !slices.Equal(e.variants, s.VariantNames()) {
			t.Errorf("%s: %s lists variants %v, the lab has %v", cataloguePath, s.ID, e.variants, s.VariantNames())
		}
		if !slices.Equal(e.profiles, s.Profiles) {
			t.Errorf("%s: %s compares profiles %v, the lab has %v", cataloguePath, s.ID, e.profiles, s.Profiles)
		}
	}
	for id := range entries {
		if !slices.Contains(ids, id) {
			t.Errorf("%s: has an entry for %s, which the lab does not register", cataloguePath, id)
		}
	}
	for _, id := range mentioned {
		if !slices.Contains(ids, id) {
			t.Errorf("%s: names %s, which the lab does not register", cataloguePath, id)
		}
	}
}
