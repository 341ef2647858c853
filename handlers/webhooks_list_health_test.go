package handlers_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// The webhooks list shows, for each webhook, how the last 24 hours went and its last delivery.
func TestWebhookListShowsRateAndLastDelivery(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate, roomyLogins)
	recv := newReceiver(t, http.StatusOK, "ok")
	w := f.createWebhook(t, f.miaToken, map[string]any{"name": "CRM", "url": recv.URL, "events": []string{}, "projectIds": []string{}})
	f.createWebhook(t, f.miaToken, map[string]any{"name": "Idle", "url": recv.URL, "events": []string{"TAG_CREATED"}, "projectIds": []string{}})

	b := f.signedInAs(f.mia)

	f.call(t, f.miaToken, http.MethodPost, "/api/v1/events", map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID}, http.StatusAccepted)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && f.storedWebhook(t, w.ID).LastSuccessAt == nil {
		time.Sleep(5 * time.Millisecond)
	}
	p := b.get("/webhooks")
	rows := p.Doc.Find(`[data-testid="webhook-row"]`)
	if rows.Length() != 2 {
		t.Fatalf("%d rows, want 2", rows.Length())
	}
	got := map[string][2]string{}
	for i := range rows.Length() {
		r := rows.Eq(i)
		name := strings.TrimSpace(r.Find("strong").First().Text())
		got[name] = [2]string{squash(r.Find(`[data-testid="rate-24h"]`).Text()), squash(r.Find(`[data-testid="last-delivery"]`).Text())}
	}
	if g := got["CRM"]; g[0] != "100% of 1 attempts succeeded" || !strings.HasPrefix(g[1], "Delivered") || !strings.Contains(g[1], "Record created ·") {
		t.Errorf("CRM row reads %q", g)
	}
	if g := got["Idle"]; g[0] != "No attempts yet" || g[1] != "None yet" {
		t.Errorf("Idle row reads %q", g)
	}
}
