package testnet_test

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/teardown-lab/teardown/testnet"
)

// TestReportChild fails on purpose, with a connection holding unread data
// and a fault that fired; TestReport runs it in a child process.
func TestReportChild(t *testing.T) {
	if os.Getenv("TESTNET_REPORT_CHILD") != "1" {
		t.Skip("fails on purpose; run by TestReport_FailingTestExplainsItself")
	}
	synctest.Test(t, func(t *testing.T) {
		n := testnet.New(t)
		client, server := n.Host("client"), n.Host("server")
		n.Link(client, server, testnet.DropFIN(-1))
		ln, _ := server.Listen("tcp", ":9")
		accepted, cut := make(chan struct{}), make(chan struct{})
		go func() {
			c, err := ln.Accept()
			if err == nil {
				c.Read(make([]byte, 1)) // reads one byte of five
				close(accepted)
				<-cut
				c.Write([]byte("reply")) // lost, again and again
			}
		}()
		c, _ := client.Dial("tcp", "server:9")
		c.Write([]byte("hello"))
		<-accepted
		n.PartitionOneWay(server, client)
		close(cut)
		time.Sleep(2 * time.Second)
		t.Error("failing on purpose")
	})
}

func TestReport_FailingTestExplainsItself(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child test binary")
	}
	run := func(args ...string) string {
		cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestReportChild$", "-test.v"}, args...)...)
		cmd.Env = append(os.Environ(), "TESTNET_REPORT_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("the child passed; it fails on purpose:\n%s", out)
		}
		return string(out)
	}
	out := run()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`testnet: seed \d+`),
		regexp.MustCompile(`replay: go test -run '\^TestReportChild\$' -testnet\.seed=\d+`),
		regexp.MustCompile(`server\s+tcp\s+10\.0\.0\.2:9\s+\*\s+LISTEN\s+0\s+0\s+0`),
		// The server's connection holds 4 unread bytes and its "reply",
		// cut off, unacknowledged.
		regexp.MustCompile(`server\s+tcp\s+10\.0\.0\.2:9\s+10\.0\.0\.1:\d+\s+ESTABLISHED\s+5\s+4`),
		regexp.MustCompile(`client\s+tcp\s+10\.0\.0\.1:\d+\s+10\.0\.0\.2:9\s+ESTABLISHED\s+0\s+0`),
		regexp.MustCompile(`link client-server: Latency\(1ms\) DropFIN\(-1\)`),
		regexp.MustCompile(`link server->client partitioned`),
		regexp.MustCompile(`server->client dropped \(partition\): \d+ packets`),
		regexp.MustCompile(`capture: (\S+\.pcap)`),
	} {
		if !want.MatchString(out) {
			t.Errorf("the failure output lacks %s:\n%s", want, out)
		}
	}
	if m := regexp.MustCompile(`capture: (\S+\.pcap)`).FindStringSubmatch(out); m != nil {
		st, err := os.Stat(m[1])
		if err != nil || st.Size() < 24+5*16 {
			t.Errorf("the capture of a failed test %s: %v, size %d; want it kept, with packets", m[1], err, st.Size())
		}
		os.Remove(m[1])
	}
	// The replay command's flag takes over the seed.
	out = run("-testnet.seed=42")
	if !strings.Contains(out, "testnet: seed 42\n") || !strings.Contains(out, "-testnet.seed=42") {
		t.Errorf("with -testnet.seed=42 the report names another seed:\n%s", out)
	}
	if m := regexp.MustCompile(`capture: (\S+\.pcap)`).FindStringSubmatch(out); m != nil {
		os.Remove(m[1])
	}
}

// -testnet.pcap=DIR keeps the capture of a passing test.
func TestReport_PcapFlagKeepsPassingCaptures(t *testing.T) {
	if os.Getenv("TESTNET_REPORT_CHILD") == "1" {
		synctest.Test(t, func(t *testing.T) {
			n := testnet.New(t)
			n.Host("a").Dial("tcp", "a:1") // refused: a few packets
		})
		return
	}
	if testing.Short() {
		t.Skip("runs a child test binary")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestReport_PcapFlagKeepsPassingCaptures$", "-testnet.pcap="+dir)
	cmd.Env = append(os.Environ(), "TESTNET_REPORT_CHILD=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 1 || !strings.HasPrefix(files[0].Name(), "TestReport_PcapFlagKeepsPassingCaptures") {
		t.Errorf("-testnet.pcap kept %v; want the passing test's capture", files)
	}
}
