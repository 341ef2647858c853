package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"hookyard/store"
)

// "Publish a sample event" on /events is preset to what the viewer's newest webhook listens
// to, so that a newcomer who ticked projects and events still reaches their webhook; the
// webhook page publishes such a sample with one button.
func TestSamplePresetToTheNewestWebhook(t *testing.T) {
	f := newWebhookFixture(t, roomyLogins)
	mia := f.signedInAs(f.mia)

	selected := func(p page, id string) string {
		return squash(p.Doc.Find("#" + id + " option[selected]").Text())
	}
	// No webhook yet: nothing is preset (the browser shows the first option).
	if p := mia.get("/events"); selected(p, "sample-project") != "" || selected(p, "sample-event") != "" {
		t.Errorf("without a webhook the sample is preset to %q in %q", selected(p, "sample-event"), selected(p, "sample-project"))
	}
	f.putWebhook(t, f.mia, "Older", publicURL, []string{"TODO_CREATED"}, []string{f.alpha.ID})
	newest := f.putWebhook(t, f.mia, "Newest", publicURL, []string{"COMMENT_CREATED", "TODO_MOVED"}, []string{f.apex.ID})
	f.putWebhook(t, f.otto, "Otto's newer one", publicURL, []string{"TODO_DELETED"}, []string{f.beta.ID})

	p := mia.get("/events")
	if got := selected(p, "sample-project"); got != "Apex (Acme)" {
		t.Errorf("sample project preset to %q, want the newest webhook's Apex (Acme)", got)
	}
	if got := selected(p, "sample-event"); got != "Comment added" {
		t.Errorf("sample event preset to %q, want the newest webhook's first event, Comment added", got)
	}
	if got := squash(p.Doc.Find(`[data-testid="sample-form"]`).Text()); !strings.Contains(got, "“Newest”") {
		t.Errorf("the sample form does not say whose choice it is preset to: %q", got)
	}

	// The webhook page offers the same sample, and it reaches the webhook.
	p = mia.get("/webhooks/" + newest.ID)
	offer := squash(p.Doc.Find(`form[action="/webhooks/` + newest.ID + `/sample"]`).Text())
	if !strings.Contains(offer, "Send a sample to this webhook") || !strings.Contains(offer, "“Comment added” in Apex (Acme)") {
		t.Fatalf("the webhook page offers %q", offer)
	}
	p = mia.post("/webhooks/"+newest.ID+"/sample", url.Values{})
	wantSeeOther(t, p, "/webhooks/"+newest.ID+"#delivery-log")
	if got := flashText(mia.follow(p)); !strings.Contains(got, "“Comment added” in Apex (Acme) published") {
		t.Errorf("after sending a sample the flash reads %q", got)
	}
	ds := f.recoveryDeliveries(t, store.DeliveryFilter{WebhookID: newest.ID})
	if len(ds) != 1 || ds[0].EventType != "COMMENT_CREATED" {
		t.Errorf("the webhook has deliveries %+v, want one Comment added", ds)
	}

	// Otto cannot send samples through Mia's webhook, and a switched-off webhook offers none.
	if p := f.signedInAs(f.otto).post("/webhooks/"+newest.ID+"/sample", url.Values{}); p.StatusCode != http.StatusNotFound {
		t.Errorf("Otto sending a sample to Mia's webhook: status %d, want 404", p.StatusCode)
	}
	if _, err := f.store.DisableWebhook(t.Context(), newest.ID, store.StatusHealthy, "Turned off by Mia Member."); err != nil {
		t.Fatal(err)
	}
	if p := mia.get("/webhooks/" + newest.ID); p.Doc.Find(`[data-testid="send-sample"]`).Length() != 0 {
		t.Errorf("a switched-off webhook offers to send a sample")
	}
}
