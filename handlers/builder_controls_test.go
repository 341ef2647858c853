package handlers_test

import (
	"net/http"
	"strings"
	"testing"
)

// The builder's delivery controls (SPEC §9), as a person without JavaScript uses them.

// Extra headers are typed one a line; they are saved, shown again on the edit page, named on
// the webhook page, sent with "Send test", and refused names are explained under the field.
func TestWebhookBuilderExtraHeaders(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, "ok")
	b := f.signedInAs(f.mia)

	form := builderForm("test", "With headers", rcv.URL, []string{"TODO_MOVED"}, []string{f.alpha.ID})
	form.Set("headers", "X-Api-Key: k_123\n\n  X-Tenant :  acme  \n")
	p := b.post("/webhooks", form)
	wantPageStatus(t, p, http.StatusOK)
	if got := rcv.last(t, 1).Header; got.Get("X-Api-Key") != "k_123" || got.Get("X-Tenant") != "acme" {
		t.Errorf("Send test carried %v, want the typed headers", got)
	}

	form.Set("action", "save")
	p = b.post("/webhooks", form)
	wantPageStatus(t, p, http.StatusSeeOther)
	id := webhookPath.FindStringSubmatch(p.Header.Get("Location"))[1]
	if h := f.storedWebhook(t, id).Headers; len(h) != 2 || h["X-Api-Key"] != "k_123" || h["X-Tenant"] != "acme" {
		t.Errorf("stored headers %v", h)
	}
	if got := squash(b.follow(p).Doc.Find(`[data-testid="webhook-headers"]`).Text()); got != "Every request also carries X-Api-Key, X-Tenant." {
		t.Errorf("webhook page says %q", got)
	}
	if got := b.get("/webhooks/" + id + "/edit").Doc.Find("textarea#headers").Text(); got != "X-Api-Key: k_123\nX-Tenant: acme" {
		t.Errorf("edit page shows headers %q", got)
	}

	for _, c := range []struct{ text, says string }{
		{"X-Signature: forged", "set by Hookyard itself"},
		{"Host: elsewhere.test", "URL"},
		{"Connection: close", "hop-by-hop"},
		{"X-Api-Key k_123", "Line 1 has no colon"},
		{"X-A: 1\nX-A: 2", "given twice"},
	} {
		form.Set("headers", c.text)
		p := b.post("/webhooks/"+id, form)
		wantPageStatus(t, p, http.StatusUnprocessableEntity)
		if got := fieldError(p, "headers"); !strings.Contains(got, c.says) {
			t.Errorf("%q: error under the field %q, want it to say %q", c.text, got, c.says)
		}
		if h := f.storedWebhook(t, id).Headers; len(h) != 2 {
			t.Errorf("%q: a refused save changed the headers to %v", c.text, h)
		}
	}
	form.Set("headers", "")
	wantSeeOther(t, b.post("/webhooks/"+id, form), "/webhooks/"+id)
	if h := f.storedWebhook(t, id).Headers; len(h) != 0 {
		t.Errorf("emptied headers stored as %v", h)
	}
}
