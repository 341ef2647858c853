package handlers_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Pacing (SPEC §9 rateLimitPerSecond) through the API and the pages.

func TestPacingAPI(t *testing.T) {
	f := newAPIFixture(t)
	w := f.createWebhook(t, f.miaToken, map[string]any{"name": "Paced", "url": publicURL, "rateLimitPerSecond": 5})
	rateOf := func() string {
		t.Helper()
		raw := decode[map[string]json.RawMessage](t, f.call(t, f.miaToken, http.MethodGet, "/api/v1/webhooks/"+w.ID, nil, http.StatusOK))
		return string(raw["rateLimitPerSecond"])
	}
	if got := rateOf(); got != "5" {
		t.Errorf("rateLimitPerSecond %s, want 5", got)
	}
	f.call(t, f.miaToken, http.MethodPatch, "/api/v1/webhooks/"+w.ID, map[string]any{"name": "Still paced"}, http.StatusOK)
	if got := rateOf(); got != "5" {
		t.Errorf("a PATCH without it changed it to %s", got)
	}
	for _, r := range []float64{0.1, 10000, 2.5} {
		f.call(t, f.miaToken, http.MethodPatch, "/api/v1/webhooks/"+w.ID, map[string]any{"rateLimitPerSecond": r}, http.StatusOK)
	}
	if got := rateOf(); got != "2.5" {
		t.Errorf("rateLimitPerSecond %s, want 2.5", got)
	}
	f.call(t, f.miaToken, http.MethodPatch, "/api/v1/webhooks/"+w.ID, map[string]any{"rateLimitPerSecond": nil}, http.StatusOK)
	if got := rateOf(); got != "null" {
		t.Errorf("after null: %s", got)
	}
	for _, bad := range []any{0, 0.05, -1, 10000.5, "fast", true} {
		before := f.state(t)
		for _, req := range []struct{ method, path string }{{http.MethodPost, "/api/v1/webhooks"}, {http.MethodPatch, "/api/v1/webhooks/" + w.ID}} {
			p := wantFieldErrors(t, f.api(f.miaToken, req.method, req.path, map[string]any{"name": "x", "url": publicURL, "rateLimitPerSecond": bad}), "rateLimitPerSecond")
			if !strings.Contains(p.Errors[0].Message, "0.1 to 10000") {
				t.Errorf("%v: %q, want the range named", bad, p.Errors[0].Message)
			}
		}
		f.unchanged(t, before, "a refused rate")
	}
}

// The webhook page says how it is paced and how many deliveries wait their turn; the
// builder sets and clears the pace.
func TestPacingOnThePages(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, "ok")
	b := f.signedInAs(f.mia)
	form := builderForm("save", "Slow receiver", rcv.URL, nil, nil)
	form.Set("all_events", "1")
	form.Set("all_projects", "1")
	form.Set("rate_limit", "0.1")
	p := b.post("/webhooks", form)
	wantPageStatus(t, p, http.StatusSeeOther)
	id := webhookPath.FindStringSubmatch(p.Header.Get("Location"))[1]
	if r := f.storedWebhook(t, id).RateLimitPerSecond; r == nil || *r != 0.1 {
		t.Fatalf("stored rate %v, want 0.1", r)
	}
	for range 4 {
		f.publishEvent(t, f.adminToken, map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID})
	}
	// The first goes at once; the others wait ten seconds each.
	waitUntil(t, "the first delivery to be stored as delivered", func() bool {
		return strings.Contains(squash(b.get("/webhooks/"+id).Doc.Find(`[data-testid="webhook-pacing"]`).Text()), "3 waiting")
	})
	if got := squash(b.get("/webhooks/" + id).Doc.Find(`[data-testid="webhook-pacing"]`).Text()); got != "Paced at 0.1 per second (one request every 10 seconds); 3 waiting." {
		t.Errorf("webhook page says %q", got)
	}
	rcv.last(t, 1)
	if got := inputValue(t, b.get("/webhooks/"+id+"/edit"), "rate_limit"); got != "0.1" {
		t.Errorf("edit page shows rate %q", got)
	}
	form.Set("rate_limit", "fast")
	p = b.post("/webhooks/"+id, form)
	wantPageStatus(t, p, http.StatusUnprocessableEntity)
	if got := fieldError(p, "rate_limit"); !strings.Contains(got, "0.1 to 10000") {
		t.Errorf("error under the field %q", got)
	}
	form.Set("rate_limit", "")
	wantSeeOther(t, b.post("/webhooks/"+id, form), "/webhooks/"+id)
	if r := f.storedWebhook(t, id).RateLimitPerSecond; r != nil {
		t.Errorf("an emptied field stored rate %v", *r)
	}
	if b.get("/webhooks/"+id).Doc.Find(`[data-testid="webhook-pacing"]`).Length() != 0 {
		t.Errorf("an unpaced webhook's page still talks about pacing")
	}
}
