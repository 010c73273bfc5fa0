package lab

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/teardown-lab/teardown/profile"
	"github.com/teardown-lab/teardown/stack"
)

// Scenario is one teardown scenario of docs/scenarios.md, as code.
type Scenario struct {
	// ID is the name the CLI, the tests and the docs use ("tcp-echo-one").
	ID string
	// Group is the docs/scenarios.md group: "tcp-close", "dccp" or "backlog".
	Group string
	// Summary is one line for "teardown list".
	Summary string
	// Client and Server name the two hosts, as the seeds do ("A" and "B",
	// "client" and "server"). The client dials, the server listens; the
	// client is drawn on the left.
	Client, Server string
	// Variants are the ways the applications may behave; the first is the
	// default ("naive" where there is one).
	Variants []Variant
	// Profiles lists profiles whose difference this scenario shows (the
	// default first); any known profile may be chosen.
	Profiles []string
	// Needs, if set, says what is missing before the scenario can run
	// ("stack.DialDCCP and stack.ListenDCCP"): Run returns ErrNotRunnable.
	Needs string
	// Settle is how long the network keeps running after the last
	// application returned (default 1 s of simulated time), so that the
	// packets the close sent are drawn.
	Settle time.Duration
	// Limit bounds the simulated run (default 5 minutes).
	Limit time.Duration
	// TCP adjusts the stacks' TCP options (Nagle stays off, the stack's
	// default, so that every send is a segment, as in the seeds' diagrams).
	TCP func(host string, o *stack.TCPOptions)
	// ProfileWhy adds a sentence to the explanation under a profile.
	ProfileWhy map[string]string

	program func(p *Program)
}

// Variant is one way the applications of a scenario behave.
type Variant struct {
	// Name is the variant's id ("naive", "shutdown", "linger").
	Name string
	// Summary is a few words for "teardown list".
	Summary string
	// Profile is the default profile of this variant ("" means linux).
	Profile string
	// Why explains the outcome: the rule that decided it (RFC section,
	// profile field) and what the fixed variant changes.
	Why string
}

// Runnable reports whether the scenario can run now.
func (s *Scenario) Runnable() bool { return s.Needs == "" && s.program != nil }

// VariantNames returns the names of the scenario's variants, in order.
func (s *Scenario) VariantNames() []string {
	names := make([]string, len(s.Variants))
	for i, v := range s.Variants {
		names[i] = v.Name
	}
	return names
}

// Variant returns the named variant ("" means the first).
func (s *Scenario) Variant(name string) (Variant, error) {
	if name == "" {
		return s.Variants[0], nil
	}
	for _, v := range s.Variants {
		if v.Name == name {
			return v, nil
		}
	}
	return Variant{}, fmt.Errorf("%w: scenario %s has no variant %q (variants: %s)",
		ErrUnknown, s.ID, name, strings.Join(s.VariantNames(), ", "))
}

// ErrUnknown is returned for a scenario id, variant or profile that does
// not exist; the message lists the valid names.
var ErrUnknown = errors.New("unknown")

// ErrNotRunnable is returned by Run for a scenario whose stack support is
// missing; the message says what it needs.
var ErrNotRunnable = errors.New("not runnable yet")

var registry []*Scenario

// register adds s to the registry; ids are unique.
func register(s *Scenario) {
	for _, o := range registry {
		if o.ID == s.ID {
			panic("lab: scenario " + s.ID + " registered twice")
		}
	}
	if len(s.Variants) == 0 || s.Client == "" || s.Server == "" || s.Client == s.Server {
		panic("lab: scenario " + s.ID + " needs variants and two distinct hosts")
	}
	registry = append(registry, s)
}

// groupOrder is the order of docs/scenarios.md's groups.
var groupOrder = []string{"tcp-close", "dccp", "backlog"}

// Scenarios returns every registered scenario in a stable order: by
// docs/scenarios.md group, then in the order the group lists them.
func Scenarios() []*Scenario {
	out := slices.Clone(registry)
	slices.SortStableFunc(out, func(a, b *Scenario) int {
		return slices.Index(groupOrder, a.Group) - slices.Index(groupOrder, b.Group)
	})
	return out
}

// IDs returns every scenario id, in the order of Scenarios.
func IDs() []string {
	var ids []string
	for _, s := range Scenarios() {
		ids = append(ids, s.ID)
	}
	return ids
}

// Lookup returns the scenario with the given id; an unknown id is an
// ErrUnknown error that lists the valid ones.
func Lookup(id string) (*Scenario, error) {
	for _, s := range registry {
		if s.ID == id {
			return s, nil
		}
	}
	return nil, fmt.Errorf("%w scenario %q (scenarios: %s)", ErrUnknown, id, strings.Join(IDs(), ", "))
}

// lookupProfile resolves a profile name ("" means def, then linux).
func lookupProfile(name, def string) (profile.Profile, error) {
	if name == "" {
		name = def
	}
	if name == "" {
		return profile.Linux, nil
	}
	p, err := profile.ByName(name)
	if err != nil {
		return profile.Profile{}, fmt.Errorf("%w profile %q (profiles: %s)", ErrUnknown, name, strings.Join(profile.Names(), ", "))
	}
	return p, nil
}
