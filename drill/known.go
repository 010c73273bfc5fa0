package drill

// The corpus of drill/testdata against what judges it: the scripts that
// fail for a known reason, keyed by their path under drill/testdata. Each
// reason names the line and the difference; the tests skip these loudly
// and docs/conformance.md lists them.

// KernelDiffers names the scripts that pin something our stack does
// differently from Linux, and what: they fail on the kernel for that
// reason alone, and are skipped loudly until the stack or the script
// changes. Empty since the linux profile chose its window scale as Linux.
var KernelDiffers = map[string]string{}

// LinuxProfileDiffers names the scripts (paths under testdata/) that
// pass on the kernel but not on our linux profile, with the difference:
// differences issue 14 lists for the linux profile to fix. They are
// skipped loudly until the stack changes.
var LinuxProfileDiffers = map[string]string{
	"linux_recovery_fack.pkt": "line 22: when RACK's reordering timer deems the three holes below the one SACKed segment lost, " +
		"Linux enters recovery with its window still 11 and resends all three at once, cutting the window by PRR " +
		"(RFC 6937) only from the next ACK on; ours cuts cwnd to ssthresh at once, 70% of the flight (2 segments, " +
		"RFC 9438 §4.6) where Linux takes 70% of cwnd, and resends one hole per ACK (docs/drill.md: a deliberate choice)",
	"linux_recovery_last_byte.pkt": "line 18: Linux SACKs whole segments: a block covering only the last byte of a segment " +
		"marks nothing (sacked 0, CA Open), and after the RTO all four segments are lost and the last is resent whole right " +
		"behind the other holes; our scoreboard counts SACKed octets (RFC 2018, RFC 6675): the byte is SACKed (sacked 1, " +
		"Disorder), three segments are lost, and 4381:5840 would wait for an ACK reaching it (docs/drill.md: a deliberate choice)",
	"linux_recovery_prr.pkt": "line 25: with seven of ten segments lost and the pipe empty, Linux's PRR (RFC 6937) " +
		"lets one segment out for the one SACK that began recovery (cwnd 1: 1:1461) and four on the next ACK; " +
		"ours sets cwnd to ssthresh (7) and RFC 6675's pipe lets all seven holes go at once, lowest first " +
		"(docs/drill.md: a deliberate choice)",
}
