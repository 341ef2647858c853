package handlers_test

import (
	"database/sql"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"hookyard/store"
)

// Long lists of webhooks (SPEC §5, §6): the list page and the API are paged, and one person
// may have at most --max-webhooks-per-user webhooks.

// seedWebhooks stores n webhooks of owner straight into the database, in one statement so
// that a hundred thousand take a moment; every tenth is switched off. Their ids sort before
// any made by the store, in seeding order.
func (a *testApp) seedWebhooks(t *testing.T, owner store.User, n int) {
	t.Helper()
	err := a.store.WithTx(t.Context(), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(t.Context(), `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
			INSERT INTO webhooks (id, owner_id, name, url, secret, enabled, status, created_at, updated_at)
			SELECT printf('wh_%026d', i), ?, 'Seeded ' || i, 'https://93.184.215.14/hooks/' || i,
				'whsec_c2VlZGVkIHNlY3JldCBmb3IgdGVzdHMgb25seSEhISE=', i % 10 != 0, 'HEALTHY', 0, 0 FROM n`,
			n, owner.ID)
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
