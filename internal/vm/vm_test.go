package vm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	RemoveBuilds()
	os.Exit(code)
}

// needVM skips, loudly, when this machine cannot boot the VM, and fetches
// the kernel when it can.
func needVM(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("SKIP: -short: the VM tests boot qemu")
	}
	if err := Available(); err != nil {
		t.Skipf("SKIP (the Linux DCCP interop harness cannot run here): %v", err)
	}
	start := time.Now()
	k, err := Assets("")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kernel %s in %s (ready in %v)", k.Package, k.Dir, time.Since(start).Round(time.Millisecond))
}

// probeReport is what package dccpprobe prints; the test declares its own
// copy of the fields it checks.
type probeReport struct {
	Kernel     string        `json:"kernel"`
	Loopback   probeLoopback `json:"loopback"`
	CCID3      probeLoopback `json:"ccid3"`
	BadService probeDial     `json:"bad_service"`
	NoListener probeDial     `json:"no_listener"`
	TUN        struct {
		UDPPayload string `json:"udp_payload"`
		UDPFrom    string `json:"udp_from"`
		Request    *struct {
			Src     string `json:"src"`
			Dst     string `json:"dst"`
			Type    int    `json:"type"`
			X       bool   `json:"x"`
			Service uint32 `json:"service"`
		} `json:"request"`
		Err string `json:"err"`
	} `json:"tun"`
	Sysctls map[string]string `json:"sysctls"`
}

type probeLoopback struct {
	Sent     []string `json:"sent"`
	Received []string `json:"received"`
	Reply    string   `json:"reply"`
	TxCCID   int      `json:"tx_ccid"`
	RxCCID   int      `json:"rx_ccid"`
	EOF      bool     `json:"eof"`
	Err      string   `json:"err"`
}

type probeDial struct {
	Errno string `json:"errno"`
	Err   string `json:"err"`
}

func parseProbeReport(t *testing.T, out []byte) probeReport {
	t.Helper()
	var rep probeReport
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "dccpprobe-report "); ok {
			if err := json.Unmarshal([]byte(rest), &rep); err != nil {
				t.Fatalf("report: %v\n%s", err, rest)
			}
			return rep
		}
	}
	t.Fatalf("no report line in the job's output:\n%s", out)
	return rep
}

// TestBoot_KernelDCCPAndTUN boots Debian 12's 6.1 kernel and runs
// internal/vm/cmd/dccpprobe in it: kernel DCCP sockets over loopback with CCID 2 and
// CCID 3, the service-code check, and a TUN device opened by link/tun.
func TestBoot_KernelDCCPAndTUN(t *testing.T) {
	needVM(t)
	testStart := time.Now()
	ctx := context.Background()
	bin, err := BuildStatic(ctx, "./internal/vm/cmd/dccpprobe")
	if err != nil {
		t.Fatal(err)
	}
	var console strings.Builder
	res, err := Boot(ctx, Config{
		Binary:  bin,
		Args:    []string{"-service", "7", "-timeout", "20s"},
		Modules: []string{"dccp", "dccp_ipv4", "tun"},
		Timeout: 90 * time.Second,
		Console: &console,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("boot to /init %v (guest uptime %ss), VM run %v, test %v",
		res.BootTime.Round(time.Millisecond), res.GuestUptime, res.Duration.Round(time.Millisecond),
		time.Since(testStart).Round(time.Millisecond))
	if res.ExitStatus != 0 {
		t.Fatalf("dccpprobe exit status %d\n%s", res.ExitStatus, res.Output)
	}
	if !strings.Contains(console.String(), "teardown-vm: job exit status 0") {
		t.Errorf("Config.Console did not get the console:\n%s", console.String())
	}
	rep := parseProbeReport(t, res.Output)
	if !strings.HasPrefix(rep.Kernel, "6.1.") {
		t.Errorf("guest kernel %q, want Debian 12's 6.1", rep.Kernel)
	}
	checkLoopback(t, "default CCID", rep.Loopback, 2)
	checkLoopback(t, "CCID 3", rep.CCID3, 3)
	if rep.BadService.Errno != "EBADRQC" {
		t.Errorf("wrong service code: connect error %q (%s), want EBADRQC (Reset code 8, RFC 4340 §8.1.2)", rep.BadService.Errno, rep.BadService.Err)
	}
	if rep.NoListener.Errno != "ECONNREFUSED" {
		t.Errorf("no listener: connect error %q (%s), want ECONNREFUSED", rep.NoListener.Errno, rep.NoListener.Err)
	}
	checkTUN(t, rep)
	if rep.Sysctls["seq_window"] != "100" || rep.Sysctls["tx_qlen"] != "5" {
		t.Errorf("DCCP sysctls %v: want seq_window 100 and tx_qlen 5 (the 6.1 defaults)", rep.Sysctls)
	}
}

func checkLoopback(t *testing.T, name string, r probeLoopback, ccid int) {
	t.Helper()
	if r.Err != "" {
		t.Errorf("%s: loopback probe failed: %s", name, r.Err)
		return
	}
	if len(r.Sent) != 3 || strings.Join(r.Received, "|") != strings.Join(r.Sent, "|") {
		t.Errorf("%s: sent %q, the server's reads returned %q: want one read per datagram, in order", name, r.Sent, r.Received)
	}
	if r.Reply != "reply" {
		t.Errorf("%s: the client read %q from the server, want %q", name, r.Reply, "reply")
	}
	if r.TxCCID != ccid || r.RxCCID != ccid {
		t.Errorf("%s: CCIDs tx %d rx %d, want %d", name, r.TxCCID, r.RxCCID, ccid)
	}
	if !r.EOF {
		t.Errorf("%s: the server did not read end-of-stream after the client closed", name)
	}
}

func checkTUN(t *testing.T, rep probeReport) {
	t.Helper()
	tun := rep.TUN
	if tun.Err != "" {
		t.Fatalf("TUN probe failed: %s", tun.Err)
	}
	if tun.UDPPayload != "through the tun device" || tun.UDPFrom != "10.77.0.2:5555" {
		t.Errorf("packet written to the TUN device: the kernel UDP socket read %q from %s", tun.UDPPayload, tun.UDPFrom)
	}
	r := tun.Request
	if r == nil {
		t.Fatal("no DCCP Request came out of the TUN device")
	}
	// -service 7 reached the job: the kernel client's Request carries it.
	if r.Type != 0 || !r.X || r.Service != 7 || r.Dst != "10.77.0.2:5001" || !strings.HasPrefix(r.Src, "10.77.0.1:") {
		t.Errorf("DCCP packet from the kernel on the TUN device: %+v, want a Request with 48-bit sequence numbers, service 7, 10.77.0.1 → 10.77.0.2:5001", *r)
	}
}

// TestBoot_ExitStatus: the job's exit status crosses the VM boundary (the
// flag package exits 2 on an unknown flag), and so does its output.
func TestBoot_ExitStatus(t *testing.T) {
	needVM(t)
	bin, err := BuildStatic(context.Background(), "./internal/vm/cmd/dccpprobe")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Boot(context.Background(), Config{Binary: bin, Args: []string{"-no-such-flag"}, Timeout: 90 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitStatus != 2 {
		t.Errorf("exit status %d, want 2 (flag: unknown flag)", res.ExitStatus)
	}
	if !bytes.Contains(res.Output, []byte("flag provided but not defined: -no-such-flag")) {
		t.Errorf("job output does not carry the flag error:\n%s", res.Output)
	}
}

// TestBoot_Timeout: a VM that has not finished when Config.Timeout expires
// is killed, and Boot's error carries the console.
func TestBoot_Timeout(t *testing.T) {
	needVM(t)
	bin, err := BuildStatic(context.Background(), "./internal/vm/cmd/dccpprobe")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Boot(context.Background(), Config{Binary: bin, Timeout: 300 * time.Millisecond})
	if err == nil {
		t.Fatalf("Boot returned no error for a VM killed at its timeout; exit status %d", res.ExitStatus)
	}
	if !strings.Contains(err.Error(), "killed after") || !strings.Contains(err.Error(), "--- console (end) ---") {
		t.Errorf("error does not say the VM was killed or lacks the console:\n%v", err)
	}
	if res == nil || res.ExitStatus != -1 {
		t.Errorf("result %+v: want ExitStatus -1 (never reported)", res)
	}
}
