package e2e

import (
	"context"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserFirstFiveMinutes is a newcomer's first visit with no server of their own, as
// the README tells it: setup → "Create your first webhook" (the builder opens with a fresh
// inspector URL) → tick two projects and two events → save → publish a sample event, leaving
// the form as it is preset → see it arrive, signed, in the inspector and in the log; then
// "Send a sample to this webhook" from its page.
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
	// Two projects of two organisations, neither of them the first one in any list.
	for _, p := range []struct{ org, project string }{{"Globex", "Support"}, {"Initech", "Hiring"}} {
		do(t, ctx, "tick project "+p.project,
			chromedp.Click(chromedp.Search(`//fieldset[legend[contains(., `+xpathString(p.org)+`)]]//label[.//span[starts-with(normalize-space(), `+xpathString(p.project)+`)]]`)))
	}
	for _, e := range []string{"Record moved to another list", "Comment added"} {
		do(t, ctx, "tick event "+e, chromedp.Click(chromedp.Search(`//label[.//strong[normalize-space()=`+xpathString(e)+`]]`)))
	}
	waitSummary(t, ctx, "“Record moved to another list”", "“Comment added”", "Support (Globex)", "Hiring (Initech)")
	shot("builder")
	do(t, ctx, "send a test before saving",
		chromedp.Click(button("Send test")),
		chromedp.WaitVisible(chromedp.Search(`//*[@id="test-result"]//strong[normalize-space()="It works."]`)),
	)
	do(t, ctx, "save",
		chromedp.Click(button("Create webhook")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="secret-panel"]`)),
	)

	do(t, ctx, "open Events",
		chromedp.Click(chromedp.Search(`//nav//a[normalize-space()="Events"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="publish-sample"]`)),
	)
	project, event := shownOption(t, ctx, "#sample-project"), shownOption(t, ctx, "#sample-event")
	if project != "Support (Globex)" && project != "Hiring (Initech)" {
		t.Errorf("the sample's project reads %q, want one the new webhook listens to", project)
	}
	if event != "Record moved to another list" && event != "Comment added" {
		t.Errorf("the sample's event reads %q, want one the new webhook listens to", event)
	}
	do(t, ctx, "publish the sample as preset",
		chromedp.Click(chromedp.CSS(`[data-testid="publish-sample"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="outcomes"]`)),
	)
	if got := text(t, ctx, `[data-testid="flash"]`); !strings.Contains(got, "published to 1 webhook") {
		t.Errorf("after publishing, the flash reads %q", got)
	}
	eventID := path.Base(location(ctx))
	waitFor(t, "the event page to say delivered", func() bool {
		do(t, ctx, "reload the event", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid="outcome-state"]`)))
		return text(t, ctx, `[data-testid="outcome-state"]`) == "Delivered"
	})

	do(t, ctx, "open the inspector",
		chromedp.Click(chromedp.Search(`//nav//a[normalize-space()="Inspector"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="bin-link"]`)),
	)
	if got := text(t, ctx, `[data-testid="bin-link"]`); got != "Test URL for “My first webhook”" {
		t.Errorf("the inspector lists the webhook's test URL as %q, want it named after the webhook", got)
	}
	do(t, ctx, "open the test URL",
		chromedp.Click(chromedp.CSS(`[data-testid="bin-link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="bin-request"]`)),
	)
	builderTest := `[...document.querySelectorAll('[data-testid="bin-request"]')].find(r => r.querySelector('[data-testid="bin-body"]').innerText.includes('"id": "wh_test"'))`
	if words, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(`+builderTest+`)?.innerText ?? ''`)); err != nil || !strings.Contains(words, "“Send test” from the webhook builder") {
		t.Errorf("the builder's Send test reads in the inspector %q (%v), want it named as such", words, err)
	}
	// The demo's trickle of events may reach the webhook too: look for the one published.
	sample := `[...document.querySelectorAll('[data-testid="bin-request"]')].find(r => r.querySelector('[data-testid="bin-body"]').innerText.includes(` + jsString(eventID) + `))`
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(`+sample+`)?.querySelectorAll('[data-testid="sig-ok"]').length ?? -1`)); err != nil || n != 2 {
		t.Errorf("%d signatures of the sample verified in the inspector (%v), want 2 (-1: the sample is not there)", n, err)
	}
	if heading, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(`+sample+`)?.querySelector('h2').innerText ?? ''`)); err != nil || !strings.Contains(heading, event) {
		t.Errorf("the sample's heading in the inspector reads %q (%v), want it to name %q", heading, err, event)
	}
	shot("inspector")

	do(t, ctx, "open the webhook",
		chromedp.Click(chromedp.Search(`//nav//a[normalize-space()="Webhooks"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="webhook-row"] a`)),
		chromedp.Click(chromedp.CSS(`[data-testid="webhook-row"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="log-row"]`)),
	)
	if rows := logRows(t, ctx); !slices.ContainsFunc(rows, func(r string) bool { return strings.Contains(r, event) && strings.Contains(r, "Delivered") }) {
		t.Errorf("the log reads %q, want the sample %q delivered", rows, event)
	}
	before := len(logRows(t, ctx))
	do(t, ctx, "send a sample from the webhook's page",
		chromedp.Click(button("Send a sample to this webhook")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="flash"]`)),
	)
	if got := text(t, ctx, `[data-testid="flash"]`); !strings.Contains(got, "published") {
		t.Errorf("after “Send a sample to this webhook” the flash reads %q", got)
	}
	waitFor(t, "the second sample in the log", func() bool {
		rows := logRows(t, ctx)
		return len(rows) > before && strings.Contains(rows[0], "Delivered")
	})
	shot("webhook")
	t.Logf("first five minutes took %v of browser time", time.Since(started).Round(time.Millisecond))
}

// shownOption is the text of the option a <select> shows.
func shownOption(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(s => s.options[s.selectedIndex]?.text ?? '')(document.querySelector(`+jsString(css)+`))`))
	if err != nil {
		t.Fatalf("read the choice of %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

// logRows are the visible texts of the delivery log's rows, newest first.
func logRows(t *testing.T, ctx context.Context) []string {
	t.Helper()
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid="log-row"]')].map(r => r.innerText)`))
	if err != nil {
		t.Fatalf("read the delivery log: %v", err)
	}
	return rows
}
