package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"hookyard/store"
)

// A replay says how many events it will send and asks before sending more than a few: the
// page shows "This will send N events to <url>. Send them?" and sends only when confirmed;
// the API refuses more than maxEvents with 409 and the count.

// publishMany publishes n events for Alpha in batches, as the admin.
func (f *apiFixture) publishMany(t *testing.T, n int) {
	t.Helper()
	for n > 0 {
		size := min(n, 500)
		events := make([]any, size)
		for i := range events {
			events[i] = map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID, "currentValue": map[string]int{"n": i}}
		}
		f.call(t, f.adminToken, http.MethodPost, "/api/v1/events/batch", map[string]any{"events": events}, http.StatusAccepted)
		n -= size
	}
}

// submit sends the one form inside sel on the page, as a person pressing its button would:
// with every named input it holds.
func (b *browser) submit(p page, sel string) page {
	b.t.Helper()
	form := p.Doc.Find(sel + " form")
	if form.Length() != 1 {
		b.t.Fatalf("want one form in %s, found %d:\n%s", sel, form.Length(), p.Body)
	}
	values := url.Values{}
	form.Find("input[name]").Each(func(_ int, in *goquery.Selection) {
		name, _ := in.Attr("name")
		v, _ := in.Attr("value")
		values.Add(name, v)
	})
	action, _ := form.Attr("action")
	return b.postRaw(action, values)
}

func TestReplaySinceAsksBeforeSendingMany(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, "ok")
	hook := f.createWebhook(t, f.miaToken, map[string]any{"name": "Mirror", "url": rcv.URL})
	f.publishMany(t, 12)
	f.recoverySettled(t, hook.ID)
	b := f.signedInAs(f.mia)
	since := time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")
	path := "/webhooks/" + hook.ID + "/replay"

	// The first press asks, and sends nothing.
	p := b.post(path, url.Values{"since": {since}})
	wantPageStatus(t, p, http.StatusOK)
	want := "This will send 12 events to " + rcv.URL + ". Send them?"
	if got := recoveryText(p, "replay-confirm"); !strings.Contains(got, want) {
		t.Fatalf("after Replay: %q, want %q", got, want)
	}
	if got := recoveryText(p, "replay-confirm-send"); got != "Yes, send 12 events" {
		t.Errorf("confirm button %q", got)
	}
	if recoveryByTestID(p, "replayed").Length() != 0 {
		t.Errorf("the page says events are being sent before the replay was confirmed")
	}
	if n := len(f.storedDeliveries(t, store.DeliveryFilter{WebhookID: hook.ID})); n != 12 {
		t.Fatalf("%d deliveries before the replay was confirmed, want the 12 first ones", n)
	}

	// Confirmed: sent.
	p = b.submit(p, `[data-testid="replay-confirm"]`)
	wantPageStatus(t, p, http.StatusOK)
	if txt := recoveryText(p, "replayed"); !strings.Contains(txt, "12 events are being sent again") {
		t.Errorf("after confirming: %q, want 12 events being sent", txt)
	}
	if recoveryByTestID(p, "replay-confirm").Length() != 0 {
		t.Errorf("the question is still shown after confirming")
	}
	if n := len(f.storedDeliveries(t, store.DeliveryFilter{WebhookID: hook.ID})); n != 24 {
		t.Errorf("%d deliveries after confirming, want 24", n)
	}
	recoveryWait(t, "the replayed events arrive", func() bool { return len(rcv.requests()) == 24 })

	// Asked about 12, but 30 more arrived before the yes: asked again with the new count.
	p = b.post(path, url.Values{"since": {since}})
	f.publishMany(t, 30)
	f.recoverySettled(t, hook.ID)
	before := len(f.storedDeliveries(t, store.DeliveryFilter{WebhookID: hook.ID}))
	p = b.submit(p, `[data-testid="replay-confirm"]`)
	wantPageStatus(t, p, http.StatusOK)
	if got := recoveryText(p, "replay-confirm"); !strings.Contains(got, "12 became 42") || !strings.Contains(got, "This will send 42 events") {
		t.Errorf("after the count grew: %q, want to be asked again about 42", got)
	}
	if n := len(f.storedDeliveries(t, store.DeliveryFilter{WebhookID: hook.ID})); n != before {
		t.Errorf("a confirmation of 12 sent %d events when there were 42", n-before)
	}
	p = b.submit(p, `[data-testid="replay-confirm"]`)
	if txt := recoveryText(p, "replayed"); !strings.Contains(txt, "42 events") {
		t.Errorf("after confirming 42: %q", txt)
	}
}

func TestReplayMissedAsksBeforeSendingMany(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, "ok")
	hook := f.createWebhook(t, f.miaToken, map[string]any{"name": "Mirror", "url": rcv.URL})
	f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+hook.ID+"/disable", nil, http.StatusOK)
	f.publishMany(t, 11)
	f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+hook.ID+"/enable", map[string]any{"replayMissed": false}, http.StatusOK)

	b := f.signedInAs(f.mia)
	p := b.get("/webhooks/" + hook.ID)
	p = b.submit(p, `[data-testid="replay-offer"]`)
	wantPageStatus(t, p, http.StatusOK)
	if got, want := recoveryText(p, "replay-confirm"), "This will send 11 events to "+rcv.URL+". Send them?"; !strings.Contains(got, want) {
		t.Fatalf("after Replay 11 missed: %q, want %q", got, want)
	}
	if n := len(f.storedDeliveries(t, store.DeliveryFilter{WebhookID: hook.ID})); n != 0 {
		t.Fatalf("%d deliveries before the replay was confirmed, want none", n)
	}
	p = b.submit(p, `[data-testid="replay-confirm"]`)
	if txt := recoveryText(p, "replayed"); !strings.Contains(txt, "11 events are being sent again") {
		t.Errorf("after confirming: %q", txt)
	}
	if n := len(f.storedDeliveries(t, store.DeliveryFilter{WebhookID: hook.ID})); n != 11 {
		t.Errorf("%d deliveries after confirming, want 11", n)
	}
}

// replayTooLarge is the 409 answer to a replay over maxEvents.
type replayTooLarge struct {
	Type      string `json:"type"`
	Detail    string `json:"detail"`
	Count     int    `json:"count"`
	MaxEvents int    `json:"maxEvents"`
}

func TestAPIReplayMaxEvents(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, "ok")
	hook := f.createWebhook(t, f.miaToken, map[string]any{"name": "Mirror", "url": rcv.URL})
	path := "/api/v1/webhooks/" + hook.ID
	since := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	// Missed while off: nothing is sent until the replay.
	f.call(t, f.miaToken, http.MethodPost, path+"/disable", nil, http.StatusOK)
	f.publishMany(t, 12)
	f.call(t, f.miaToken, http.MethodPost, path+"/enable", map[string]any{"replayMissed": false}, http.StatusOK)

	wantFieldErrors(t, f.api(f.miaToken, http.MethodPost, path+"/replay", map[string]any{"since": since, "maxEvents": 0}), "maxEvents")
	r := f.api(f.miaToken, http.MethodPost, path+"/replay", map[string]any{"since": since, "maxEvents": 5})
	wantProblem(t, r, http.StatusConflict)
	if p := decode[replayTooLarge](t, r); p.Count != 12 || p.MaxEvents != 5 || !strings.Contains(p.Detail, "12 events") {
		t.Errorf("over maxEvents: %+v, want count 12 and maxEvents 5", p)
	}
	if n := len(f.storedDeliveries(t, store.DeliveryFilter{WebhookID: hook.ID})); n != 0 {
		t.Fatalf("a refused replay stored %d deliveries", n)
	}
	r = f.call(t, f.miaToken, http.MethodPost, path+"/replay", map[string]any{"since": since, "maxEvents": 12}, http.StatusAccepted)
	if n := decode[struct{ Replayed int }](t, r).Replayed; n != 12 {
		t.Errorf("replayed %d, want 12", n)
	}

	// Without maxEvents at most 1000 are sent.
	f.call(t, f.miaToken, http.MethodPost, path+"/disable", nil, http.StatusOK)
	f.publishMany(t, 1000)
	f.call(t, f.miaToken, http.MethodPost, path+"/enable", map[string]any{"replayMissed": false}, http.StatusOK)
	before := len(f.storedDeliveries(t, store.DeliveryFilter{WebhookID: hook.ID}))
	r = f.api(f.miaToken, http.MethodPost, path+"/replay", map[string]any{"since": since})
	wantProblem(t, r, http.StatusConflict)
	if p := decode[replayTooLarge](t, r); p.Count != 1012 || p.MaxEvents != 1000 {
		t.Errorf("default limit: %+v, want count 1012 and maxEvents 1000", p)
	}
	if n := len(f.storedDeliveries(t, store.DeliveryFilter{WebhookID: hook.ID})) - before; n != 0 {
		t.Errorf("a refused replay stored %d deliveries", n)
	}
}
