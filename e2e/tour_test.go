package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"
)

// The tour opens every main page of Hookyard in one tab, with data on it that stretches the
// layout (a long URL, long names, a webhook that failed and was switched off, deliveries with
// several attempts, a bin with requests), and calls visit on each. The screenshots, the
// phone-width check and the accessibility check all walk it, so that a page added to the
// tour is covered by all three.

// tourServerFlags start the server a tour needs: loopback receivers, and retries fast enough
// that a failing webhook is switched off within the test.
var tourServerFlags = []string{"--allow-private-targets", "--retry-schedule", "30ms,30ms,30ms,30ms"}

// tour walks the pages; visit(name) is called with each page open and settled.
func tour(t *testing.T, ctx context.Context, srv *server, visit func(name string)) {
	t.Helper()
	var failing atomic.Bool
	failing.Store(true)
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"received":true,"note":"thanks — stored as order 8812"}`)
	}))
	t.Cleanup(ok.Close)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "down for maintenance until 14:00")
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(broken.Close)
	stop := func(name, path string, ready chromedp.CSS) {
		t.Helper()
		if path != "" {
			do(t, ctx, "open "+name, chromedp.Navigate(srv.base+path))
		}
		do(t, ctx, "wait for "+name, chromedp.WaitVisible(ready))
		visit(name)
	}

	do(t, ctx, "open the setup link", chromedp.Navigate(srv.setupURL))
	stop("setup", "", chromedp.CSS("#name"))
	setupAdmin(t, ctx, srv)
	stop("dashboard-first-visit", "/", chromedp.CSS(`[data-testid="first-webhook"]`))
	stop("webhooks-empty", "/webhooks", chromedp.CSS(`[data-testid="empty-webhooks"]`))
	stop("inspector-empty", "/inspector", chromedp.CSS(`[data-testid="empty-bins"]`))

	token := browserToken(t, ctx, srv, "Production publisher")
	api := newAPIClient(srv.base, token)
	var projects struct {
		Data []struct{ ID, Name string }
	}
	api.mustCall(t, http.MethodGet, "/projects", nil, &projects, http.StatusOK)
	project := map[string]string{}
	for _, p := range projects.Data {
		project[p.Name] = p.ID
	}
	type hook struct{ ID string }
	var orders, warehouse hook
	longURL := ok.URL + "/integrations/hookyard/receivers/orders-and-fulfilment-synchronisation-endpoint?tenant=acme-international-holdings"
	api.mustCall(t, http.MethodPost, "/webhooks", map[string]any{"name": "Orders and fulfilment synchronisation for Acme International", "url": longURL,
		"events":     []string{"TODO_CREATED", "TODO_MOVED", "TODO_CHECKLIST_ITEM_ASSIGNEE_REMOVED", "COMMENT_CREATED"},
		"projectIds": []string{project["Website"], project["Mobile app"], project["Support"]}}, &orders, http.StatusCreated)
	api.mustCall(t, http.MethodPost, "/webhooks", map[string]any{"name": "Warehouse sync", "url": broken.URL + "/hook"}, &warehouse, http.StatusCreated)
	publish := func(event, projectName string) string {
		t.Helper()
		var out struct{ ID string }
		api.mustCall(t, http.MethodPost, "/events", map[string]any{"event": event, "projectId": project[projectName],
			"currentValue": map[string]any{"title": "Order more boxes for the Leeds warehouse", "list": "Doing"}}, &out, http.StatusAccepted)
		return out.ID
	}
	publish("TODO_CREATED", "Website")
	movedID := publish("TODO_CHECKLIST_ITEM_ASSIGNEE_REMOVED", "Mobile app")
	waitFor(t, "Warehouse sync to be switched off", func() bool {
		var w struct{ Enabled bool }
		api.mustCall(t, http.MethodGet, "/webhooks/"+warehouse.ID, nil, &w, http.StatusOK)
		return !w.Enabled
	})
	publish("COMMENT_CREATED", "Support")

	stop("dashboard", "/", chromedp.CSS(`[data-testid="attention-item"]`))
	stop("webhooks", "/webhooks", chromedp.CSS(`[data-testid="webhook-row"]`))
	stop("webhook", "/webhooks/"+orders.ID, chromedp.CSS(`[data-testid="log-row"]`))
	stop("webhook-switched-off", "/webhooks/"+warehouse.ID, chromedp.CSS(`[data-testid="disabled-notice"]`))
	do(t, ctx, "open a failed delivery",
		chromedp.Click(chromedp.CSS(`tr[data-testid="log-row"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="attempt"]`)),
	)
	visit("delivery-failed")
	stop("builder-edit", "/webhooks/"+orders.ID+"/edit", chromedp.CSS("#summary"))
	do(t, ctx, "type into the new builder",
		chromedp.Navigate(srv.base+"/webhooks/new"),
		chromedp.WaitVisible(chromedp.CSS("#summary")),
		chromedp.SendKeys(inputLabelled("Name"), "CRM"),
		chromedp.SendKeys(inputLabelled("URL to call"), longURL),
		chromedp.Click(chromedp.CSS("#all_projects")),
	)
	waitSummary(t, ctx, "orders-and-fulfilment")
	visit("builder-new")
	stop("events", "/events", chromedp.CSS(`[data-testid="event-row"]`))
	stop("event", "/events/"+movedID, chromedp.CSS(`[data-testid="outcome"]`))
	do(t, ctx, "open a delivered attempt",
		chromedp.Click(chromedp.Search(`//li[@data-testid="outcome"][.//a[starts-with(normalize-space(), "Orders")]]//a[contains(@href, "/deliveries/")]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="attempt"]`)),
	)
	visit("delivery")

	do(t, ctx, "make a bin",
		chromedp.Navigate(srv.base+"/inspector"),
		chromedp.Click(button("Create a test URL")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="bin-empty"]`)),
	)
	visit("bin-empty")
	binURL, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#bin-url').value`))
	if err != nil {
		t.Fatal(err)
	}
	var inspected hook
	api.mustCall(t, http.MethodPost, "/webhooks", map[string]any{"name": "Inspector test", "url": binURL,
		"events": []string{"TODO_MOVED"}}, &inspected, http.StatusCreated)
	publish("TODO_MOVED", "Billing")
	do(t, ctx, "wait for the request in the bin", chromedp.WaitVisible(chromedp.CSS(`[data-testid="bin-request"]`)))
	visit("bin")
	stop("inspector", "/inspector", chromedp.CSS(`[data-testid="bin-link"]`))

	stop("organizations", "/organizations", chromedp.CSS(`table[data-testid="organizations"]`))
	do(t, ctx, "open an organisation",
		chromedp.Click(chromedp.Search(`//table[@data-testid="organizations"]//a[normalize-space()="Acme"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[@data-testid="org-name"][normalize-space()="Acme"]`)),
	)
	visit("organization")
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
	visit("user")
	stop("users", "/users", chromedp.CSS(`table[data-testid="users"]`))
	stop("event-types", "/event-types", chromedp.CSS(`table[data-testid="event-types"]`))
	stop("tokens", "/settings/tokens", chromedp.CSS(`table[data-testid="tokens"]`))
	stop("account", "/account", chromedp.CSS(`form[action="/account"]`))
	stop("not-found", "/no-such-page", chromedp.CSS(`[data-testid="error-page"]`))

	// Back on after the receiver is fixed: the page a person sees right after re-enabling.
	failing.Store(false)
	do(t, ctx, "turn Warehouse sync back on",
		chromedp.Navigate(srv.base+"/webhooks/"+warehouse.ID),
		chromedp.Click(button("Check the URL and turn back on")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="state-words"]`)),
	)
	visit("webhook-back-on")

	do(t, ctx, "sign out", chromedp.Click(button("Sign out")), chromedp.WaitVisible(chromedp.CSS(`form[action="/login"] #email`)))
	do(t, ctx, "try a wrong password",
		chromedp.SendKeys(inputLabelled("E-mail"), "grace@example.com"),
		chromedp.SendKeys(inputLabelled("Password"), "not my password"),
		chromedp.Click(button("Sign in")),
		chromedp.WaitVisible(chromedp.CSS(`.notice.bad[role="alert"]`)),
	)
	visit("login")
}

// browserToken creates an API token on the tokens page, as a person would, and returns it.
func browserToken(t *testing.T, ctx context.Context, srv *server, purpose string) string {
	t.Helper()
	do(t, ctx, "create an API token",
		chromedp.Navigate(srv.base+"/settings/tokens"),
		chromedp.WaitVisible(inputLabelled("What is it for?")),
		chromedp.SendKeys(inputLabelled("What is it for?"), purpose),
		chromedp.Click(button("Create token")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="token-secret"]`)),
	)
	token, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="token-secret"]').value`))
	if err != nil || !strings.HasPrefix(token, "hyk_") {
		t.Fatalf("the new token reads %q (%v), want hyk_…", token, err)
	}
	return token
}

// tourName names a page and width, for files and messages: "webhook-375".
func tourName(page string, width int64) string { return fmt.Sprintf("%s-%d", page, width) }
