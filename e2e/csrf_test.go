package e2e

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserCSRFFromAnotherPort is the attack of issue 9 in a real browser: the victim is
// signed in to Hookyard at http://127.0.0.1:A; a page served on another port of the same
// host, http://127.0.0.1:B, plants its own _csrf cookie (cookies are not kept apart by port,
// and the two origins are same-site) and auto-submits a form that points the victim's
// webhook somewhere else. The webhook must keep its URL, as the victim sees it on the
// webhook page; and the victim's own edit still works.
func TestBrowserCSRFFromAnotherPort(t *testing.T) {
	ctx := newTab(t)
	srv := startServer(t, "--allow-private-targets")
	const (
		original = "http://127.0.0.1:9/orders"   // never called: nothing listens on port 9
		stolen   = "http://127.0.0.1:9/attacker" // what the attacker wants
		planted  = "planted-by-the-attacker"
	)

	setupAdmin(t, ctx, srv)
	do(t, ctx, "create a webhook",
		chromedp.Navigate(srv.base+"/webhooks/new"),
		chromedp.WaitVisible(chromedp.CSS("#summary")),
		chromedp.SendKeys(inputLabelled("Name"), "Orders"),
		chromedp.SendKeys(inputLabelled("URL to call"), original),
		chromedp.Click(chromedp.CSS("#all_projects")),
		chromedp.Click(chromedp.CSS("#all_events")),
		chromedp.Click(button("Create webhook")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="secret-panel"]`)),
	)
	hookPage := location(ctx)
	id := strings.TrimPrefix(hookPage, srv.base+"/webhooks/")
	if !strings.HasPrefix(id, "wh_") {
		t.Fatalf("after create the address is %s, want the webhook's page", hookPage)
	}

	form := fmt.Sprintf(`<!doctype html><title>You won!</title>
<form id="f" method="post" action="%s/webhooks/%s">
<input name="_csrf" value="%s"><input name="action" value="save"><input name="name" value="Orders">
<input name="url" value="%s"><input name="all_events" value="1"><input name="all_projects" value="1">
</form>
<script>document.getElementById("f").submit()</script>`, srv.base, html.EscapeString(id), planted, stolen)
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		// Set by another port of the same host, the cookie is sent to Hookyard too.
		http.SetCookie(w, &http.Cookie{Name: "_csrf", Value: planted, Path: "/"})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, form)
	}))
	defer attacker.Close()
	if !strings.HasPrefix(attacker.URL, "http://127.0.0.1:") || attacker.URL == srv.base {
		t.Fatalf("attacker page at %s, want another port of 127.0.0.1", attacker.URL)
	}

	do(t, ctx, "visit the attacker's page, which submits its form to Hookyard",
		chromedp.Navigate(attacker.URL+"/prize"),
		// The attacker's page has no <main>; Hookyard's answer to the form has one.
		chromedp.WaitVisible(chromedp.CSS("main")),
	)
	switch {
	case !strings.HasPrefix(location(ctx), srv.base+"/"):
		t.Errorf("the forged form did not reach Hookyard (page: %s)", location(ctx))
	case !present(t, ctx, `[data-testid="error-page"]`):
		t.Errorf("Hookyard accepted the forged form: it answered with the page %q", text(t, ctx, "h1"))
	default:
		if msg := text(t, ctx, `[data-testid="error-page"]`); !strings.Contains(msg, "nothing was changed") {
			t.Errorf("Hookyard's refusal of the forged form reads %q, want that nothing was changed", msg)
		}
	}
	do(t, ctx, "open the webhook page", chromedp.Navigate(hookPage), chromedp.WaitVisible(chromedp.CSS(`[data-testid="webhook-url"]`)))
	if got := text(t, ctx, `[data-testid="webhook-url"]`); got != original {
		t.Fatalf("after the attacker's page the webhook calls %q, want still %q", got, original)
	}

	// The victim's own change, from Hookyard's page, still goes through.
	const moved = "http://127.0.0.1:9/orders-v2"
	do(t, ctx, "change the URL on the edit page",
		chromedp.Click(chromedp.CSS(`[data-testid="edit-webhook"]`)),
		chromedp.WaitVisible(chromedp.CSS("#summary")),
		chromedp.SetValue(inputLabelled("URL to call"), moved),
		chromedp.Click(button("Save changes")),
		chromedp.WaitVisible(chromedp.Search(fmt.Sprintf(`//*[@data-testid="webhook-url"][normalize-space()=%s]`, xpathString(moved)))),
	)
	if got := text(t, ctx, `[data-testid="flash"]`); got != "Saved." {
		t.Errorf("after saving, the flash reads %q, want Saved.", got)
	}
}
