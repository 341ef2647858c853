package handlers_test

import (
	"net/http"
	"net/url"
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

	// Counted, never named: what is in an organisation Mia left is no longer hers to see.
	noBoltNames := func(t *testing.T, where string, p page) {
		t.Helper()
		for _, name := range []string{"Beta", "(Bolt)"} {
			if strings.Contains(p.Body, name) {
				t.Errorf("%s shows %q, a name in an organisation the owner left", where, name)
			}
		}
	}
	noBoltNames(t, "the webhook list", list)
	p := b.get("/webhooks/" + w.ID)
	wantPageStatus(t, p, http.StatusOK)
	notice := squash(p.Doc.Find(`[data-testid="unavailable-projects"]`).Text())
	if !strings.Contains(notice, "1 of 2 selected projects are no longer accessible") {
		t.Errorf("webhook page notice %q", notice)
	}
	noBoltNames(t, "the webhook page", p)
	if got := textsOf(p.Doc.Find(`[data-testid="webhook-projects"] li`)); !slices.Equal(got, []string{"Alpha (Acme)"}) {
		t.Errorf("webhook page lists projects %v, want only [Alpha (Acme)]", got)
	}
	edit := b.get("/webhooks/" + w.ID + "/edit")
	wantPageStatus(t, edit, http.StatusOK)
	if n := squash(edit.Doc.Find(`[data-testid="unavailable-projects"]`).Text()); !strings.Contains(n, "1 of 2 selected projects are no longer accessible") {
		t.Errorf("builder notice %q", n)
	}
	noBoltNames(t, "the builder", edit)
	noBoltNames(t, "the builder of Bolt only", b.get("/webhooks/"+only.ID+"/edit"))
	noBoltNames(t, "the page of Bolt only", b.get("/webhooks/"+only.ID))
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

// "Send test" in the builder names the first chosen project in its sample, so it takes only
// projects the owner may use, refusing others with the one message used for unknown ids, and
// sends nothing.
func TestWebhookBuilderSendTestRefusesForeignProject(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, "ok")
	b := f.signedInAs(f.mia)
	refusal := func(t *testing.T, path, projectID string) string {
		t.Helper()
		form := builderForm("test", "Try me", rcv.URL, []string{"TODO_CREATED"}, []string{projectID, f.alpha.ID})
		p := b.post(path, form)
		wantPageStatus(t, p, http.StatusOK)
		for _, leak := range []string{f.bolt.ID, "Bolt", "Beta"} {
			if strings.Contains(p.Body, leak) {
				t.Errorf("the test result reveals %q", leak)
			}
		}
		return strings.ReplaceAll(squash(p.Doc.Find(`[data-testid="test-result"]`).Text()), projectID, "ID")
	}
	w := f.createWebhook(t, f.miaToken, map[string]any{"name": "Mine", "url": rcv.URL, "projectIds": []string{f.alpha.ID}})
	for _, path := range []string{"/webhooks", "/webhooks/" + w.ID} {
		foreign, unknown := refusal(t, path, f.beta.ID), refusal(t, path, "prj_nope")
		if !strings.Contains(foreign, "failed") || !strings.Contains(foreign, "There is no project") {
			t.Errorf("%s: test result for a foreign project %q, want a refusal", path, foreign)
		}
		if foreign != unknown {
			t.Errorf("%s: a foreign project is told apart from an unknown one:\n%q\n%q", path, foreign, unknown)
		}
	}
	if n := len(rcv.requests()); n != 0 {
		t.Errorf("the receiver got %d test requests naming a foreign project, want none", n)
	}
}

// A stored webhook's test request (page and API) happens in a project its owner can still
// use, never in one of an organisation they left.
func TestWebhookSendTestSkipsLostProjects(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, "ok")
	f.addMember(f.bolt.ID, f.mia.ID)
	// Made after Beta, so that Beta comes first in the stored selection.
	zeta := f.project(f.acme.ID, "Zeta")
	w := f.createWebhook(t, f.miaToken, map[string]any{"name": "Both", "url": rcv.URL, "projectIds": []string{f.beta.ID, zeta.ID}})
	if err := f.store.RemoveMember(t.Context(), f.bolt.ID, f.mia.ID); err != nil {
		t.Fatal(err)
	}
	p := f.signedInAs(f.mia).post("/webhooks/"+w.ID+"/test", url.Values{"test_event": {"TODO_CREATED"}})
	wantPageStatus(t, p, http.StatusOK)
	f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+w.ID+"/test", map[string]any{"event": "TODO_CREATED"}, http.StatusOK)
	for i, req := range rcv.requests() {
		if pl := payloadOf(t, req); pl.OrganizationID != f.acme.ID || pl.ProjectID != zeta.ID {
			t.Errorf("test request %d happens in project %q of organisation %q, want Zeta of Acme", i+1, pl.ProjectID, pl.OrganizationID)
		}
	}
	if n := len(rcv.requests()); n != 2 {
		t.Errorf("%d test requests, want 2", n)
	}
}
