package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// screenshotWidths are a desktop window and a small phone, in CSS pixels.
var screenshotWidths = []struct {
	width, height int64
	mobile        bool
}{{1280, 800, false}, {375, 812, true}}

// TestScreenshots saves a full-page PNG of every page at each width into $SCREENSHOT_DIR
// (e.g. organizations-1280.png), for people to look at. It skips when the variable is unset.
// Pages wider than the window are reported, since they make a phone user scroll sideways.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		t.Skip("set SCREENSHOT_DIR to save screenshots of every page")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := newTab(t) // first: skips before starting anything when Chromium is missing
	srv := startServer(t)
	shoot := func(name string) {
		t.Helper()
		for _, w := range screenshotWidths {
			saveScreenshot(t, ctx, filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, w.width)), w.width, w.height, w.mobile)
		}
		do(t, ctx, "restore the desktop window", chromedp.EmulateViewport(1280, 800))
	}
	const (
		email    = "grace@example.com"
		password = "correct horse battery"
	)

	do(t, ctx, "open the setup link",
		chromedp.Navigate(srv.setupURL),
		chromedp.WaitVisible(chromedp.CSS("#name")),
	)
	shoot("setup")

	do(t, ctx, "create the admin",
		chromedp.SendKeys(chromedp.CSS("#name"), "Grace Admin"),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(button("Create admin account")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="flash"]`)),
	)
	shoot("dashboard")

	do(t, ctx, "sign out and try a wrong password",
		chromedp.Click(button("Sign out")),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/login"] #email`)),
		chromedp.SendKeys(inputLabelled("E-mail"), email),
		chromedp.SendKeys(inputLabelled("Password"), "not my password"),
		chromedp.Click(button("Sign in")),
		chromedp.WaitVisible(chromedp.CSS(`.notice.bad[role="alert"]`)),
	)
	shoot("login")

	do(t, ctx, "sign in",
		chromedp.SendKeys(inputLabelled("Password"), password),
		chromedp.Click(button("Sign in")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="whoami"]`)),
	)

	do(t, ctx, "add a member user",
		chromedp.Navigate(srv.base+"/users"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/users"]`)),
		chromedp.SendKeys(inputLabelled("Name"), "Ada Lovelace"),
		chromedp.SendKeys(inputLabelled("E-mail"), "ada@example.com"),
		chromedp.SendKeys(inputLabelled("Password"), "analytical engine"),
		chromedp.Click(button("Add user")),
		chromedp.WaitVisible(chromedp.Search(`//h1[@data-testid="user-name"][normalize-space()="Ada Lovelace"]`)),
		chromedp.Click(button("Add")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="memberships"] li`)),
	)
	shoot("user")

	do(t, ctx, "open the user list",
		chromedp.Navigate(srv.base+"/users"),
		chromedp.WaitVisible(chromedp.CSS(`table[data-testid="users"]`)),
	)
	shoot("users")

	do(t, ctx, "open the organisation list",
		chromedp.Navigate(srv.base+"/organizations"),
		chromedp.WaitVisible(chromedp.CSS(`table[data-testid="organizations"]`)),
	)
	shoot("organizations")

	do(t, ctx, "open an organisation",
		chromedp.Click(chromedp.Search(`//table[@data-testid="organizations"]//a[normalize-space()="Acme"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[@data-testid="org-name"][normalize-space()="Acme"]`)),
	)
	shoot("organization")

	do(t, ctx, "open the event types",
		chromedp.Navigate(srv.base+"/event-types"),
		chromedp.WaitVisible(chromedp.CSS(`table[data-testid="event-types"]`)),
	)
	shoot("event-types")

	do(t, ctx, "open the event catalog",
		chromedp.Navigate(srv.base+"/event-types/catalog"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="catalog-example"]`)),
	)
	shoot("event-catalog")

	do(t, ctx, "create an API token",
		chromedp.Navigate(srv.base+"/settings/tokens"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/settings/tokens"]`)),
		chromedp.SendKeys(inputLabelled("What is it for?"), "Production publisher"),
		chromedp.Click(button("Create token")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="token-secret"]`)),
	)
	shoot("tokens")

	do(t, ctx, "open a page that does not exist",
		chromedp.Navigate(srv.base+"/no-such-page"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="error-page"]`)),
	)
	shoot("not-found")

	do(t, ctx, "open an organisation that does not exist",
		chromedp.Navigate(srv.base+"/organizations/org_does_not_exist"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="error-page"]`)),
	)
	shoot("not-found-organization")
}

// saveScreenshot resizes the window, captures the whole page as a PNG, checks the file and
// logs when the page is wider than the window.
func saveScreenshot(t *testing.T, ctx context.Context, path string, width, height int64, mobile bool) {
	t.Helper()
	var opts []chromedp.EmulateViewportOption
	if mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	do(t, ctx, "resize to "+fmt.Sprint(width),
		chromedp.EmulateViewport(width, height, opts...),
		// Two animation frames: the new width is laid out and painted.
		chromedp.Evaluate[chromedp.Void](`new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))`, chromedp.EvalAwaitPromise),
	)
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
	if err != nil {
		t.Fatalf("measure page width: %v", err)
	}
	if overflow > 0 {
		t.Logf("NOTE %s: the page is %dpx wider than a %dpx window (sideways scrolling)", filepath.Base(path), overflow, width)
	}
	buf, err := fullPagePNG(ctx)
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(buf))
	if err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", path, err)
	}
	if int64(cfg.Width) < width || cfg.Height < 100 {
		t.Errorf("screenshot %s is %dx%d, want at least %d wide", path, cfg.Width, cfg.Height, width)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}
