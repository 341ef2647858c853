package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"hookyard/handlers"
	"hookyard/internal/testdb"
	"hookyard/store"
)

// Long lists of webhooks (SPEC §5, §6): the list page and the API are paged, and one person
// may have at most --max-webhooks-per-user webhooks.

// seedWebhooks stores n webhooks of owner straight into the database, in two statements so
// that a hundred thousand take a moment. Every tenth is switched off; all listen only for
// TODO_DELETED, at a loopback address that the outbound guard refuses, so that nothing is
// ever sent to them. Their ids sort before any made by the store, in seeding order.
func (a *testApp) seedWebhooks(t *testing.T, owner store.User, n int) {
	t.Helper()
	const numbers = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) `
	id := `printf('wh_%026d', i)`
	if testdb.Engine() == "postgres" {
		id = `'wh_' || lpad(i::text, 26, '0')`
	}
	err := a.store.WithTx(t.Context(), func(tx *store.Tx) error {
		_, err := tx.ExecContext(t.Context(), numbers+`INSERT INTO webhooks (id, owner_id, name, url, secret, enabled, status, created_at, updated_at)
			SELECT `+id+`, ?, 'Seeded ' || i, 'http://127.0.0.1:9/seeded/' || i,
				'whsec_c2VlZGVkIHNlY3JldCBmb3IgdGVzdHMgb25seSEhISE=', CASE WHEN i % 10 = 0 THEN 0 ELSE 1 END, 'HEALTHY', 0, 0 FROM n`, n, owner.ID)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(t.Context(), numbers+`INSERT INTO webhook_events (webhook_id, event_type)
			SELECT `+id+`, 'TODO_DELETED' FROM n`, n)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// webhookRows are the names of the webhooks a list page shows.
func webhookRows(p page) []string {
	return p.Doc.Find(`[data-testid="webhook-row"] strong`).Map(func(_ int, s *goquery.Selection) string { return s.Text() })
}

// The list page of someone with 100,000 webhooks shows one page of 50, says how many there
// are, and its Next page link leads on (keeping the state filter) without repeats.
func TestWebhooksPageIsPaged(t *testing.T) {
	f := newAPIFixture(t, roomyLogins)
	f.seedWebhooks(t, f.mia, 100_000)
	mia := f.signedInAs(f.mia)

	p := mia.get("/webhooks")
	wantPageStatus(t, p, http.StatusOK)
	first := webhookRows(p)
	if len(first) != 50 || first[0] != "Seeded 1" || first[49] != "Seeded 50" {
		t.Fatalf("the first page shows %d webhooks (%v…), want Seeded 1 to 50", len(first), first[:min(3, len(first))])
	}
	if got := squash(p.Doc.Find(`[data-testid="pager-count"]`).Text()); got != "Showing 50 of 100,000 webhooks" {
		t.Errorf("the page says %q, want how many of how many", got)
	}
	if p.Doc.Find(`[data-testid="first-page"]`).Length() != 0 {
		t.Errorf("the first page links to the first page")
	}
	next, _ := p.Doc.Find(`[data-testid="next-page"]`).Attr("href")
	p = mia.get(next)
	wantPageStatus(t, p, http.StatusOK)
	if second := webhookRows(p); len(second) != 50 || second[0] != "Seeded 51" || second[49] != "Seeded 100" {
		t.Errorf("the next page shows %d webhooks (%v…), want Seeded 51 to 100", len(second), second[:min(3, len(second))])
	}
	if back, _ := p.Doc.Find(`[data-testid="first-page"]`).Attr("href"); back != "/webhooks" {
		t.Errorf("the second page's First page link is %q, want /webhooks", back)
	}

	// Filtered: every tenth is switched off, and the next page keeps the filter.
	p = mia.get("/webhooks?state=disabled")
	if got := squash(p.Doc.Find(`[data-testid="pager-count"]`).Text()); got != "Showing 50 of 10,000 webhooks" {
		t.Errorf("switched-off filter says %q", got)
	}
	next, _ = p.Doc.Find(`[data-testid="next-page"]`).Attr("href")
	if !strings.Contains(next, "state=disabled") {
		t.Fatalf("the next page link %q drops the filter", next)
	}
	if rows := webhookRows(mia.get(next)); len(rows) != 50 || rows[0] != "Seeded 510" {
		t.Errorf("the next switched-off page starts with %v, want Seeded 510", rows[:min(1, len(rows))])
	}

	// The last page has no Next link, and a short list no pager at all.
	p = mia.get("/webhooks?state=disabled&cursor=" + fmt.Sprintf("wh_%026d", 99990))
	if rows := webhookRows(p); !slices.Equal(rows, []string{"Seeded 100000"}) {
		t.Errorf("the last switched-off page shows %v", rows)
	}
	if p.Doc.Find(`[data-testid="next-page"]`).Length() != 0 {
		t.Errorf("the last page has a Next page link")
	}
	f.createWebhook(t, f.ottoToken, map[string]any{"name": "Only one", "url": publicURL})
	if p := f.signedInAs(f.otto).get("/webhooks"); p.Doc.Find(`[data-testid="pager"]`).Length() != 0 || len(webhookRows(p)) != 1 {
		t.Errorf("a one-webhook list shows a pager or not its webhook")
	}
}

// The API never answers more than 500 webhooks at once, whatever ?limit= asks, and its
// cursor leads on.
func TestWebhooksAPICapsPagesAt500(t *testing.T) {
	f := newAPIFixture(t)
	f.seedWebhooks(t, f.mia, 1200)
	r := f.call(t, f.miaToken, http.MethodGet, "/api/v1/webhooks?limit=100000", nil, http.StatusOK)
	page := decode[listPage[apiWebhook]](t, r)
	if len(page.Data) != 500 || page.NextCursor == nil {
		t.Fatalf("?limit=100000 answered %d webhooks, next %v; want 500 and a cursor", len(page.Data), page.NextCursor)
	}
	if d := decode[listPage[apiWebhook]](t, f.call(t, f.miaToken, http.MethodGet, "/api/v1/webhooks", nil, http.StatusOK)); len(d.Data) != 50 {
		t.Errorf("no ?limit= answered %d webhooks, want 50", len(d.Data))
	}
	var all []string
	for _, p := range walk[apiWebhook](t, f.testApp, f.miaToken, "/api/v1/webhooks?limit=500") {
		all = append(all, ids(p.Data, func(w apiWebhook) string { return w.ID })...)
	}
	if len(all) != 1200 || len(slices.Compact(slices.Clone(all))) != 1200 {
		t.Errorf("walking the pages gave %d webhooks (%d distinct), want 1200", len(all), len(slices.Compact(slices.Clone(all))))
	}
}

// One more webhook than --max-webhooks-per-user (1000 by default) is refused with 429 naming
// the limit: problem+json in the API, and in the builder a message above the form, which
// keeps everything typed and ticked.
func TestWebhooksPerPersonQuota(t *testing.T) {
	f := newAPIFixture(t, roomyLogins)
	f.seedWebhooks(t, f.mia, 999)
	f.createWebhook(t, f.miaToken, map[string]any{"name": "The thousandth", "url": publicURL})

	r := f.api(f.miaToken, http.MethodPost, "/api/v1/webhooks", map[string]any{"name": "One too many", "url": publicURL})
	p := wantProblem(t, r, http.StatusTooManyRequests)
	if !strings.Contains(p.Detail, "You already have 1000 webhooks") || !strings.Contains(p.Detail, "--max-webhooks-per-user") {
		t.Errorf("the 429 says %q, want the limit named", p.Detail)
	}

	mia := f.signedInAs(f.mia)
	form := builderForm("save", "One too many", publicURL, []string{"TODO_CREATED", "TODO_MOVED"}, []string{f.alpha.ID})
	page := mia.post("/webhooks", form)
	wantPageStatus(t, page, http.StatusTooManyRequests)
	if msg := squash(page.Doc.Find(`[role="alert"]`).Text()); !strings.Contains(msg, "You already have 1000 webhooks, the most one person may have") {
		t.Errorf("the builder says %q, want the limit named", msg)
	}
	if inputValue(t, page, "name") != "One too many" || inputValue(t, page, "url") != publicURL {
		t.Errorf("the builder lost what was typed")
	}
	if got := checkedValues(page, "events"); !slices.Equal(got, []string{"TODO_CREATED", "TODO_MOVED"}) {
		t.Errorf("ticked events %v, want the two chosen", got)
	}
	if got := checkedValues(page, "projectIds"); !slices.Equal(got, []string{f.alpha.ID}) {
		t.Errorf("ticked projects %v, want Alpha", got)
	}
	if n, err := f.store.CountWebhooks(t.Context(), store.WebhookFilter{OwnerID: f.mia.ID}); err != nil || n != 1000 {
		t.Errorf("Mia has %d webhooks (%v), want 1000", n, err)
	}
	// The quota is per person.
	f.createWebhook(t, f.ottoToken, map[string]any{"name": "Otto's", "url": publicURL})
}

// An event explains itself one page of the viewer's webhooks at a time: 50 by default and
// never more than 500 in the API, whose webhooksNextCursor leads through all of them; the
// event page shows 50 with a Next page link.
func TestEventOutcomesArePaged(t *testing.T) {
	roomy := func(o *handlers.Options) { o.MaxWebhooksPerUser = 2000 }
	f := newAPIFixture(t, roomyLogins, allowPrivate, roomy)
	f.seedWebhooks(t, f.mia, 1200)
	rcv := newReceiver(t, http.StatusOK, "")
	real := f.createWebhook(t, f.miaToken, map[string]any{"name": "Real one", "url": rcv.URL, "events": []string{"TODO_CREATED"}})
	ev := decode[map[string]any](t, f.call(t, f.miaToken, http.MethodPost, "/api/v1/events",
		map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID}, http.StatusAccepted))
	path := "/api/v1/events/" + ev["id"].(string)

	type eventDetail struct {
		ID       string `json:"id"`
		Webhooks []struct {
			WebhookID string `json:"webhookId"`
			State     string `json:"state"`
		} `json:"webhooks"`
		Next *string `json:"webhooksNextCursor"`
	}
	first := decode[eventDetail](t, f.call(t, f.miaToken, http.MethodGet, path, nil, http.StatusOK))
	if first.ID != ev["id"] || len(first.Webhooks) != 50 || first.Next == nil {
		t.Fatalf("GET %s: %d webhooks, next %v; want the event with 50 and a cursor", path, len(first.Webhooks), first.Next)
	}
	if big := decode[eventDetail](t, f.call(t, f.miaToken, http.MethodGet, path+"?limit=100000", nil, http.StatusOK)); len(big.Webhooks) != 500 {
		t.Errorf("?limit=100000 answered %d webhooks, want 500", len(big.Webhooks))
	}
	seen, pages := map[string]bool{}, 0
	for q := "?limit=500"; q != ""; pages++ {
		d := decode[eventDetail](t, f.call(t, f.miaToken, http.MethodGet, path+q, nil, http.StatusOK))
		for _, o := range d.Webhooks {
			if seen[o.WebhookID] {
				t.Fatalf("webhook %s on two pages", o.WebhookID)
			}
			seen[o.WebhookID] = true
			if o.WebhookID == real.ID && o.State == "not_matched" {
				t.Errorf("the subscribed webhook is %q", o.State)
			}
		}
		q = ""
		if d.Next != nil {
			q = "?limit=500&cursor=" + url.QueryEscape(*d.Next)
		}
	}
	if len(seen) != 1201 || pages != 3 || !seen[real.ID] {
		t.Errorf("the pages name %d webhooks in %d pages (the real one: %v), want 1201 in 3", len(seen), pages, seen[real.ID])
	}
	wantProblem(t, f.api(f.miaToken, http.MethodGet, path+"?cursor=nonsense!", nil), http.StatusBadRequest)

	mia := f.signedInAs(f.mia)
	p := mia.get("/events/" + ev["id"].(string))
	wantPageStatus(t, p, http.StatusOK)
	if n := p.Doc.Find(`[data-testid="outcome"]`).Length(); n != 50 {
		t.Errorf("the event page explains %d webhooks, want 50", n)
	}
	if got := squash(p.Doc.Find(`[data-testid="pager-count"]`).Text()); got != "Showing 50 of 1,201 webhooks" {
		t.Errorf("the event page says %q", got)
	}
	next, _ := p.Doc.Find(`[data-testid="next-page"]`).Attr("href")
	p = mia.get(next)
	if names := p.Doc.Find(`[data-testid="outcome"] strong`).First().Text(); names != "Seeded 51" {
		t.Errorf("the next page starts with %q, want Seeded 51", names)
	}
}

// The dashboard of someone with 100,000 webhooks counts them by state and lists only the
// first 10 switched-off ones, with a link to the rest.
func TestDashboardBoundsTheAttentionList(t *testing.T) {
	f := newAPIFixture(t, roomyLogins)
	f.seedWebhooks(t, f.mia, 100_000)
	p := f.signedInAs(f.mia).get("/")
	wantPageStatus(t, p, http.StatusOK)
	if got := recoveryStats(p); got != [3]string{"90000", "0", "10000"} {
		t.Errorf("the dashboard counts %v (working, failing, off), want 90000, 0, 10000", got)
	}
	if n := p.Doc.Find(`[data-testid="attention-item"]`).Length(); n != 10 {
		t.Errorf("the dashboard lists %d switched-off webhooks, want 10", n)
	}
	more := p.Doc.Find(`[data-testid="attention-more"] a`)
	if href, _ := more.Attr("href"); href != "/webhooks?state=disabled" || squash(more.Text()) != "9990 more webhooks are switched off: see them all" {
		t.Errorf("the rest are %q → %q", squash(more.Text()), href)
	}
}

// The users and API tokens pages show 50 at a time, with a count and a Next page link.
func TestUsersAndTokensPagesArePaged(t *testing.T) {
	app := newTestApp(t, roomyLogins)
	admin := app.admin()
	for i := range 120 {
		app.member(fmt.Sprintf("person%03d@example.com", i), fmt.Sprintf("Person %03d", i))
	}
	for range 60 {
		app.token(admin)
	}
	b := app.signedInAs(admin)
	for _, c := range []struct {
		path, rows, count, nextCount string
		nextRows                     int
	}{
		{"/users", `[data-testid="users"] tbody tr`, "Showing 50 of 121 people", "Showing 50 of 121 people", 50},
		{"/settings/tokens", `[data-testid="tokens"] tbody tr`, "Showing 50 of 60 tokens", "Showing 10 of 60 tokens", 10},
	} {
		p := b.get(c.path)
		wantPageStatus(t, p, http.StatusOK)
		if n := p.Doc.Find(c.rows).Length(); n != 50 {
			t.Errorf("%s shows %d rows, want 50", c.path, n)
		}
		if got := squash(p.Doc.Find(`[data-testid="pager-count"]`).Text()); got != c.count {
			t.Errorf("%s says %q, want %q", c.path, got, c.count)
		}
		next, _ := p.Doc.Find(`[data-testid="next-page"]`).Attr("href")
		p = b.get(next)
		if n := p.Doc.Find(c.rows).Length(); n != c.nextRows || squash(p.Doc.Find(`[data-testid="pager-count"]`).Text()) != c.nextCount {
			t.Errorf("%s: the next page (%s) shows %d rows, want %d", c.path, next, n, c.nextRows)
		}
	}
}
