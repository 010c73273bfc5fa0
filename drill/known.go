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
// skipped loudly until the stack changes. A difference kept on purpose
// is not listed: a reviewed copy in testdata/linux/ pins what we do.
var LinuxProfileDiffers = map[string]string{
	"tcp_close_unsent.pkt": "line 19: PSH: Linux sets it on the last segment the peer's window lets out " +
		"(1001:2001 of a 6000-byte write); ours sends both segments without it (issue 14 item 5, PSH)",
	"syn_cookies.pkt": "line 17: Linux's SYN queue is full only when it holds more than the backlog " +
		"(inet_csk_reqsk_queue_is_full compares with >), so listen(fd, 1) answers a second SYN normally; " +
		"our listener holds exactly the backlog and answers it with a cookie (internal/tcp NewListener: syn.init(Backlog))",
}
