package web

import (
	"bufio"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/teardown-lab/teardown/lab"
	"github.com/teardown-lab/teardown/web/page"
)

var update = flag.Bool("update", false, "rewrite the screenshot goldens in testdata")

// chromium finds a Chromium (Debian's chromium package) or Chrome;
// TEARDOWN_CHROMIUM names one explicitly.
func chromium() string {
	if p := os.Getenv("TEARDOWN_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// lab is what a browser test drives: the real 'teardown web' serving on a
// free port, its --export written to a directory, and a headless
// Chromium.
type labPage struct {
	ctx    context.Context
	url    string // the served page
	export string // the exported page's directory
	bin    string // the teardown binary
	dir    string
}

// startLab builds the teardown command, starts 'teardown web --port 0'
// and 'teardown web --export', and a browser. It skips the test when no
// Chromium is installed.
func startLab(t *testing.T) *labPage {
	exe := chromium()
	if exe == "" {
		t.Skip("no chromium on PATH (Debian package chromium; scripts/test.sh installs it when run as root): the page's browser tests need it")
	}
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	l := &labPage{dir: t.TempDir()}
	l.bin = filepath.Join(l.dir, "teardown")
	goCmd, err := goTool()
	if err != nil {
		t.Fatal(err)
	}
	build := exec.Command(goCmd, "build", "-o", l.bin, "./cmd/teardown")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building teardown: %v\n%s", err, out)
	}
	l.export = filepath.Join(l.dir, "export")
	if out, err := exec.Command(l.bin, "web", "--export", l.export).CombinedOutput(); err != nil {
		t.Fatalf("teardown web --export: %v\n%s", err, out)
	}
	srv := exec.Command(l.bin, "web", "--port", "0")
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	srv.Stderr = os.Stderr
	dieWithTest(srv)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Process.Signal(os.Interrupt)
		if err := srv.Wait(); err != nil {
			t.Errorf("teardown web, stopped by an interrupt: %v", err)
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("teardown web said nothing: %v", err)
	}
	i := strings.Index(line, "http://")
	if i < 0 {
		t.Fatalf("teardown web said %q, no URL", line)
	}
	l.url = strings.Fields(line[i:])[0]
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe),
		chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("font-render-hinting", "none"), chromedp.WindowSize(1280, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	l.ctx = ctx
	return l
}

// eval runs a JavaScript expression (awaiting a promise) with a time
// limit, so a page that hangs fails the test instead of stalling it.
func eval[T any](t *testing.T, l *labPage, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(l.ctx, 90*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%.80s: %v", expr, err)
	}
	return v
}

func do(t *testing.T, l *labPage, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(l.ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// open loads the page at u and waits for its first run.
func open(t *testing.T, l *labPage, u string) {
	t.Helper()
	do(t, l, chromedp.Navigate(u))
	waitRuns(t, l, 1)
}

// waitRuns waits until the page has finished n runs and is idle; it
// fails on an error the page shows.
func waitRuns(t *testing.T, l *labPage, n int) {
	t.Helper()
	ok := eval[bool](t, l, fmt.Sprintf(`new Promise((resolve) => {
		const check = () => {
			const b = document.body.dataset;
			if (document.getElementById("status").className === "error") return resolve(false);
			if (+(b.runs || 0) >= %d && b.busy === "false") return resolve(true);
			setTimeout(check, 20);
		};
		check();
	})`, n))
	if !ok {
		t.Fatalf("the page failed: %s", eval[string](t, l, `document.getElementById("status").textContent`))
	}
}

// choose sets a picker as a user would (the change event runs again) and
// waits for the run.
func choose(t *testing.T, l *labPage, id, value string) {
	t.Helper()
	runs := eval[int](t, l, `+document.body.dataset.runs`)
	eval[chromedp.Void](t, l, fmt.Sprintf(`(() => { const s = document.getElementById(%q); s.value = %q;
		s.dispatchEvent(new Event("change")); })()`, id, value))
	waitRuns(t, l, runs+1)
}

// click clicks the element with the given id, as a user does (its
// click and change events fire).
func click(t *testing.T, l *labPage, id string) {
	t.Helper()
	eval[chromedp.Void](t, l, fmt.Sprintf(`document.getElementById(%q).click()`, id))
}

// key presses a key on the page (not in a form field).
func key(t *testing.T, l *labPage, k string) {
	t.Helper()
	eval[chromedp.Void](t, l, `document.activeElement && document.activeElement.blur()`)
	do(t, l, chromedp.KeyEvent(k))
}

// paneVerdict is what pane i shows as verdict and explanation.
func paneVerdict(t *testing.T, l *labPage, i int) (verdict, explanation string) {
	t.Helper()
	v := eval[[]string](t, l, fmt.Sprintf(`[...document.querySelectorAll("#pane-%d .verdict p")].map((p) => p.textContent)`, i))
	return strings.Join(v, "\n"), eval[string](t, l, fmt.Sprintf(`document.querySelector("#pane-%d .explanation").textContent`, i))
}

// wantVerdict checks pane i against the same run made natively.
func wantVerdict(t *testing.T, l *labPage, i int, req page.Request) *page.Outcome {
	t.Helper()
	want, err := page.Run(req)
	if err != nil {
		t.Fatal(err)
	}
	v, ex := paneVerdict(t, l, i)
	if v != strings.Join(want.Verdict, "\n") || ex != want.Explanation {
		t.Errorf("%s/%s in the browser:\n%s\n%s\nnatively:\n%s\n%s", req.Scenario, req.Variant, v, ex,
			strings.Join(want.Verdict, "\n"), want.Explanation)
	}
	return want
}

// wantSameRun checks that pane i's run, made in the browser, is the
// native one byte for byte: its JSON record and its capture.
func wantSameRun(t *testing.T, l *labPage, i int, want *page.Outcome) {
	t.Helper()
	sel := fmt.Sprintf(`#pane-%d .downloads a[download$=".`, i)
	if got := downloaded(t, l, sel+`json"]`); string(got) != want.JSON {
		t.Errorf("%s: the browser's JSON record differs from the native one", want.Name)
	}
	if got := downloaded(t, l, sel+`pcap"]`); string(got) != string(want.Pcap) {
		t.Errorf("%s: the browser's capture differs from the native one (%d and %d bytes)", want.Name, len(got), len(want.Pcap))
	}
}

func TestBrowser(t *testing.T) {
	l := startLab(t)
	open(t, l, l.url+"?scenario=tcp-echo-one")

	// Every scenario, its first variant beside its second: the verdict
	// and explanation the browser's run shows are the native run's, and
	// so are its record and capture, byte for byte (the same code gives
	// the same run on js/wasm as on linux/amd64).
	t.Run("EveryScenario_SameRunAsNative", func(t *testing.T) {
		for _, s := range lab.Scenarios() {
			if !s.Runnable() {
				continue
			}
			choose(t, l, "scenario", s.ID)
			key(t, l, kb.End)
			wantSameRun(t, l, 0, wantVerdict(t, l, 0, page.Request{Scenario: s.ID, Variant: s.Variants[0].Name}))
			if len(s.Variants) > 1 {
				wantSameRun(t, l, 1, wantVerdict(t, l, 1, page.Request{Scenario: s.ID, Variant: s.Variants[1].Name}))
			}
		}
	})

	t.Run("Keys_StepBackResetEnd", func(t *testing.T) {
		choose(t, l, "scenario", "tcp-echo-one")
		arrows := func() int { return eval[int](t, l, `document.querySelectorAll("#pane-0 .pkt").length`) }
		step := func() int { return eval[int](t, l, `+document.body.dataset.step`) }
		steps := eval[int](t, l, `+document.body.dataset.steps`)
		if step() != 0 || arrows() != 0 || steps < 5 {
			t.Fatalf("after a run: step %d of %d, %d arrows; want step 0 and nothing drawn", step(), steps, arrows())
		}
		prev := 0
		for i := 1; i <= 4; i++ {
			key(t, l, kb.ArrowRight)
			if step() != i || arrows() < prev {
				t.Fatalf("→ %d times: step %d, %d arrows (had %d)", i, step(), arrows(), prev)
			}
			prev = arrows()
		}
		if prev == 0 {
			t.Errorf("four steps into tcp-echo-one drew no packet")
		}
		if v, _ := paneVerdict(t, l, 0); strings.Contains(v, "Data lost") {
			t.Errorf("the verdict shows before the end: %q", v)
		}
		key(t, l, kb.ArrowLeft)
		if step() != 3 {
			t.Errorf("← after 4 steps: step %d, want 3", step())
		}
		key(t, l, "r")
		if step() != 0 || arrows() != 0 {
			t.Errorf("r: step %d, %d arrows; want 0 and 0", step(), arrows())
		}
		key(t, l, kb.End)
		if step() != steps || arrows() == 0 {
			t.Errorf("End: step %d of %d, %d arrows", step(), steps, arrows())
		}
		key(t, l, " ") // play from the end starts again from the start
		if eval[string](t, l, `document.getElementById("play").textContent`) != "Pause" {
			t.Errorf("space did not start playing")
		}
		key(t, l, " ")
	})

	// The pcap the page offers is the one 'teardown run --pcap' writes.
	// The pcap, SVG and JSON the page offers are what 'teardown run'
	// writes for the same scenario, variant, profile and seed.
	t.Run("Downloads_SameBytesAsRun", func(t *testing.T) {
		choose(t, l, "scenario", "tcp-close-unsent")
		wantDownloads(t, l, "tcp-close-unsent-naive-linux-seed1", "run", "tcp-close-unsent")
		choose(t, l, "seed", "7")
		choose(t, l, "profile", "rfc-naive")
		wantDownloads(t, l, "tcp-close-unsent-naive-rfc-naive-seed7", "run", "tcp-close-unsent", "--seed", "7", "--profile", "rfc-naive")
		choose(t, l, "seed", "1")
		choose(t, l, "profile", "")
	})

	t.Run("Faults_LingerDropDelay", func(t *testing.T) {
		choose(t, l, "scenario", "tcp-echo-one")
		runs := eval[int](t, l, `+document.body.dataset.runs`)
		click(t, l, "fault-linger")
		waitRuns(t, l, runs+1)
		key(t, l, kb.End)
		wantVerdict(t, l, 0, page.Request{Scenario: "tcp-echo-one", Variant: "linger"})
		// Click the client's "hello": what the client sends then is lost.
		p := eval[struct {
			From string
			T    int64 `json:"t_ns"`
		}](t, l, `(() => { const i = state.panes[0].rep.wire.findIndex((p) => p.len === 5);
			const p = state.panes[0].rep.wire[i];
			document.querySelector('#pane-0 .pkt[data-index="' + i + '"]').dispatchEvent(new MouseEvent("click"));
			return { from: p.from, t_ns: p.t_ns }; })()`)
		waitRuns(t, l, runs+2)
		key(t, l, kb.End)
		if n := eval[int](t, l, `document.querySelectorAll("#pane-0 .pkt.dropped").length`); n == 0 {
			t.Errorf("no packet drawn dropped after clicking one")
		}
		wantVerdict(t, l, 0, page.Request{Scenario: "tcp-echo-one", Variant: "linger", Lose: []page.Loss{{From: p.From, AtNs: p.T}}})
		click(t, l, "clear-drops")
		waitRuns(t, l, runs+3)
		choose(t, l, "latency", "7")
		key(t, l, kb.End)
		wantVerdict(t, l, 0, page.Request{Scenario: "tcp-echo-one", Variant: "linger", LatencyNs: 7e6})
	})

	t.Run("Upload_AnalysedAndDrawn", func(t *testing.T) {
		file := filepath.Join(l.dir, "echo-one.pcap")
		if out, err := exec.Command(l.bin, "run", "tcp-echo-one", "--pcap", file).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		do(t, l, chromedp.SetUploadFiles("#upload", []string{file}))
		eval[bool](t, l, `new Promise((resolve) => { const c = () => +(document.body.dataset.analyses || 0) > 0 &&
			document.body.dataset.busy === "false" ? resolve(true) : setTimeout(c, 20); c(); })`)
		text := eval[string](t, l, `document.getElementById("analysis").innerText`)
		want, err := page.Analyze(mustRead(t, file))
		if err != nil {
			t.Fatal(err)
		}
		arrows := eval[int](t, l, `document.querySelectorAll("#analysis .conn .pkt").length`)
		var rep struct{ Wire []any }
		mustJSON(t, want.Conns[0].Trace, &rep)
		if !strings.Contains(text, want.Conns[0].Verdict[1]) || !strings.Contains(text, "rst_with_unread_data") || arrows != len(rep.Wire) {
			t.Errorf("analysis shows %d arrows (want %d):\n%s", arrows, len(rep.Wire), text)
		}
	})

	// The end of a run, and the middle of one (packets in flight, the
	// cursor's line, no verdict yet).
	t.Run("Screenshots_NotBlankLikeGoldens", func(t *testing.T) {
		open(t, l, l.url+"?scenario=tcp-echo-one&seed=1")
		key(t, l, kb.End)
		checkScreenshot(t, screenshot(t, l), "tcp-echo-one-end.png")
		open(t, l, l.url+"?scenario=dccp-close-crosses-closereq&seed=1")
		for range 7 {
			key(t, l, kb.ArrowRight)
		}
		checkScreenshot(t, screenshot(t, l), "dccp-close-crosses-closereq-step7.png")
	})

	// The exported files, opened from disk with no server: the lab still
	// runs (main.wasm.js), and gives the native verdict.
	t.Run("Export_WorksFromDisk", func(t *testing.T) {
		u := url.URL{Scheme: "file", Path: filepath.Join(l.export, "index.html"), RawQuery: "scenario=tcp-linger-zero"}
		open(t, l, u.String())
		key(t, l, kb.End)
		wantVerdict(t, l, 0, page.Request{Scenario: "tcp-linger-zero"})
		wantVerdict(t, l, 1, page.Request{Scenario: "tcp-linger-zero", Variant: "close"})
	})
}

// wantDownloads checks pane 0's downloads against 'teardown ARGS' with
// --pcap -, --svg - and --json, and their names.
func wantDownloads(t *testing.T, l *labPage, name string, args ...string) {
	t.Helper()
	for _, c := range []struct{ ext, flag string }{{"pcap", "--pcap=-"}, {"svg", "--svg=-"}, {"json", "--json"}} {
		want, err := exec.Command(l.bin, append(args, c.flag)...).Output()
		if err != nil {
			t.Fatalf("teardown %s %s: %v", strings.Join(args, " "), c.flag, err)
		}
		sel := `#pane-0 .downloads a[download$=".` + c.ext + `"]`
		if got := downloaded(t, l, sel); string(got) != string(want) {
			t.Errorf("the page's %s differs from what teardown %s %s writes (%d and %d bytes)", c.ext,
				strings.Join(args, " "), c.flag, len(got), len(want))
		}
		if n := eval[string](t, l, `document.querySelector('`+sel+`').download`); n != name+"."+c.ext {
			t.Errorf("the %s download is named %q, want %q", c.ext, n, name+"."+c.ext)
		}
	}
}

// downloaded fetches what a download link of the page holds.
func downloaded(t *testing.T, l *labPage, sel string) []byte {
	t.Helper()
	s := eval[string](t, l, fmt.Sprintf(`fetch(document.querySelector(%q).href).then((r) => r.arrayBuffer()).then((b) => {
		const u = new Uint8Array(b); let s = "";
		for (let i = 0; i < u.length; i++) s += String.fromCharCode(u[i]);
		return btoa(s); })`, sel))
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
