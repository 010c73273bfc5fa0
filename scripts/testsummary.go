//go:build ignore

// Testsummary is scripts/test.sh's reporter for `go test -json` (the build
// tag keeps it out of `go install ./...`; run it with go run or go build
// naming this file).
//
//	go test -json ./... 2>&1 | go run scripts/testsummary.go -label race -log race.json
//	go run scripts/testsummary.go -report race=race.json alloc=alloc.json
//
// The first form prints a line as each package finishes (and a heartbeat
// naming the running packages when nothing finished for a while), saves the
// stream to -log and exits 1 if a package failed. The second reads saved
// streams and prints the summary: skipped tests with their reasons, failed
// tests with their output; it exits 1 if anything failed.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/teardown-lab/teardown/internal/testsummary"
)

func main() {
	label := flag.String("label", "test", "the pass's name in the progress lines")
	logPath := flag.String("log", "", "save the event stream to this file")
	heartbeat := flag.Duration("heartbeat", time.Minute, "say what is still running after this long without a line (0: never)")
	report := flag.Bool("report", false, "print the summary of the saved streams LABEL=FILE ...")
	strip := flag.String("strip", "", "cut this prefix (the module path and a slash) from package paths shown")
	flag.Parse()
	if *report {
		os.Exit(runReport(flag.Args(), *strip))
	}
	os.Exit(runProgress(*label, *logPath, *strip, *heartbeat))
}

func runReport(args []string, strip string) int {
	var passes []*testsummary.Pass
	for _, a := range args {
		label, path, ok := strings.Cut(a, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "testsummary: %q: want LABEL=FILE\n", a)
			return 2
		}
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "testsummary: %v\n", err)
			return 2
		}
		p, err := testsummary.ReadPass(label, strip, f)
		f.Close()
		if err != nil {
			fmt.Fprintf(os.Stderr, "testsummary: reading %s: %v\n", path, err)
			return 2
		}
		passes = append(passes, p)
	}
	if testsummary.Report(os.Stdout, passes) {
		return 1
	}
	return 0
}

func runProgress(label, logPath, strip string, heartbeat time.Duration) int {
	var log *os.File
	if logPath != "" {
		var err error
		if log, err = os.Create(logPath); err != nil {
			fmt.Fprintf(os.Stderr, "testsummary: %v\n", err)
			return 2
		}
		defer log.Close()
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	p := testsummary.NewPass(label, time.Now())
	p.Strip = strip
	quiet := time.Now()
	tick := time.NewTicker(max(heartbeat, time.Second))
	defer tick.Stop()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				if p.Failed() {
					return 1
				}
				return 0
			}
			if log != nil {
				fmt.Fprintln(log, l)
			}
			stray := len(p.Stray)
			if k := p.Line(l); k != nil {
				if s := p.Progress(k, time.Now()); s != "" {
					fmt.Println(s)
					quiet = time.Now()
				}
			} else if len(p.Stray) > stray {
				fmt.Println(l) // go's own messages ("go: downloading ...") pass through
			}
		case now := <-tick.C:
			if heartbeat > 0 && now.Sub(quiet) >= heartbeat {
				fmt.Println(p.Running(now))
				quiet = now
			}
		}
	}
}
