// Package e2e holds whole-program tests: the real hookyard binary, driven from outside.
//
// The browser tests start one Chromium per test package and give every test its own
// browser context (own cookies) and its own server on a fresh database.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"hookyard/internal/testdb"
)

// testTimeout bounds everything one browser test does; tourTimeout one that walks every page.
const (
	testTimeout = 60 * time.Second
	tourTimeout = 4 * time.Minute
)

// missingChromium says what happens to the browser tests without Chromium: a skip on a
// developer's machine, a failure in CI.
func missingChromium() string {
	if os.Getenv("CI") == "true" {
		return "BROWSER TESTS FAIL: Chromium not found; install Debian's chromium. (CI=true turns the skip into a failure.)"
	}
	return "SKIPPING BROWSER TESTS: Chromium not found; install Debian's chromium. CI=true makes this a failure."
}

// binary is the hookyard executable built once by TestMain.
var binary string

// chromiumPath is where TestMain found Chromium, or "" when it did not.
var chromiumPath string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	chromiumPath = findChromium()
	if chromiumPath == "" {
		fmt.Fprintln(os.Stderr, "\n*** "+missingChromium()+" ***")
	}
	// Neither the directory nor the binary says "hookyard", so that someone on the same
	// machine stopping their own server by name (pkill -f hookyard) cannot stop ours.
	dir, err := os.MkdirTemp("", "e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "server-under-test")
	if err := buildHookyard(binary); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer stopBrowser()
	return m.Run()
}

// buildHookyard compiles the module's main package, with the race detector when these
// tests have it, so that a data race in the server fails its exit check.
func buildHookyard(out string) error {
	root, err := filepath.Abs("..")
	if err != nil {
		return err
	}
	args := []string{"build", "-o", out}
	if raceEnabled() {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "hookyard")...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(cmd.Args[1:], " "), err, b)
	}
	return nil
}

func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

func findChromium() string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// requireChromium skips the test without Chromium, or fails it when CI=true.
func requireChromium(t *testing.T) {
	t.Helper()
	if chromiumPath != "" {
		return
	}
	msg := missingChromium()
	fmt.Fprintln(os.Stderr, "\n*** "+msg+" ***")
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// The one browser of the package, started by the first test that needs it.
var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserErr    error
	browserCancel = func() {}
)

func startBrowser() {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-dev-shm-usage", true),
		// The machine has no outside network: stop Chromium from trying.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	browserCancel = func() { cancelBrowser(); cancelAlloc() }
	// The first Do starts Chromium; its life is bound to ctx, which has no deadline.
	browserErr = chromedp.Do(ctx)
	browserCtx = ctx
}

func stopBrowser() { browserCancel() }

// newTab opens a tab in a fresh browser context (its own cookies) with a deadline of
// testTimeout. Console errors and uncaught exceptions in the page fail the test.
func newTab(t *testing.T) context.Context {
	t.Helper()
	return newTabWithin(t, testTimeout)
}

// newTabWithin is newTab with another deadline, for tests that walk many pages.
func newTabWithin(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	requireChromium(t)
	browserOnce.Do(startBrowser)
	if browserErr != nil {
		t.Fatalf("start Chromium (%s): %v", chromiumPath, browserErr)
	}
	deadline, cancelDeadline := context.WithTimeout(browserCtx, timeout)
	tab, cancelTab := chromedp.NewContext(deadline, chromedp.WithNewBrowserContext())
	t.Cleanup(cancelDeadline)
	t.Cleanup(cancelTab) // runs first: closes the tab and its browser context
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	watchConsole(t, tab)
	return tab
}

// watchConsole records what the page reports as broken: script exceptions, console.error
// and browser messages such as CSP violations. Failed HTTP statuses (the 401 of a wrong
// password, a 404 page) are expected in these tests, so network entries are left out.
func watchConsole(t *testing.T, tab context.Context) {
	t.Helper()
	var (
		mu       sync.Mutex
		problems []string
	)
	messages := chromedp.Console(tab)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if (m.Type == chromedp.ConsoleError || m.IsException()) && m.Source != "network" {
				mu.Lock()
				problems = append(problems, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1))
				mu.Unlock()
			}
		}
	}()
	// Registered after newTab's cleanups, so it runs before the tab closes.
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Errorf("browser console: %s", p)
		}
	})
}

// server is one running hookyard process.
type server struct {
	base     string // e.g. http://127.0.0.1:41234
	setupURL string // the one-time link printed at start
}

// startServer runs `hookyard serve` on a free port and a new database with demo data (plus
// any extra flags), and stops it with SIGTERM when the test ends.
func startServer(t *testing.T, extra ...string) *server {
	t.Helper()
	out := &serverOutput{setup: make(chan string, 1)}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", testdb.DSN(t), "--demo"}, extra...)
	cmd := exec.Command(binary, args...)
	cmd.Env = withoutHookyardVars(os.Environ())
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start hookyard: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	t.Cleanup(func() {
		select {
		case err := <-exited:
			t.Errorf("hookyard stopped before the test ended (%v); was it signalled from outside?", err)
			t.Logf("hookyard output:\n%s", out.String())
			return
		default:
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Errorf("send SIGTERM to hookyard: %v", err)
		}
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("hookyard exited with %v after SIGTERM, want a clean exit", err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("hookyard did not exit within 10s of SIGTERM")
		}
		if t.Failed() {
			t.Logf("hookyard output:\n%s", out.String())
		}
	})

	var line string
	select {
	case line = <-out.setup:
	case err := <-exited:
		exited <- err // for the cleanup
		t.Fatalf("hookyard exited before printing its setup link: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatalf("hookyard printed no setup link within 30s:\n%s", out.String())
	}
	u, err := url.Parse(line)
	if err != nil || u.Query().Get("token") == "" || u.Path != "/setup" {
		t.Fatalf("setup line %q is not a /setup?token=… URL (err %v)", line, err)
	}
	if !strings.HasPrefix(u.Host, "127.0.0.1:") || strings.HasSuffix(u.Host, ":0") {
		t.Fatalf("setup URL %q does not name the real port", line)
	}
	return &server{base: u.Scheme + "://" + u.Host, setupURL: line}
}

func withoutHookyardVars(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "HOOKYARD_") {
			out = append(out, kv)
		}
	}
	return out
}

// serverOutput keeps what hookyard writes and hands over the setup URL once it appears.
type serverOutput struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	seen  int // bytes already scanned for the setup line
	setup chan string
	found bool
}

func (o *serverOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	for !o.found {
		rest := o.buf.Bytes()[o.seen:]
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSpace(string(rest[:i]))
		o.seen += i + 1
		if strings.Contains(line, "/setup?token=") {
			o.found = true
			o.setup <- line
		}
	}
	return len(p), nil
}

func (o *serverOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// Selectors. XPath through chromedp.Search finds things by the words a person sees.

func button(label string) chromedp.Search {
	return chromedp.Search(fmt.Sprintf(`//button[normalize-space()=%s]`, xpathString(label)))
}

// inputLabelled is the input whose <label> reads label, so a broken label fails the test.
func inputLabelled(label string) chromedp.Search {
	return chromedp.Search(fmt.Sprintf(`//input[@id=string(//label[normalize-space()=%s]/@for)]`, xpathString(label)))
}

// xpathString quotes s as an XPath 1.0 string literal.
func xpathString(s string) string {
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return `'` + s + `'`
}

// do runs steps and fails the test with what it was doing.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v (page: %s)", what, err, location(ctx))
	}
}

// text is the visible text of the first element matching css, read without waiting: call
// it after waiting for the step's result, so that a missing element fails at once.
func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[*string](fmt.Sprintf("document.querySelector(%q)?.innerText ?? null", css)))
	if err != nil {
		t.Fatalf("read text of %s: %v (page: %s)", css, err, location(ctx))
	}
	if s == nil {
		t.Errorf("no %s on the page %s", css, location(ctx))
		return ""
	}
	return strings.TrimSpace(*s)
}

// present reports, without waiting, whether the page has an element matching css.
func present(t *testing.T, ctx context.Context, css string) bool {
	t.Helper()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf("document.querySelector(%q) !== null", css)))
	if err != nil {
		t.Fatalf("look for %s: %v", css, err)
	}
	return ok
}

func location(ctx context.Context) string {
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "unknown: " + err.Error()
	}
	return u
}

// wantPath fails the test unless the address bar shows path.
func wantPath(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	u, err := url.Parse(location(ctx))
	if err != nil || u.Path != path {
		t.Errorf("address bar shows %s, want path %s", location(ctx), path)
	}
}

// fullPagePNG captures the whole page, including any part wider than the viewport.
func fullPagePNG(ctx context.Context) ([]byte, error) {
	return chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		m, err := cdp.Call(ctx, t, page.GetLayoutMetrics, cdp.Empty{})
		if err != nil {
			return nil, err
		}
		if m.CSSContentSize == nil {
			return nil, errors.New("no content size in layout metrics")
		}
		clip := page.Viewport{Width: math.Ceil(m.CSSContentSize.Width), Height: math.Ceil(m.CSSContentSize.Height), Scale: 1}
		yes := true
		r, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format: page.CaptureScreenshotFormatPng, Clip: &clip, CaptureBeyondViewport: &yes, FromSurface: &yes,
		})
		return r.Data, err
	})
}

// setupAdmin creates the first admin, Grace, through the setup link; the tab is left signed in.
func setupAdmin(t *testing.T, ctx context.Context, srv *server) {
	t.Helper()
	do(t, ctx, "create the admin",
		chromedp.Navigate(srv.setupURL),
		chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), "Grace Admin"),
		chromedp.SendKeys(chromedp.CSS("#email"), "grace@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Click(button("Create admin account")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="whoami"]`)),
	)
}
