package lab

// The listen backlog (SCENARIOS.md §3, seed 003_*). The stack's backlog
// behaviours (profile fields SYNACKBeforeAccept, RSTOnFullBacklog,
// SeparateSYNQueue, HoldFINWhileUnread) landed while the lab was written;
// the lab's client programs for the rows (send, FIN, RST, vanish before
// accept) are not written yet, so these scenarios refuse to run.

// backlogNeeds says what the backlog scenarios wait for.
const backlogNeeds = "the lab's programs for the backlog rows (a client that sends, FINs, resets or " +
	"vanishes before accept; the stack's backlog profiles exist, the lab's side is not written yet)"

var backlogProfiles = []string{"vos-17.1", "linux", "vos-legacy"}

// backlogVariants: for the backlog rows the variants are the profiles.
func backlogVariants(why string) []Variant {
	return []Variant{
		{Name: "vos-17.1", Profile: "vos-17.1", Summary: "the seed's table (STCP 17.1)", Why: why},
		{Name: "linux", Profile: "linux", Summary: "the Linux kernel", Why: why},
	}
}

func init() {
	rows := []struct{ id, summary string }{
		{"backlog-nothing", "the client does nothing before accept: accept returns, the 1st read blocks"},
		{"backlog-data", "the client sent data before accept: accept returns, data, then the read blocks"},
		{"backlog-fin", "the client sent FIN before accept: accept returns, the 1st read gives EOF"},
		{"backlog-data-fin", "data and FIN before accept: data, then EOF"},
		{"backlog-data-fin-gone", "data, FIN, then the client's socket vanished: reset (data, if read before the RST lands)"},
		{"backlog-fin-gone", "FIN, then the client's socket vanished: EOF; a write draws RST"},
		{"backlog-data-rst", "data, then RST before accept: accept never sees it (vos-17.1); linux returns it, then reset"},
		{"backlog-rst", "RST before accept: accept never sees it (vos-17.1); linux returns it, then reset"},
	}
	for _, r := range rows {
		register(&Scenario{ID: r.id, Group: "backlog", Client: "client", Server: "server", Summary: r.summary,
			Profiles: backlogProfiles, Needs: backlogNeeds,
			Variants: backlogVariants(`A modern stack completes the handshake as soon as the SYN arrives and parks ` +
				`the connection in the accept queue, so the client can send data, FIN or RST before the server ` +
				`ever calls accept(); what accept() and the reads then return is the profile's.`)})
	}
	register(&Scenario{ID: "backlog-full", Group: "backlog", Client: "client", Server: "server",
		Summary:  "more connections than the backlog holds: modern stacks drop the SYN, legacy ones answer RST",
		Profiles: backlogProfiles, Needs: backlogNeeds,
		Variants: []Variant{
			{Name: "modern", Profile: "vos-17.1", Summary: "full backlog drops SYNs",
				Why: `Once the accept queue is full, further SYNs get no answer and the client retransmits with backoff.`},
			{Name: "legacy", Profile: "vos-legacy", Summary: "no SYN-ACK until accept; full backlog answers RST",
				Why: `Before 17.1 STCP answered a SYN only when accept() took it, and a full backlog with RST.`},
		}})
}
