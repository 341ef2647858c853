package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserWebhookBuilder builds "record created, moved or commented on, in two projects of
// Acme and one of Globex" the way a person would: ticking boxes while the summary follows,
// trying it, saving, copying the secret once, and finding the same boxes ticked on edit.
func TestBrowserWebhookBuilder(t *testing.T) {
	ctx := newTab(t)
	srv := startServer(t, "--allow-private-targets")

	var mu sync.Mutex
	var received []map[string]any
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var v map[string]any
		_ = json.Unmarshal(body, &v)
		mu.Lock()
		received = append(received, v)
		mu.Unlock()
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer recv.Close()

	setupAdmin(t, ctx, srv)
	started := time.Now()
	do(t, ctx, "open the builder from the webhooks page",
		chromedp.Click(chromedp.Search(`//nav//a[normalize-space()="Webhooks"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="empty-webhooks"]`)),
		chromedp.Click(chromedp.Search(`//main//a[normalize-space()="Create your first webhook"]`)),
		chromedp.WaitVisible(chromedp.CSS("#summary")),
		chromedp.SendKeys(inputLabelled("Name"), "CRM sync"),
		chromedp.SendKeys(inputLabelled("URL to call"), recv.URL+"/hook"),
	)
	wantPath(t, ctx, "/webhooks/new")
	waitSummary(t, ctx, "tick at least one event")
	summaryBefore := waitSummary(t, ctx, recv.URL+"/hook")

	for _, p := range []struct{ org, project string }{{"Acme", "Website"}, {"Acme", "Mobile app"}, {"Globex", "Support"}} {
		do(t, ctx, "tick project "+p.project,
			chromedp.Click(chromedp.Search(`//fieldset[legend[contains(., `+xpathString(p.org)+`)]]//label[.//span[starts-with(normalize-space(), `+xpathString(p.project)+`)]]`)))
	}
	for _, e := range []string{"Record created", "Record moved to another list", "Comment added"} {
		do(t, ctx, "tick event "+e, chromedp.Click(chromedp.Search(`//label[.//strong[normalize-space()=`+xpathString(e)+`]]`)))
	}
	waitSummary(t, ctx, recv.URL+"/hook", "“Record created”", "“Record moved to another list”", "“Comment added”",
		"Website (Acme)", "Mobile app (Acme)", "Support (Globex)")

	if !strings.Contains(summaryBefore, "tick at least one event") {
		t.Errorf("before any box was ticked the summary read %q", summaryBefore)
	}
	do(t, ctx, "send a test before saving",
		chromedp.Click(button("Send test")),
		chromedp.WaitVisible(chromedp.Search(`//*[@id="test-result"]//strong[normalize-space()="It works."]`)),
	)
	mu.Lock()
	if len(received) != 1 || received[0]["event"] != "TODO_CREATED" {
		t.Errorf("the receiver got %v, want one TODO_CREATED test", received)
	}
	mu.Unlock()
	wantPath(t, ctx, "/webhooks/new")

	do(t, ctx, "save",
		chromedp.Click(button("Create webhook")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="secret-panel"]`)),
	)
	t.Logf("built, tested and saved in %v of browser time", time.Since(started).Round(time.Millisecond))
	secret, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="webhook-secret"]').value`))
	if err != nil || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret shown after create = %q (%v), want whsec_…", secret, err)
	}
	if !strings.HasPrefix(location(ctx), srv.base+"/webhooks/wh_") {
		t.Errorf("after create the address is %s, want the webhook's page", location(ctx))
	}

	do(t, ctx, "reload the webhook page", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid="webhook-name"]`)))
	if present(t, ctx, `[data-testid="secret-panel"]`) {
		t.Errorf("the secret is shown again after a reload; it should be shown once")
	}

	do(t, ctx, "edit", chromedp.Click(chromedp.CSS(`[data-testid="edit-webhook"]`)), chromedp.WaitVisible(chromedp.CSS("#summary")))
	checked := func(name string) []string {
		vals, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('input[name="`+name+`"]:checked')].map(e => e.closest('label').innerText.split('\n')[0].trim())`))
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(vals)
		return vals
	}
	if got, want := checked("projectIds"), []string{"Mobile app", "Support", "Website"}; !slices.Equal(got, want) {
		t.Errorf("projects ticked on edit = %q, want %q", got, want)
	}
	if got, want := checked("events"), []string{"Comment added", "Record created", "Record moved to another list"}; !slices.Equal(got, want) {
		t.Errorf("events ticked on edit = %q, want %q", got, want)
	}
}

// waitSummary waits until the live summary mentions everything in wants, and returns it.
func waitSummary(t *testing.T, ctx context.Context, wants ...string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#summary')?.innerText ?? ''`))
		if err != nil {
			t.Fatal(err)
		}
		last = s
		if !slices.ContainsFunc(wants, func(w string) bool { return !strings.Contains(s, w) }) {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the summary never said all of %q; it reads %q", wants, last)
	return ""
}
