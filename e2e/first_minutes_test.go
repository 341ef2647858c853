package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserFirstFiveMinutes is a newcomer's first visit with no server of their own:
// setup → "Create your first webhook" (the builder opens with a fresh inspector URL) → save
// → publish a sample event → see it arrive, signed, in the inspector and in the log.
//
// With DOCS_DIR set it also saves the README's screenshots there (builder, webhook page,
// inspector).
func TestBrowserFirstFiveMinutes(t *testing.T) {
	ctx := newTab(t)
	srv := startServer(t) // the default outbound guard: private targets are refused
	docs := os.Getenv("DOCS_DIR")
	shot := func(name string) {
		if docs == "" {
			return
		}
		saveScreenshot(t, ctx, filepath.Join(docs, name+".png"), 1280, 800, false)
	}
	started := time.Now()

	setupAdmin(t, ctx, srv)
	do(t, ctx, "see the first-webhook offer", chromedp.WaitVisible(chromedp.CSS(`[data-testid="first-webhook"]`)))
	do(t, ctx, "create the first webhook",
		chromedp.Click(button("Create your first webhook")),
		chromedp.WaitVisible(chromedp.CSS("#summary")),
	)
	wantPath(t, ctx, "/webhooks/new")
	target, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#url').value`))
	if err != nil || !strings.HasPrefix(target, srv.base+"/inspect/bin_") {
		t.Fatalf("the builder's URL is prefilled with %q (%v), want this server's inspector", target, err)
	}
	do(t, ctx, "choose everything and save",
		chromedp.Click(chromedp.CSS("#all_projects")),
		chromedp.Click(chromedp.CSS("#all_events")),
	)
	waitSummary(t, ctx, "whenever anything happens", "in any project")
	shot("builder")
	do(t, ctx, "save",
		chromedp.Click(button("Create webhook")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="secret-panel"]`)),
	)

	do(t, ctx, "publish a sample event",
		chromedp.Click(chromedp.Search(`//nav//a[normalize-space()="Events"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="publish-sample"]`)),
		chromedp.SetValue(chromedp.CSS("#sample-event"), "TODO_MOVED"),
		chromedp.Click(chromedp.CSS(`[data-testid="publish-sample"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="outcomes"]`)),
	)
	if got := text(t, ctx, `[data-testid="flash"]`); !strings.Contains(got, "published to 1 webhook") {
		t.Errorf("after publishing, the flash reads %q", got)
	}
	waitFor(t, "the event page to say delivered", func() bool {
		do(t, ctx, "reload the event", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid="outcome-state"]`)))
		return text(t, ctx, `[data-testid="outcome-state"]`) == "Delivered"
	})

	do(t, ctx, "open the inspector",
		chromedp.Click(chromedp.Search(`//nav//a[normalize-space()="Inspector"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="bin-link"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="bin-link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="bin-request"]`)),
	)
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="bin-request"] [data-testid="sig-ok"]').length`)); err != nil || n != 2 {
		t.Errorf("%d signatures verified in the inspector (%v), want 2", n, err)
	}
	if body := text(t, ctx, `[data-testid="bin-body"]`); !strings.Contains(body, `"event": "TODO_MOVED"`) {
		t.Errorf("the inspector shows the body %q", body)
	}
	shot("inspector")

	do(t, ctx, "see it in the webhook's log",
		chromedp.Click(chromedp.Search(`//nav//a[normalize-space()="Webhooks"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="webhook-row"] a`)),
		chromedp.Click(chromedp.CSS(`[data-testid="webhook-row"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="log-row"]`)),
	)
	if row := text(t, ctx, `[data-testid="log-row"]`); !strings.Contains(row, "Record moved to another list") || !strings.Contains(row, "Delivered") {
		t.Errorf("the log's newest row reads %q", row)
	}
	shot("webhook")
	t.Logf("first five minutes took %v of browser time", time.Since(started).Round(time.Millisecond))
}
