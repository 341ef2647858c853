package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"hookyard/store"
)

// recoveryHeaderTable reads the first header table inside sel as lower-cased name → value.
func recoveryHeaderTable(sel *goquery.Selection) map[string]string {
	out := map[string]string{}
	sel.Find("table.headers").First().Find("tr").Each(func(_ int, tr *goquery.Selection) {
		out[strings.ToLower(squash(tr.Find("th").Text()))] = squash(tr.Find("td").Text())
	})
	return out
}

// The attempt inspector shows the payload, every attempt with its status, error, request
// headers and response body; Resend makes a new delivery, refused while the webhook is off.
func TestRecoveryAttemptInspectorAndResend(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, `{"ok":true,"ticket":"T-1"}`)
	hook := f.createWebhook(t, f.miaToken, map[string]any{"name": "Inspect", "url": rcv.URL, "events": []string{}, "projectIds": []string{}})
	ev := f.recoveryPublish(t, f.adminToken, "TODO_CREATED", f.alpha.ID, map[string]any{"title": "Call the supplier", "n": 42})
	ds := f.recoverySettled(t, hook.ID)
	if len(ds) != 1 || ds[0].Status != store.DeliverySucceeded {
		t.Fatalf("deliveries %+v, want one succeeded", ds)
	}
	d := ds[0]
	b := f.signedInAs(f.mia)

	p := b.get("/deliveries/" + d.ID)
	wantPageStatus(t, p, http.StatusOK)
	// The body exactly as the receiver got it, and headers whose signatures verify over it.
	got := rcv.last(t, 1)
	payload := recoveryByTestID(p, "payload").Text()
	if payload != string(got.Body) {
		t.Errorf("the page shows the body\n%s\nbut the receiver got\n%s", payload, got.Body)
	}
	shownHeaders := http.Header{}
	for k, v := range recoveryHeaderTable(p.Doc.Find(`section[aria-labelledby="payload-h"]`)) {
		shownHeaders.Set(k, v)
	}
	checkSigned(t, received{Method: http.MethodPost, Header: shownHeaders, Body: []byte(payload)}, "TODO_CREATED", hook.Secret)
	readable := squash(p.Doc.Find(`section[aria-labelledby="payload-h"] details pre`).Text())
	for _, want := range []string{`"id": "` + ev.ID + `"`, `"event": "TODO_CREATED"`, `"title": "Call the supplier"`, `"n": 42`, `"projectId": "` + f.alpha.ID + `"`} {
		if !strings.Contains(readable, want) {
			t.Errorf("the indented body lacks %q:\n%s", want, readable)
		}
	}
	// Changing the webhook afterwards does not change what the page says was sent.
	f.call(t, f.miaToken, http.MethodPatch, "/api/v1/webhooks/"+hook.ID, map[string]any{"url": rcv.URL + "/moved"}, http.StatusOK)
	if again := recoveryByTestID(b.get("/deliveries/"+d.ID), "payload").Text(); again != string(got.Body) {
		t.Errorf("after the webhook's URL changed the page shows the body\n%s\nnot what was sent\n%s", again, got.Body)
	}
	f.call(t, f.miaToken, http.MethodPatch, "/api/v1/webhooks/"+hook.ID, map[string]any{"url": rcv.URL}, http.StatusOK)
	if link, _ := recoveryByTestID(p, "event-link").Attr("href"); link != "/events/"+ev.ID {
		t.Errorf("the delivery links to the event at %q, want /events/%s", link, ev.ID)
	}
	attempts := recoveryByTestID(p, "attempt")
	if attempts.Length() != 1 {
		t.Fatalf("%d attempts shown, want 1", attempts.Length())
	}
	if got := squash(attempts.Find(`[data-testid="attempt-status"]`).Text()); got != "HTTP 200" {
		t.Errorf("attempt status %q, want HTTP 200", got)
	}
	if attempts.Find(`[data-testid="attempt-error"]`).Length() != 0 {
		t.Errorf("a successful attempt shows an error")
	}
	if body := attempts.Find(`[data-testid="response-body"]`).Text(); !strings.Contains(body, `"ticket": "T-1"`) {
		t.Errorf("response body %q, want the receiver's answer", body)
	}
	hdr := recoveryHeaderTable(attempts)
	if hdr["webhook-id"] != d.ID {
		t.Errorf("request header webhook-id %q, want the delivery id %s (headers %v)", hdr["webhook-id"], d.ID, hdr)
	}
	if !strings.HasPrefix(hdr["webhook-signature"], "v1,") {
		t.Errorf("request header webhook-signature %q, want v1,…", hdr["webhook-signature"])
	}
	if hdr["x-hookyard-event"] != "TODO_CREATED" {
		t.Errorf("request header X-Hookyard-Event %q", hdr["x-hookyard-event"])
	}
	if _, disabled := recoveryByTestID(p, "resend").Attr("disabled"); disabled {
		t.Errorf("Resend is disabled while the webhook is on")
	}

	// Resend: a new delivery, and the browser is taken to it.
	resp := b.post("/deliveries/"+d.ID+"/resend", nil)
	wantPageStatus(t, resp, http.StatusSeeOther)
	loc := resp.Header.Get("Location")
	newID := strings.TrimPrefix(loc, "/deliveries/")
	if !strings.HasPrefix(loc, "/deliveries/dlv_") || newID == d.ID {
		t.Fatalf("resend went to %q, want a new delivery", loc)
	}
	p = b.follow(resp)
	wantPageStatus(t, p, http.StatusOK)
	recoveryWait(t, "the resent delivery arrives", func() bool { return recoveryCountByEvent(t, rcv.requests())[ev.ID] == 2 })
	f.recoverySettled(t, hook.ID)
	nd, err := f.store.Delivery(t.Context(), newID)
	if err != nil {
		t.Fatal(err)
	}
	if nd.ResendOf != d.ID || nd.EventID != ev.ID || nd.Status != store.DeliverySucceeded {
		t.Errorf("resent delivery %+v, want a succeeded resend of %s", nd, d.ID)
	}
	if got := rcv.requests()[1].Header.Get("webhook-id"); got != d.ID || nd.MessageID != d.ID {
		t.Errorf("the resend carried webhook-id %q (stored %q), want the first delivery's %s", got, nd.MessageID, d.ID)
	}

	// A failing receiver: every attempt with its status, error and body, newest first.
	rcv.answer(http.StatusInternalServerError, "down for maintenance")
	ev2 := f.recoveryPublish(t, f.adminToken, "TODO_MOVED", f.alpha.ID, nil)
	f.recoveryWaitOff(t, hook.ID)
	failed := f.recoveryDeliveries(t, store.DeliveryFilter{EventID: ev2.ID})
	if len(failed) != 1 || failed[0].Status != store.DeliveryFailed {
		t.Fatalf("deliveries of the failing event %+v", failed)
	}
	p = b.get("/deliveries/" + failed[0].ID)
	// Five attempts that failed the same way are shown once, with when each was made.
	attempts = recoveryByTestID(p, "attempt")
	if attempts.Length() != 1 {
		t.Fatalf("%d attempt panels shown, want the 5 alike as one", attempts.Length())
	}
	if label, _ := attempts.First().Attr("aria-label"); label != "Attempts 1–5" {
		t.Errorf("the attempts are shown as %q, want “Attempts 1–5”", label)
	}
	if times := attempts.Find(`[data-testid="attempt-times"] span`).Length(); times != 5 {
		t.Errorf("%d attempt times shown, want 5", times)
	}
	if got := squash(attempts.Find(`[data-testid="attempt-status"]`).Text()); got != "HTTP 500" {
		t.Errorf("status %q", got)
	}
	if got := attempts.Find(`[data-testid="response-body"]`).Text(); got != "down for maintenance" {
		t.Errorf("response body %q", got)
	}
	if h := recoveryHeaderTable(attempts); h["webhook-id"] != failed[0].ID || !strings.HasPrefix(h["webhook-signature"], "v1,") || h["x-hookyard-attempt"] != "5" {
		t.Errorf("request headers %v, want the last attempt's", h)
	}
	if _, disabled := recoveryByTestID(p, "resend").Attr("disabled"); !disabled {
		t.Errorf("Resend is offered while the webhook is off")
	}

	// Off: resend is refused with a 409 page and changes nothing.
	before, sent := len(f.recoveryDeliveries(t, store.DeliveryFilter{})), len(rcv.requests())
	for _, id := range []string{failed[0].ID, d.ID} {
		p = b.post("/deliveries/"+id+"/resend", nil)
		wantPageStatus(t, p, http.StatusConflict)
		if !strings.Contains(p.Body, "switched off") || p.Doc.Find("main").Length() != 1 {
			t.Errorf("the 409 is not a page saying the webhook is off:\n%.500s", p.Body)
		}
	}
	if after := len(f.recoveryDeliveries(t, store.DeliveryFilter{})); after != before {
		t.Errorf("refused resends stored %d deliveries", after-before)
	}
	if n := len(rcv.recoverySince(sent)); n != 0 {
		t.Errorf("refused resends sent %d requests", n)
	}

	// Back on with what it missed replayed: the failed delivery links to the replay that
	// succeeded, and the replay to it, with the event's own time.
	rcv.answer(http.StatusOK, "ok")
	f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+hook.ID+"/enable", map[string]any{"replayMissed": true}, http.StatusOK)
	var replay store.Delivery
	recoveryWait(t, "the replay to succeed", func() bool {
		for _, d := range f.recoveryDeliveries(t, store.DeliveryFilter{EventID: ev2.ID}) {
			if d.ID != failed[0].ID && d.Status == store.DeliverySucceeded {
				replay = d
				return true
			}
		}
		return false
	})
	p = b.get("/deliveries/" + failed[0].ID)
	if link, _ := recoveryByTestID(p, "delivered-later").Find("a").Attr("href"); link != "/deliveries/"+replay.ID {
		t.Errorf("the failed delivery links to %q (%q), want the replay that succeeded, /deliveries/%s", link, recoveryText(p, "delivered-later"), replay.ID)
	}
	p = b.get("/deliveries/" + replay.ID)
	if link, _ := recoveryByTestID(p, "original").Find("a").Attr("href"); link != "/deliveries/"+failed[0].ID || !strings.Contains(recoveryText(p, "original"), "A replay of") {
		t.Errorf("the replay says %q linking to %q, want “A replay of” the failed delivery", recoveryText(p, "original"), link)
	}
	if got := recoveryText(p, "delivery-event"); !strings.Contains(got, "The event happened") {
		t.Errorf("the replay's page says %q, want when the event happened", got)
	}
}

// What receivers answer and what events carry is shown as text, never run as HTML.
func TestRecoveryRenderingSafety(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate, roomyLogins)
	rcv := newReceiver(t, http.StatusOK, `<script>alert(1)</script>`)
	hook := f.createWebhook(t, f.miaToken, map[string]any{"name": "Safe", "url": rcv.URL, "events": []string{}, "projectIds": []string{}})
	ev := f.recoveryPublish(t, f.adminToken, "TODO_CREATED", f.alpha.ID, map[string]any{"x": "<script>alert(2)</script>"})
	ds := f.recoverySettled(t, hook.ID)
	if len(ds) != 1 {
		t.Fatalf("%d deliveries", len(ds))
	}
	b := f.signedInAs(f.mia)

	noScript := func(what string, p page) {
		t.Helper()
		wantPageStatus(t, p, http.StatusOK)
		if strings.Contains(p.Body, "<script>alert(") {
			t.Errorf("%s contains a raw <script>alert( from user data", what)
		}
	}
	p := b.get("/deliveries/" + ds[0].ID)
	noScript("the delivery page", p)
	if got := recoveryByTestID(p, "response-body").Text(); got != `<script>alert(1)</script>` {
		t.Errorf("response body shown as %q, want the text the receiver sent", got)
	}
	if !strings.Contains(p.Body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the delivery page does not carry the escaped response body")
	}
	if got := recoveryByTestID(p, "payload").Text(); !strings.Contains(got, "alert(2)") {
		t.Errorf("payload %q does not show the event's value", got)
	}

	p = b.get("/events/" + ev.ID)
	noScript("the event page", p)
	if got := recoveryByTestID(p, "event-payload").Text(); !strings.Contains(got, "alert(2)") {
		t.Errorf("event page payload %q does not show the value", got)
	}

	// A webhook named like markup, switched off: the dashboard's needs attention and list escape it.
	rcv.answer(http.StatusInternalServerError, "<script>alert(4)</script>")
	evil := f.createWebhook(t, f.miaToken, map[string]any{"name": `<script>alert(3)</script>`, "url": rcv.URL, "events": []string{"TODO_MOVED"}, "projectIds": []string{}})
	f.recoveryPublish(t, f.adminToken, "TODO_MOVED", f.alpha.ID, nil)
	f.recoveryWaitOff(t, evil.ID)
	p = b.get("/")
	noScript("the dashboard", p)
	if txt := recoveryText(p, "attention"); !strings.Contains(txt, `<script>alert(3)</script>`) {
		t.Errorf("needs attention %q does not name the webhook as text", txt)
	}
	noScript("the webhook page", b.get("/webhooks/"+evil.ID))
	failed := f.recoveryDeliveries(t, store.DeliveryFilter{WebhookID: evil.ID})
	p = b.get("/deliveries/" + failed[0].ID)
	noScript("the failed delivery page", p)
	noScript("the events page", b.get("/events"))
}
