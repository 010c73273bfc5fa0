package main

import (
	"encoding/json"
	"fmt"

	"github.com/teardown-lab/teardown/analyze"
)

func init() {
	register(&command{
		name:  "analyze",
		short: "say how each TCP and DCCP connection in a capture was set up and how it ended",
		usage: "analyze FILE|- [--json] [--drop-bad-checksums]",
		long: "Analyze reads a pcap or pcapng capture (ours, tcpdump's, Wireshark's) and reports, for each TCP " +
			"and DCCP connection, its setup and its ending (FIN both ways, RST and by whom and in which state, " +
			"timeout, still open), with findings: RST while the peer's data was unacknowledged or unread, data " +
			"after FIN, a FIN never acknowledged, a client that closed without waiting for the server's FIN, " +
			"DCCP Close/CloseReq ping-pong. For each TCP connection it also gives (in the text's verdict: and fields: " +
			"lines, and in --json) Zeek's conn_state and history, " +
			"Wireshark's tcp.completeness bitmask, who closed first and a verdict named only as far as the capture " +
			"shows it (docs/analyze.md). FILE - reads the capture from stdin " +
			"(tcpdump -w - | teardown analyze -); the capture is read as a stream, so its size does not matter, " +
			"and on a terminal stderr shows how far it got. Connections are grouped by how they ended. Frames of " +
			"the link types Wireshark and Zeek read for TCP/IP are decoded, tunnels (VLAN, MPLS, PPPoE, GRE, ERSPAN, " +
			"VXLAN, Geneve, CAPWAP, IP in IP) opened and IP fragments reassembled; what cannot be is counted by reason.\n\n" +
			"Captures taken on the sending host carry unfinished checksums (checksum offload), so packets with " +
			"bad checksums are analysed by default; --drop-bad-checksums drops them instead.",
		run: runAnalyze,
	})
}

func runAnalyze(e *env, args []string) error {
	fs := newFlags(e, commands["analyze"])
	asJSON := fs.Bool("json", "print the report as JSON")
	drop := fs.Bool("drop-bad-checksums", "drop packets whose checksum does not verify")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("analyze takes one capture file (or - for stdin)")
	}
	opts := analyze.Options{DropBadChecksums: *drop}
	progress := isTerminal(e.stderr)
	if progress { // a large capture streams for a while: say how far it got
		opts.Progress = func(records int, _ analyze.Counts) {
			fmt.Fprintf(e.stderr, "\ranalyze: %d records read", records)
		}
	}
	var rep *analyze.Report
	if pos[0] == "-" {
		rep, err = analyze.Reader(e.stdin, opts)
	} else {
		rep, err = analyze.File(pos[0], opts)
	}
	if progress {
		fmt.Fprintf(e.stderr, "\r%-40s\r", "")
	}
	if err != nil && rep == nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(rep); jerr != nil {
			return jerr
		}
	} else if werr := rep.WriteText(e.stdout); werr != nil {
		return werr
	}
	return err // a capture cut short: the partial report is printed, then the error
}
