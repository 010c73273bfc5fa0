//go:build linux

// Package dccpprobe is a job for an internal/vm VM: it exercises the
// Linux kernel's DCCP sockets and a TUN device from inside the VM, and
// prints what it saw as one JSON line, so that a test on the host can
// assert it. Its command, internal/vm/cmd/dccpprobe, builds only with the
// vmguest tag (BuildStatic sets it), so that go install ./... leaves it out:
//
//	dccpprobe [-service 42] [-timeout 10s]
//
// It runs three probes:
//
//   - loopback: a kernel listener on 127.0.0.1 and a kernel client with the
//     same service code; the client sends datagrams that the server reads
//     back one per read (DCCP keeps datagram boundaries), the server answers
//     one, both close. Once with the kernel's default CCID (2) and once with
//     both sockets offering only CCID 3.
//   - service: a client with another service code (connect fails with
//     EBADRQC, Reset code 8, RFC 4340 §8.1.2) and a client of a port where
//     nothing listens (ECONNREFUSED).
//   - tun: a TUN device opened with link/tun; an IPv4/UDP packet written to
//     it reaches a kernel UDP socket, and a kernel DCCP client's Request to
//     an address behind the device comes out of it.
//
// The last line of its output is reportPrefix followed by the JSON Report.
// It exits 0 when every probe ran, even if one saw something unexpected:
// judging is the test's job.
package dccpprobe

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// reportPrefix starts the report line.
const reportPrefix = "dccpprobe-report "

// report is everything the probes saw.
type report struct {
	Kernel     string            `json:"kernel"`
	Loopback   loopbackResult    `json:"loopback"`
	CCID3      loopbackResult    `json:"ccid3"`
	BadService dialResult        `json:"bad_service"`
	NoListener dialResult        `json:"no_listener"`
	TUN        tunResult         `json:"tun"`
	Sysctls    map[string]string `json:"sysctls"`
}

// dialResult is the outcome of a connect that is expected to fail.
type dialResult struct {
	Errno string `json:"errno"` // e.g. "EBADRQC"; "" if connect succeeded
	Err   string `json:"err"`
}

// Main runs the probes with the command line's flags and prints the report.
func Main() {
	service := flag.Uint("service", 42, "service code of the loopback listener")
	timeout := flag.Duration("timeout", 10*time.Second, "bound on every blocking call")
	flag.Parse()
	var r report
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		r.Kernel = string(b[:len(b)-1])
	}
	r.Sysctls = readSysctls()
	r.Loopback = probeLoopback(uint32(*service), 0, *timeout)
	r.CCID3 = probeLoopback(uint32(*service), 3, *timeout)
	r.BadService = probeBadService(uint32(*service), *timeout)
	r.NoListener = probeNoListener(uint32(*service), *timeout)
	r.TUN = probeTUN(uint32(*service), *timeout)
	b, err := json.Marshal(r)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dccpprobe:", err)
		os.Exit(1)
	}
	fmt.Printf("%s%s\n", reportPrefix, b)
}

// errnoName returns the symbolic name of the errno inside err, or "".
func errnoName(err error) string {
	var e unix.Errno
	if errors.As(err, &e) {
		return unix.ErrnoName(e)
	}
	return ""
}

// readSysctls returns the DCCP defaults under /proc/sys/net/dccp/default.
func readSysctls() map[string]string {
	const dir = "/proc/sys/net/dccp/default/"
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out
	}
	for _, e := range entries {
		if b, err := os.ReadFile(dir + e.Name()); err == nil && len(b) > 0 {
			out[e.Name()] = string(b[:len(b)-1])
		}
	}
	return out
}
