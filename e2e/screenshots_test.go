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

// TestScreenshots saves a full-page PNG of every page of the tour at each width into
// $SCREENSHOT_DIR (e.g. organizations-1280.png), for people to look at. It skips when the
// variable is unset.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		t.Skip("set SCREENSHOT_DIR to save screenshots of every page")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := newTabWithin(t, tourTimeout) // first: skips before starting anything when Chromium is missing
	srv := startServer(t, tourServerFlags...)
	tour(t, ctx, srv, func(name string) {
		t.Helper()
		for _, w := range screenshotWidths {
			saveScreenshot(t, ctx, filepath.Join(dir, tourName(name, w.width)+".png"), w.width, w.height, w.mobile)
		}
		do(t, ctx, "restore the desktop window", chromedp.EmulateViewport(1280, 800))
	})
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
