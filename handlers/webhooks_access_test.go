package handlers_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// A member who leaves an organisation keeps their webhook, but its projects there are
// reported as no longer accessible, in the API and on the pages.
func TestWebhookOwnerLostAccess(t *testing.T) {
	f := newWebhookFixture(t, roomyLogins)
	f.addMember(f.bolt.ID, f.mia.ID)
	w := f.createWebhook(t, f.miaToken, map[string]any{"name": "Both orgs", "url": publicURL,
		"events": []string{"TODO_CREATED"}, "projectIds": []string{f.alpha.ID, f.beta.ID}})
	if len(w.InaccessibleProjectIDs) != 0 {
		t.Fatalf("inaccessibleProjectIds %v before anything changed", w.InaccessibleProjectIDs)
	}
	only := f.createWebhook(t, f.miaToken, map[string]any{"name": "Bolt only", "url": publicURL, "projectIds": []string{f.beta.ID}})
	fine := f.createWebhook(t, f.miaToken, map[string]any{"name": "Acme only", "url": publicURL, "projectIds": []string{f.alpha.ID}})

	if err := f.store.RemoveMember(t.Context(), f.bolt.ID, f.mia.ID); err != nil {
		t.Fatal(err)
	}

	// API: for the owner and for an admin alike (it is the owner's access that counts).
	for _, tok := range []string{f.miaToken, f.adminToken} {
		got := decode[apiWebhook](t, f.call(t, tok, http.MethodGet, "/api/v1/webhooks/"+w.ID, nil, http.StatusOK))
		if !slices.Equal(got.InaccessibleProjectIDs, []string{f.beta.ID}) {
			t.Errorf("inaccessibleProjectIds %v, want [%s]", got.InaccessibleProjectIDs, f.beta.ID)
		}
		if !slices.Equal(sorted(got.ProjectIDs), sorted([]string{f.alpha.ID, f.beta.ID})) {
			t.Errorf("projectIds %v: the selection itself must stay", got.ProjectIDs)
		}
	}
	for _, p := range walk[apiWebhook](t, f.testApp, f.miaToken, "/api/v1/webhooks") {
		for _, x := range p.Data {
			want := map[string][]string{w.ID: {f.beta.ID}, only.ID: {f.beta.ID}, fine.ID: {}}[x.ID]
			if !slices.Equal(x.InaccessibleProjectIDs, want) {
				t.Errorf("list: %s inaccessibleProjectIds %v, want %v", x.Name, x.InaccessibleProjectIDs, want)
			}
		}
	}

	// Pages.
	b := f.signedInAs(f.mia)
	list := b.get("/webhooks")
	wantPageStatus(t, list, http.StatusOK)
	notices := map[string]string{}
	list.Doc.Find(`[data-testid="webhook-row"]`).Each(func(_ int, row *goquery.Selection) {
		notices[strings.TrimSpace(row.Find("strong").First().Text())] = squash(row.Find(".notice").Text())
	})
	if got := notices["Both orgs"]; got != "1 of 2 selected projects are no longer accessible." {
		t.Errorf("list notice for Both orgs %q", got)
	}
	if got := notices["Bolt only"]; !strings.Contains(got, "no longer accessible") {
		t.Errorf("list notice for Bolt only %q", got)
	}
	if got := notices["Acme only"]; got != "" {
		t.Errorf("list notice for Acme only %q, want none", got)
	}

	p := b.get("/webhooks/" + w.ID)
	wantPageStatus(t, p, http.StatusOK)
	notice := squash(p.Doc.Find(`[data-testid="unavailable-projects"]`).Text())
	if !strings.Contains(notice, "1 of 2 selected projects are no longer accessible") || !strings.Contains(notice, "Beta (Bolt)") {
		t.Errorf("webhook page notice %q", notice)
	}
	if p := b.get("/webhooks/" + fine.ID); p.Doc.Find(`[data-testid="unavailable-projects"]`).Length() != 0 {
		t.Errorf("a webhook with nothing lost shows the notice")
	}

	// The admin sees the same on the owner's webhook.
	ap := f.signedInAs(f.admin).get("/webhooks/" + w.ID)
	if n := squash(ap.Doc.Find(`[data-testid="unavailable-projects"]`).Text()); !strings.Contains(n, "1 of 2 selected projects are no longer accessible") {
		t.Errorf("admin's view of the notice %q", n)
	}

	// A deleted project counts as lost too.
	if err := f.store.DeleteProject(t.Context(), f.alpha.ID); err != nil {
		t.Fatal(err)
	}
	got := decode[apiWebhook](t, f.call(t, f.miaToken, http.MethodGet, "/api/v1/webhooks/"+w.ID, nil, http.StatusOK))
	if !slices.Equal(sorted(got.InaccessibleProjectIDs), sorted([]string{f.alpha.ID, f.beta.ID})) {
		t.Errorf("after deleting Alpha: inaccessibleProjectIds %v", got.InaccessibleProjectIDs)
	}
	p = b.get("/webhooks/" + w.ID)
	if n := squash(p.Doc.Find(`[data-testid="unavailable-projects"]`).Text()); !strings.Contains(n, "2 of 2 selected projects are no longer accessible") {
		t.Errorf("webhook page notice after deleting Alpha %q", n)
	}

	// Back in Bolt: Beta is reachable again.
	f.addMember(f.bolt.ID, f.mia.ID)
	got = decode[apiWebhook](t, f.call(t, f.miaToken, http.MethodGet, "/api/v1/webhooks/"+only.ID, nil, http.StatusOK))
	if len(got.InaccessibleProjectIDs) != 0 {
		t.Errorf("after rejoining Bolt: inaccessibleProjectIds %v", got.InaccessibleProjectIDs)
	}
}
