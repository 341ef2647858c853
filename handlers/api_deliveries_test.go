package handlers_test

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"hookyard/store"
)

// Tests of a webhook's deliveries through the API (SPEC §5 GET /webhooks/{id}/deliveries,
// GET /deliveries/{id}, POST /deliveries/{id}/resend), the retries and auto-disable behind
// them (SPEC §2) and the webhook's health object.

// apiDelivery is the delivery object of the API.
type apiDelivery struct {
	ID             string     `json:"id"`
	EventID        string     `json:"eventId"`
	WebhookID      string     `json:"webhookId"`
	Event          string     `json:"event"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  *time.Time `json:"nextAttemptAt"`
	LastStatusCode int        `json:"lastStatusCode"`
	LastError      string     `json:"lastError"`
	ResendOf       string     `json:"resendOf"`
	MessageID      string     `json:"messageId"`
	CreatedAt      time.Time  `json:"createdAt"`
	UpdatedAt      time.Time  `json:"updatedAt"`
}

func deliveryID(d apiDelivery) string { return d.ID }

// apiAttempt is one entry of a delivery's attemptList.
type apiAttempt struct {
	DeliveryID        string      `json:"deliveryId"`
	Number            int         `json:"number"`
	StartedAt         time.Time   `json:"startedAt"`
	DurationMs        float64     `json:"durationMs"`
	RequestHeaders    http.Header `json:"requestHeaders"`
	ResponseStatus    int         `json:"responseStatus"`
	ResponseHeaders   http.Header `json:"responseHeaders"`
	ResponseBody      string      `json:"responseBody"`
	ResponseTruncated bool        `json:"responseTruncated"`
	Error             string      `json:"error"`
	OK                bool        `json:"ok"`
}

type apiDeliveryDetail struct {
	apiDelivery
	AttemptList []apiAttempt `json:"attemptList"`
}

// apiHealth is a webhook's health object (SPEC §5).
type apiHealth struct {
	SuccessRate24h      *float64   `json:"successRate24h"`
	Attempts24h         int        `json:"attempts24h"`
	Failures24h         int        `json:"failures24h"`
	ConsecutiveFailures int        `json:"consecutiveFailures"`
	LastSuccessAt       *time.Time `json:"lastSuccessAt"`
	LastFailureAt       *time.Time `json:"lastFailureAt"`
	LastError           string     `json:"lastError"`
	LatencyP50Ms        *float64   `json:"latencyP50Ms"`
	LatencyP95Ms        *float64   `json:"latencyP95Ms"`
}

type apiWebhookHealth struct {
	apiWebhook
	Health apiHealth `json:"health"`
}

func (a *testApp) getDelivery(t *testing.T, token, id string) apiDeliveryDetail {
	t.Helper()
	r := a.call(t, token, http.MethodGet, "/api/v1/deliveries/"+id, nil, http.StatusOK)
	wantJSON(t, r, http.StatusOK)
	return decode[apiDeliveryDetail](t, r)
}

func (a *testApp) getWebhookHealth(t *testing.T, token, id string) apiWebhookHealth {
	t.Helper()
	return decode[apiWebhookHealth](t, a.call(t, token, http.MethodGet, "/api/v1/webhooks/"+id, nil, http.StatusOK))
}

// deliveriesOf lists a webhook's deliveries through the API, all pages.
func (a *testApp) deliveriesOf(t *testing.T, token, webhookID, query string) []apiDelivery {
	t.Helper()
	var all []apiDelivery
	for _, p := range walk[apiDelivery](t, a, token, "/api/v1/webhooks/"+webhookID+"/deliveries"+query) {
		all = append(all, p.Data...)
	}
	return all
}

// A delivered event shows in the webhook's delivery log and, with its one attempt, as a
// delivery: what was sent, what came back.
func TestAPIDeliveriesListAndGet(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, 200, `{"thanks": true}`)
	hook := f.createWebhook(t, f.adminToken, map[string]any{"name": "CRM", "url": rcv.URL})
	if got := f.deliveriesOf(t, f.adminToken, hook.ID, ""); len(got) != 0 {
		t.Errorf("a new webhook has %d deliveries", len(got))
	}
	pub := f.publishEvent(t, f.adminToken, map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID,
		"currentValue": map[string]string{"title": "Call"}})

	var list []apiDelivery
	waitUntil(t, "the delivery succeeds", func() bool {
		list = f.deliveriesOf(t, f.adminToken, hook.ID, "")
		return len(list) == 1 && list[0].Status == "succeeded"
	})
	d := list[0]
	if !strings.HasPrefix(d.ID, "dlv_") || d.EventID != pub.ID || d.WebhookID != hook.ID || d.Event != "TODO_CREATED" ||
		d.Attempts != 1 || d.LastStatusCode != 200 || d.LastError != "" || d.NextAttemptAt != nil || d.ResendOf != "" ||
		d.CreatedAt.IsZero() || d.UpdatedAt.Before(d.CreatedAt) {
		t.Errorf("delivery %+v, want one succeeded dlv_ for the event after 1 attempt", d)
	}

	for _, c := range []struct {
		query string
		want  int
	}{
		{"?status=succeeded", 1}, {"?status=failed", 0}, {"?status=pending", 0}, {"?status=cancelled", 0},
		{"?event=TODO_CREATED", 1}, {"?event=TODO_DELETED", 0}, {"?status=succeeded&event=TODO_CREATED", 1},
	} {
		if got := f.deliveriesOf(t, f.adminToken, hook.ID, c.query); len(got) != c.want {
			t.Errorf("deliveries%s: %d, want %d", c.query, len(got), c.want)
		}
	}
	p := wantProblem(t, f.api(f.adminToken, http.MethodGet, "/api/v1/webhooks/"+hook.ID+"/deliveries?status=done", nil), http.StatusBadRequest)
	if !slices.Equal(p.fields(), []string{"status"}) {
		t.Errorf("bad status: error fields %v, want [status]", p.fields())
	}
	wantProblem(t, f.api(f.adminToken, http.MethodGet, "/api/v1/webhooks/"+hook.ID+"/deliveries?limit=0", nil), http.StatusBadRequest)
	wantProblem(t, f.api(f.adminToken, http.MethodGet, "/api/v1/webhooks/wh_missing/deliveries", nil), http.StatusNotFound)
	wantProblem(t, f.api("", http.MethodGet, "/api/v1/webhooks/"+hook.ID+"/deliveries", nil), http.StatusUnauthorized)

	got := f.getDelivery(t, f.adminToken, d.ID)
	if got.apiDelivery != d {
		t.Errorf("GET /deliveries/%s = %+v, want the listed delivery %+v", d.ID, got.apiDelivery, d)
	}
	if len(got.AttemptList) != 1 {
		t.Fatalf("%d attempts, want 1", len(got.AttemptList))
	}
	at := got.AttemptList[0]
	req := rcv.last(t, 1)
	if at.DeliveryID != d.ID || at.Number != 1 || at.ResponseStatus != 200 || !at.OK || at.Error != "" ||
		at.ResponseBody != `{"thanks": true}` || at.ResponseTruncated || at.DurationMs < 0 || at.StartedAt.IsZero() {
		t.Errorf("attempt %+v, want attempt 1 answered 200 with the receiver's body", at)
	}
	for _, h := range []string{"webhook-id", "webhook-timestamp", "webhook-signature", "X-Signature", "X-Hookyard-Event", "X-Hookyard-Attempt", "Content-Type", "User-Agent"} {
		if at.RequestHeaders.Get(h) == "" || at.RequestHeaders.Get(h) != req.Header.Get(h) {
			t.Errorf("request header %s: recorded %q, sent %q", h, at.RequestHeaders.Get(h), req.Header.Get(h))
		}
	}
	if id := at.RequestHeaders.Get("webhook-id"); id != d.ID {
		t.Errorf("webhook-id %q, want the delivery id %s", id, d.ID)
	}
	if at.ResponseHeaders.Get("Content-Type") == "" {
		t.Errorf("response headers %v: want the receiver's, such as Content-Type", at.ResponseHeaders)
	}
	wantProblem(t, f.api(f.adminToken, http.MethodGet, "/api/v1/deliveries/dlv_missing", nil), http.StatusNotFound)

	// The log is newest first and pages.
	var published []string
	for range 4 {
		published = append(published, f.publishEvent(t, f.adminToken, map[string]any{"event": "TODO_DELETED", "projectId": f.apex.ID}).ID)
	}
	for _, id := range published {
		f.settledDeliveries(t, id, 1)
	}
	pages := walk[apiDelivery](t, f.testApp, f.adminToken, "/api/v1/webhooks/"+hook.ID+"/deliveries?limit=2")
	var all []apiDelivery
	for _, p := range pages {
		all = append(all, p.Data...)
	}
	if len(pages) != 3 || len(all) != 5 {
		t.Fatalf("5 deliveries in pages of 2: %d pages, %d deliveries", len(pages), len(all))
	}
	var events []string
	for _, d := range all {
		events = append(events, d.EventID)
	}
	want := append(slices.Clone(published), pub.ID)
	slices.Reverse(want[:4])
	if !slices.Equal(events, want) {
		t.Errorf("deliveries by event %v, want newest first %v", events, want)
	}
	if got := f.deliveriesOf(t, f.adminToken, hook.ID, "?event=TODO_DELETED&limit=3"); len(got) != 4 {
		t.Errorf("TODO_DELETED deliveries: %d, want 4", len(got))
	}
}

// A receiver that keeps failing gets five attempts, then the webhook is switched off as
// unhealthy, its health says so, and its deliveries cannot be resent until it is back on.
func TestAPIDeliveryFailsAndDisables(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, 500, "boom")
	hook := f.createWebhook(t, f.adminToken, map[string]any{"name": "Flaky", "url": rcv.URL, "events": []string{"TODO_CREATED"}})
	fresh := f.getWebhookHealth(t, f.adminToken, hook.ID).Health
	if fresh != (apiHealth{}) {
		t.Errorf("a new webhook's health %+v, want zeros and nulls", fresh)
	}
	pub := f.publishEvent(t, f.adminToken, map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID})
	if pub.Deliveries != 1 {
		t.Fatalf("deliveries = %d, want 1", pub.Deliveries)
	}

	var w apiWebhookHealth
	waitUntil(t, "the webhook is switched off", func() bool {
		w = f.getWebhookHealth(t, f.adminToken, hook.ID)
		return !w.Enabled
	})
	if w.Status != "UNHEALTHY" || w.DisabledAt == nil || !strings.Contains(w.DisabledReason, "5 attempts failed for TODO_CREATED") ||
		!strings.Contains(w.DisabledReason, "HTTP 500") {
		t.Errorf("switched off as status %s at %v because %q; want UNHEALTHY with the 5 failed attempts and HTTP 500",
			w.Status, w.DisabledAt, w.DisabledReason)
	}
	h := w.Health
	if h.Attempts24h != 5 || h.Failures24h != 5 || h.SuccessRate24h == nil || *h.SuccessRate24h != 0 || h.ConsecutiveFailures != 5 {
		t.Errorf("health %+v, want 5 attempts, 5 failures, success rate 0, 5 consecutive failures", h)
	}
	if h.LastFailureAt == nil || h.LastSuccessAt != nil || !strings.Contains(h.LastError, "HTTP 500") ||
		h.LatencyP50Ms == nil || h.LatencyP95Ms == nil || *h.LatencyP95Ms < *h.LatencyP50Ms {
		t.Errorf("health %+v, want a last failure (HTTP 500), no success, and latencies", h)
	}

	ds := f.deliveriesOf(t, f.adminToken, hook.ID, "?status=failed")
	if len(ds) != 1 || ds[0].EventID != pub.ID || ds[0].Attempts != 5 || ds[0].LastStatusCode != 500 ||
		!strings.Contains(ds[0].LastError, "HTTP 500") || ds[0].NextAttemptAt != nil {
		t.Fatalf("failed deliveries %+v, want the event's, after 5 attempts", ds)
	}
	d := f.getDelivery(t, f.adminToken, ds[0].ID)
	if len(d.AttemptList) != 5 {
		t.Fatalf("%d attempts recorded, want 5", len(d.AttemptList))
	}
	sent := rcv.requests()
	if len(sent) != 5 {
		t.Fatalf("receiver got %d requests, want 5", len(sent))
	}
	for i, at := range d.AttemptList {
		if at.Number != i+1 || at.ResponseStatus != 500 || at.OK || at.ResponseBody != "boom" || !strings.Contains(at.Error, "HTTP 500") {
			t.Errorf("attempt %d: %+v, want number %d answered 500 boom", i, at, i+1)
		}
		if i > 0 && !at.StartedAt.After(d.AttemptList[i-1].StartedAt) {
			t.Errorf("attempt %d started %v, not after attempt %d (%v)", i+1, at.StartedAt, i, d.AttemptList[i-1].StartedAt)
		}
		if id := sent[i].Header.Get("webhook-id"); id != d.ID {
			t.Errorf("request %d: webhook-id %q, want the delivery id %s on every retry", i+1, id, d.ID)
		}
		if n := sent[i].Header.Get("X-Hookyard-Attempt"); n != strconv.Itoa(i+1) {
			t.Errorf("request %d: X-Hookyard-Attempt %q", i+1, n)
		}
	}

	// Off: a resend is refused and sends nothing; new events are kept as missed.
	before := len(f.storedDeliveries(t, store.DeliveryFilter{}))
	p := wantProblem(t, f.api(f.adminToken, http.MethodPost, "/api/v1/deliveries/"+d.ID+"/resend", nil), http.StatusConflict)
	if !strings.Contains(p.Detail, "switched off") {
		t.Errorf("409 detail %q does not say the webhook is off", p.Detail)
	}
	missed := f.publishEvent(t, f.adminToken, map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID})
	if missed.Deliveries != 0 {
		t.Errorf("an event for the switched-off webhook made %d deliveries", missed.Deliveries)
	}
	if after := len(f.storedDeliveries(t, store.DeliveryFilter{})); after != before {
		t.Errorf("%d deliveries before, %d after", before, after)
	}
	outcome := decode[apiEventDetail](t, f.call(t, f.adminToken, http.MethodGet, "/api/v1/events/"+missed.ID, nil, http.StatusOK)).outcomes()[hook.ID]
	if outcome.State != "missed" {
		t.Errorf("the later event for the switched-off webhook: state %q, want missed", outcome.State)
	}
	failed := decode[apiEventDetail](t, f.call(t, f.adminToken, http.MethodGet, "/api/v1/events/"+pub.ID, nil, http.StatusOK)).outcomes()[hook.ID]
	if failed.State != "failed" || !strings.Contains(failed.Reason, "5 attempt") || !strings.Contains(failed.Reason, "HTTP 500") {
		t.Errorf("the failed event: state %q reason %q, want failed after 5 attempts with HTTP 500", failed.State, failed.Reason)
	}
	if n := len(rcv.requests()); n != 5 {
		t.Errorf("receiver got %d requests in all, want 5", n)
	}
}

// A resend of a delivery to an enabled webhook is a new delivery, sent at once with the same
// webhook-id; only the webhook's owner and admins may see or resend its deliveries.
func TestAPIDeliveryResend(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv, miaRcv := newReceiver(t, 200, "ok"), newReceiver(t, 200, "ok")
	hook := f.createWebhook(t, f.adminToken, map[string]any{"name": "Admin's", "url": rcv.URL, "events": []string{"TODO_CREATED"}})
	miaHook := f.createWebhook(t, f.miaToken, map[string]any{"name": "Mia's", "url": miaRcv.URL, "events": []string{"TODO_CREATED"}})
	pub := f.publishEvent(t, f.adminToken, map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID,
		"currentValue": map[string]string{"title": "again"}})
	f.settledDeliveries(t, pub.ID, 2)
	orig := f.deliveriesOf(t, f.adminToken, hook.ID, "")[0]
	miaOrig := f.deliveriesOf(t, f.miaToken, miaHook.ID, "")[0]

	r := f.call(t, f.adminToken, http.MethodPost, "/api/v1/deliveries/"+orig.ID+"/resend", nil, http.StatusAccepted)
	wantJSON(t, r, http.StatusAccepted)
	nd := decode[apiDelivery](t, r)
	if !strings.HasPrefix(nd.ID, "dlv_") || nd.ID == orig.ID || nd.ResendOf != orig.ID || nd.EventID != pub.ID ||
		nd.WebhookID != hook.ID || nd.Event != "TODO_CREATED" || nd.Status != "pending" || nd.Attempts != 0 {
		t.Errorf("resend answer %+v, want a new pending delivery of the same event, resendOf %s", nd, orig.ID)
	}
	waitUntil(t, "the resend succeeds", func() bool { return f.getDelivery(t, f.adminToken, nd.ID).Status == "succeeded" })
	sent := rcv.requests()
	if len(sent) != 2 {
		t.Fatalf("receiver got %d requests, want 2", len(sent))
	}
	if a, b := sent[0].Header.Get("webhook-id"), sent[1].Header.Get("webhook-id"); a != orig.ID || b != orig.ID {
		t.Errorf("webhook-id %q then %q, want the first delivery's %s on both", a, b, orig.ID)
	}
	if a, b := payloadOf(t, sent[0]), payloadOf(t, sent[1]); a.ID != pub.ID || b.ID != pub.ID || !sameJSON(t, a.CurrentValue, b.CurrentValue) {
		t.Errorf("the resend carried event %s, want the same event %s with the same values", b.ID, a.ID)
	}
	checkSigned(t, sent[1], "TODO_CREATED", hook.Secret)
	if got := f.deliveriesOf(t, f.adminToken, hook.ID, ""); len(got) != 2 || got[0].ID != nd.ID {
		t.Errorf("the log lists %v, want the resend first, then the original", ids(got, deliveryID))
	}
	outcome := decode[apiEventDetail](t, f.call(t, f.adminToken, http.MethodGet, "/api/v1/events/"+pub.ID, nil, http.StatusOK)).outcomes()[hook.ID]
	if outcome.State != "delivered" || outcome.Delivery == nil || outcome.Delivery.ID != nd.ID {
		t.Errorf("the event page shows %+v, want the resend as the latest delivery", outcome)
	}

	// Others' deliveries are not there for a member; an admin reaches everyone's.
	before := len(f.storedDeliveries(t, store.DeliveryFilter{}))
	for _, c := range []struct {
		who, token, id string
	}{{"Mia, the admin's delivery", f.miaToken, orig.ID}, {"Otto, Mia's delivery", f.ottoToken, miaOrig.ID}} {
		wantProblem(t, f.api(c.token, http.MethodGet, "/api/v1/deliveries/"+c.id, nil), http.StatusNotFound)
		wantProblem(t, f.api(c.token, http.MethodPost, "/api/v1/deliveries/"+c.id+"/resend", nil), http.StatusNotFound)
	}
	wantProblem(t, f.api(f.miaToken, http.MethodGet, "/api/v1/webhooks/"+hook.ID+"/deliveries", nil), http.StatusNotFound)
	wantProblem(t, f.api(f.miaToken, http.MethodPost, "/api/v1/deliveries/dlv_missing/resend", nil), http.StatusNotFound)
	wantProblem(t, f.api("", http.MethodPost, "/api/v1/deliveries/"+orig.ID+"/resend", nil), http.StatusUnauthorized)
	if after := len(f.storedDeliveries(t, store.DeliveryFilter{})); after != before {
		t.Errorf("refused resends stored %d deliveries", after-before)
	}
	if n, m := len(rcv.requests()), len(miaRcv.requests()); n != 2 || m != 1 {
		t.Errorf("after refused resends the receivers got %d and %d requests, want 2 and 1", n, m)
	}
	if got := f.getDelivery(t, f.adminToken, miaOrig.ID); got.WebhookID != miaHook.ID {
		t.Errorf("the admin reads Mia's delivery as %+v", got.apiDelivery)
	}
	mine := decode[apiDelivery](t, f.call(t, f.miaToken, http.MethodPost, "/api/v1/deliveries/"+miaOrig.ID+"/resend", nil, http.StatusAccepted))
	waitUntil(t, "Mia's resend arrives", func() bool { return len(miaRcv.requests()) == 2 })
	if id := miaRcv.requests()[1].Header.Get("webhook-id"); id != miaOrig.ID || mine.MessageID != miaOrig.ID {
		t.Errorf("Mia's resend arrived as %q (messageId %q), want her first delivery's %s", id, mine.MessageID, miaOrig.ID)
	}
}

// A member who has left the organisation no longer receives its events (SPEC §1 rule 4), and
// resending an old delivery must not send them one.
func TestAPIDeliveryResendAfterLeavingOrganization(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, 200, "ok")
	hook := f.createWebhook(t, f.miaToken, map[string]any{"name": "Mia's", "url": rcv.URL})
	pub := f.publishEvent(t, f.adminToken, map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID,
		"currentValue": map[string]string{"secretPlan": "Acme only"}})
	f.settledDeliveries(t, pub.ID, 1)
	orig := f.deliveriesOf(t, f.miaToken, hook.ID, "")[0]

	f.call(t, f.adminToken, http.MethodDelete, "/api/v1/organizations/"+f.acme.ID+"/members/"+f.mia.ID, nil, http.StatusNoContent)
	if p := f.publishEvent(t, f.adminToken, map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID}); p.Deliveries != 0 {
		t.Errorf("after Mia left Acme, a new Acme event made %d deliveries", p.Deliveries)
	}
	wantProblem(t, f.api(f.miaToken, http.MethodGet, "/api/v1/events/"+pub.ID, nil), http.StatusNotFound)

	r := f.api(f.miaToken, http.MethodPost, "/api/v1/deliveries/"+orig.ID+"/resend", nil)
	if r.Status < 400 {
		t.Errorf("Mia, no longer in Acme, resent an Acme event to her URL: status %d\n%s", r.Status, r.Body)
		if r.Status == http.StatusAccepted {
			nd := decode[apiDelivery](t, r)
			waitUntil(t, "the resend is settled", func() bool { return f.getDelivery(t, f.miaToken, nd.ID).Status != "pending" })
		}
	}
	if n := len(f.storedDeliveries(t, store.DeliveryFilter{WebhookID: hook.ID})); n != 1 {
		t.Errorf("Mia's webhook has %d deliveries, want only the one from before she left", n)
	}
	if got := rcv.requests(); len(got) != 1 {
		t.Errorf("Mia's receiver got %d requests, want 1; the last carried %s", len(got), rawField(t, got[len(got)-1].Body, "currentValue"))
	}
}

// webhook-id is the same on every request that carries one event to one webhook: the first
// delivery, a resend, a replay, and replays of an event the webhook missed while it was off
// (Standard Webhooks: receivers deduplicate on it). Another event, or the same event to
// another webhook, has its own.
func TestWebhookIDStableAcrossResendAndReplay(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv, other := newReceiver(t, 200, "ok"), newReceiver(t, 200, "ok")
	hook := f.createWebhook(t, f.miaToken, map[string]any{"name": "Hook", "url": rcv.URL, "events": []string{"TODO_CREATED"}})
	f.createWebhook(t, f.miaToken, map[string]any{"name": "Other", "url": other.URL, "events": []string{"TODO_CREATED"}})
	before := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	pub := f.publishEvent(t, f.miaToken, map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID})
	f.settledDeliveries(t, pub.ID, 2)
	first := f.deliveriesOf(t, f.miaToken, hook.ID, "")[0]
	if first.MessageID != first.ID {
		t.Errorf("a fresh delivery's messageId is %q, want its own id %s", first.MessageID, first.ID)
	}

	nd := decode[apiDelivery](t, f.call(t, f.miaToken, http.MethodPost, "/api/v1/deliveries/"+first.ID+"/resend", nil, http.StatusAccepted))
	if nd.MessageID != first.ID {
		t.Errorf("the resend answer's messageId is %q, want the first delivery's %s", nd.MessageID, first.ID)
	}
	f.settledDeliveries(t, pub.ID, 3)
	f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+hook.ID+"/replay", map[string]any{"since": before}, http.StatusAccepted)
	f.settledDeliveries(t, pub.ID, 4)

	// An event published while the webhook is off is missed; replayed twice, it keeps the id
	// its first (replayed) delivery got.
	f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+hook.ID+"/disable", nil, http.StatusOK)
	missed := f.publishEvent(t, f.miaToken, map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID})
	f.settledDeliveries(t, missed.ID, 1) // the other webhook's
	f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+hook.ID+"/enable", map[string]any{"replayMissed": true}, http.StatusOK)
	f.settledDeliveries(t, missed.ID, 2)
	f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+hook.ID+"/replay", map[string]any{"since": before}, http.StatusAccepted)
	f.settledDeliveries(t, pub.ID, 5)
	f.settledDeliveries(t, missed.ID, 3)

	idsOf := map[string]map[string]int{} // event id → webhook-id → requests
	for _, req := range rcv.requests() {
		if req.Header.Get("X-Hookyard-Event") != "TODO_CREATED" {
			continue // the health check of the re-enable
		}
		ev := payloadOf(t, req).ID
		if idsOf[ev] == nil {
			idsOf[ev] = map[string]int{}
		}
		idsOf[ev][req.Header.Get("webhook-id")]++
	}
	if got, want := idsOf[pub.ID], map[string]int{first.ID: 4}; !maps.Equal(got, want) {
		t.Errorf("the receiver saw event %s with webhook-ids %v, want %v (publish, resend, two replays)", pub.ID, got, want)
	}
	if len(idsOf[missed.ID]) != 1 {
		t.Errorf("the receiver saw the missed event %s with webhook-ids %v, want one id on both replays", missed.ID, idsOf[missed.ID])
	}
	for id, n := range idsOf[missed.ID] {
		if id == first.ID || n != 2 || !strings.HasPrefix(id, "dlv_") {
			t.Errorf("the missed event came %d times with webhook-id %s, want twice with an id of its own", n, id)
		}
	}
	for _, req := range other.requests() {
		if id := req.Header.Get("webhook-id"); id == first.ID {
			t.Errorf("the other webhook got webhook-id %s too; each webhook has its own", id)
		}
	}
}
