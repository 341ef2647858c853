package handlers_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"hookyard/store"
)

// Another member can neither see nor act on someone else's webhook or deliveries: every
// page, fragment and action answers 404 and changes nothing. Admins may.
func TestRecoveryOtherMembersGetNotFound(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate, roomyLogins)
	rcv := newReceiver(t, http.StatusOK, "ok")
	hook := f.createWebhook(t, f.miaToken, map[string]any{"name": "Mia's hook", "url": rcv.URL, "events": []string{}, "projectIds": []string{}})
	f.recoveryPublish(t, f.adminToken, "TODO_CREATED", f.alpha.ID, nil)
	ds := f.recoverySettled(t, hook.ID)
	if len(ds) != 1 {
		t.Fatalf("%d deliveries", len(ds))
	}
	d := ds[0]
	since := time.Now().Add(-time.Hour).UTC()

	otto := f.signedInAs(f.otto)
	deliveries, sent := len(f.recoveryDeliveries(t, store.DeliveryFilter{})), len(rcv.requests())
	state := f.webhookState(t, hook.ID)
	for _, tc := range []struct {
		name string
		do   func() page
	}{
		{"GET /webhooks/{id}", func() page { return otto.get("/webhooks/" + hook.ID) }},
		{"GET /webhooks/{id}/log", func() page { return otto.get("/webhooks/" + hook.ID + "/log") }},
		{"GET /deliveries/{id}", func() page { return otto.get("/deliveries/" + d.ID) }},
		{"POST /deliveries/{id}/resend", func() page { return otto.post("/deliveries/"+d.ID+"/resend", nil) }},
		{"POST /webhooks/{id}/replay missed", func() page {
			return otto.post("/webhooks/"+hook.ID+"/replay", url.Values{"missed": {"1"}})
		}},
		{"POST /webhooks/{id}/replay since", func() page {
			return otto.post("/webhooks/"+hook.ID+"/replay", url.Values{"since": {since.Format("2006-01-02T15:04")}})
		}},
		{"POST /webhooks/{id}/enable from the dashboard", func() page {
			return otto.post("/webhooks/"+hook.ID+"/enable", url.Values{"view": {"attention"}, "replay": {"1"}})
		}},
	} {
		if p := tc.do(); p.StatusCode != http.StatusNotFound {
			t.Errorf("Otto: %s on Mia's webhook: status %d, want 404", tc.name, p.StatusCode)
		}
	}
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/deliveries/" + d.ID},
		{http.MethodPost, "/api/v1/deliveries/" + d.ID + "/resend"},
		{http.MethodGet, "/api/v1/webhooks/" + hook.ID + "/deliveries"},
		{http.MethodPost, "/api/v1/webhooks/" + hook.ID + "/enable"},
	} {
		wantProblem(t, f.api(f.ottoToken, tc.method, tc.path, nil), http.StatusNotFound)
	}
	wantProblem(t, f.api(f.ottoToken, http.MethodPost, "/api/v1/webhooks/"+hook.ID+"/replay",
		map[string]any{"since": since.Format(time.RFC3339)}), http.StatusNotFound)

	// The actions store what they send before they answer: nothing stored means nothing
	// queued; the sentinel then shows that nothing else is on its way either.
	if after := len(f.recoveryDeliveries(t, store.DeliveryFilter{})); after != deliveries {
		t.Errorf("refused requests stored %d deliveries", after-deliveries)
	}
	if after := f.webhookState(t, hook.ID); after != state {
		t.Errorf("refused requests changed the webhook:\nbefore %s\nafter  %s", state, after)
	}
	if got, _ := f.recoverySentinel(t, hook.ID, rcv, sent); len(got) != 0 {
		t.Errorf("refused requests sent %d requests to Mia's receiver", len(got))
	}

	// The owner and an admin may look.
	mia := f.signedInAs(f.mia)
	admin := f.signedInAs(f.admin)
	for _, b := range []*browser{mia, admin} {
		wantPageStatus(t, b.get("/deliveries/"+d.ID), http.StatusOK)
		wantPageStatus(t, b.get("/webhooks/"+hook.ID+"/log"), http.StatusOK)
	}
	// Signed out: sent to sign in, nothing shown.
	anon := f.browser()
	for _, path := range []string{"/deliveries/" + d.ID, "/webhooks/" + hook.ID + "/log", "/events/" + d.EventID} {
		if p := anon.get(path); p.StatusCode == http.StatusOK {
			t.Errorf("GET %s signed out: 200", path)
		}
	}
}
