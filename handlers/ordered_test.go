package handlers_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// Ordered delivery (SPEC §9 ordered) through the API and the pages.

func TestOrderedAPI(t *testing.T) {
	f := newAPIFixture(t)
	orderedOf := func(id string) string {
		t.Helper()
		raw := decode[map[string]json.RawMessage](t, f.call(t, f.miaToken, http.MethodGet, "/api/v1/webhooks/"+id, nil, http.StatusOK))
		return string(raw["ordered"])
	}
	plain := f.createWebhook(t, f.miaToken, map[string]any{"name": "Plain", "url": publicURL})
	if got := orderedOf(plain.ID); got != "false" {
		t.Errorf("ordered of a new webhook %s, want false", got)
	}
	w := f.createWebhook(t, f.miaToken, map[string]any{"name": "In order", "url": publicURL, "ordered": true})
	if got := orderedOf(w.ID); got != "true" {
		t.Errorf("ordered %s, want true", got)
	}
	f.call(t, f.miaToken, http.MethodPatch, "/api/v1/webhooks/"+w.ID, map[string]any{"name": "Still in order"}, http.StatusOK)
	if got := orderedOf(w.ID); got != "true" {
		t.Errorf("a PATCH without it changed it to %s", got)
	}
	f.call(t, f.miaToken, http.MethodPatch, "/api/v1/webhooks/"+w.ID, map[string]any{"ordered": false}, http.StatusOK)
	if got := orderedOf(w.ID); got != "false" {
		t.Errorf("after false: %s", got)
	}
	wantProblem(t, f.api(f.miaToken, http.MethodPatch, "/api/v1/webhooks/"+w.ID, map[string]any{"ordered": "yes"}), http.StatusBadRequest)
}

// The webhook page of an ordered webhook says what its oldest delivery waits for and how
// many are held back behind it; the builder switches ordering on and off.
func TestOrderedOnThePages(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	var calls atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "3600") // the retry waits an hour
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(rcv.Close)
	b := f.signedInAs(f.mia)
	form := builderForm("save", "In order", rcv.URL, nil, nil)
	form.Set("all_events", "1")
	form.Set("all_projects", "1")
	form.Set("ordered", "1")
	p := b.post("/webhooks", form)
	wantPageStatus(t, p, http.StatusSeeOther)
	id := webhookPath.FindStringSubmatch(p.Header.Get("Location"))[1]
	if !f.storedWebhook(t, id).Ordered {
		t.Fatal("the builder did not store ordered")
	}
	if !isChecked(b.get("/webhooks/"+id+"/edit"), "ordered") {
		t.Error("the edit page does not tick Keep the order")
	}
	if got := squash(b.get("/webhooks/" + id).Doc.Find(`[data-testid="webhook-ordering"]`).Text()); got != "Sent one at a time, in publish order." {
		t.Errorf("webhook page with nothing pending says %q", got)
	}
	for range 4 {
		f.publishEvent(t, f.adminToken, map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID})
	}
	var said string
	waitUntil(t, "the page to show the held-back deliveries", func() bool {
		said = squash(b.get("/webhooks/" + id).Doc.Find(`[data-testid="webhook-ordering"]`).Text())
		return strings.Contains(said, "held back")
	})
	for _, want := range []string{"Sent one at a time, in publish order.", "3 deliveries are held back behind a delivery waiting for its retry at",
		"(attempt 1 failed: HTTP 503"} {
		if !strings.Contains(said, want) {
			t.Errorf("webhook page says %q, want …%q…", said, want)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("the receiver got %d requests, want only the first (the others wait behind its retry)", n)
	}
	form.Del("ordered")
	wantSeeOther(t, b.post("/webhooks/"+id, form), "/webhooks/"+id)
	if f.storedWebhook(t, id).Ordered {
		t.Error("unticking Keep the order did not store it")
	}
}
