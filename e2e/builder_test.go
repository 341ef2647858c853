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
	"github.com/chromedp/chromedp/kb"
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

// TestBrowserBuilderFilters types into "Find a project" and "Find an event" and checks what a
// person sees: only the matching boxes (and the groups that hold them) are on screen, "Select
// all" ticks only those, and the group's own box says so honestly, also once the filter is
// cleared again.
func TestBrowserBuilderFilters(t *testing.T) {
	ctx := newTab(t)
	srv := startServer(t)
	setupAdmin(t, ctx, srv)
	do(t, ctx, "open the builder",
		chromedp.Navigate(srv.base+"/webhooks/new"),
		chromedp.WaitVisible(inputLabelled("Find a project")),
	)

	do(t, ctx, "find a project", chromedp.SendKeys(inputLabelled("Find a project"), "mo"))
	if got, want := shownChoices(t, ctx, "projectIds"), []string{"Mobile app", "Office move"}; !slices.Equal(got, want) {
		t.Errorf("after typing “mo” the projects on screen are %q, want %q", got, want)
	}
	if shownGroup(t, ctx, "Globex") {
		t.Errorf("Globex is still on screen although none of its projects matches “mo”")
	}
	do(t, ctx, "select all shown in Acme", chromedp.Click(selectAllIn("Acme")))
	if got, want := tickedChoices(t, ctx, "projectIds"), []string{"Mobile app"}; !slices.Equal(got, want) {
		t.Errorf("after “Select all” in Acme the ticked projects are %q, want only the one shown, %q", got, want)
	}
	if got := groupBox(t, ctx, "Acme"); got != "ticked" {
		t.Errorf("Acme's select-all box is %s after ticking every project shown, want ticked", got)
	}
	do(t, ctx, "clear the project filter", chromedp.SendKeys(inputLabelled("Find a project"), strings.Repeat(kb.Backspace, 2)))
	if got := len(shownChoices(t, ctx, "projectIds")); got != 8 {
		t.Errorf("with the filter cleared %d projects are on screen, want all 8", got)
	}
	if got := groupBox(t, ctx, "Acme"); got != "partly ticked" {
		t.Errorf("Acme's select-all box is %s with 1 of its 3 projects ticked, want partly ticked", got)
	}

	do(t, ctx, "find an event", chromedp.SendKeys(inputLabelled("Find an event"), "comment"))
	shown := shownChoices(t, ctx, "events")
	if len(shown) == 0 || slices.ContainsFunc(shown, func(s string) bool { return !strings.Contains(strings.ToLower(s), "comment") }) {
		t.Errorf("after typing “comment” the events on screen are %q, want only comment events", shown)
	}
	if slices.Contains(shown, "Record created") {
		t.Errorf("“Record created” is still on screen under the filter “comment”")
	}
	do(t, ctx, "select all shown in Comments", chromedp.Click(selectAllIn("Comments")))
	if got := tickedChoices(t, ctx, "events"); !slices.Equal(got, shown) {
		t.Errorf("after “Select all” the ticked events are %q, want exactly those shown, %q", got, shown)
	}
	if got := groupBox(t, ctx, "Comments"); got != "ticked" {
		t.Errorf("the Comments select-all box is %s after ticking every event shown, want ticked", got)
	}
	waitSummary(t, ctx, "“Comment added”", "Mobile app (Acme)")
}

// shownChoices are the labels of the boxes named name that a person can see, in page order.
func shownChoices(t *testing.T, ctx context.Context, name string) []string {
	t.Helper()
	return choices(t, ctx, name, "b.closest('label').checkVisibility()")
}

// tickedChoices are the labels of the ticked boxes named name, sorted.
func tickedChoices(t *testing.T, ctx context.Context, name string) []string {
	t.Helper()
	return choices(t, ctx, name, "b.checked")
}

func choices(t *testing.T, ctx context.Context, name, keep string) []string {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('input[name="`+name+`"]')]
		.filter(b => `+keep+`).map(b => b.closest('label').innerText.split('\n')[0].trim())`))
	if err != nil {
		t.Fatalf("read the %s boxes: %v", name, err)
	}
	return got
}

// shownGroup reports whether the group whose heading starts with legend is on screen.
func shownGroup(t *testing.T, ctx context.Context, legend string) bool {
	t.Helper()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`[...document.querySelectorAll('fieldset')]
		.some(f => f.querySelector('legend')?.innerText.trim().startsWith(`+jsString(legend)+`) && f.checkVisibility())`))
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// selectAllIn is the "Select all" box of the group headed legend.
func selectAllIn(legend string) chromedp.Search {
	return chromedp.Search(`//fieldset[legend[starts-with(normalize-space(), ` + xpathString(legend) + `)]]/legend//label[contains(., "Select")]`)
}

// groupBox says how the group's select-all box looks: "ticked", "partly ticked" or "empty".
func groupBox(t *testing.T, ctx context.Context, legend string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const f = [...document.querySelectorAll('fieldset')].find(f => f.querySelector('legend')?.innerText.trim().startsWith(`+jsString(legend)+`));
		const b = f?.querySelector('legend input[type=checkbox]');
		if (!b || !b.checkVisibility()) return "not on screen";
		return b.indeterminate ? "partly ticked" : b.checked ? "ticked" : "empty";
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
