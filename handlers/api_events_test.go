package handlers_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"hookyard/delivery"
	"hookyard/handlers"
	"hookyard/internal/testdb"
	"hookyard/store"
)

// Tests of publishing and reading events through the API (SPEC §5 POST /events,
// POST /events/batch, GET /events, GET /events/{id}), with real receivers on loopback.

// apiPublished is the answer of a publish, per event.
type apiPublished struct {
	ID         string    `json:"id"`
	Event      string    `json:"event"`
	ProjectID  string    `json:"projectId"`
	CreatedAt  time.Time `json:"createdAt"`
	Deliveries int       `json:"deliveries"`
}

// apiBatchPublished is the answer of a batch publish.
type apiBatchPublished struct {
	Events     []apiPublished `json:"events"`
	Deliveries int            `json:"deliveries"`
}

// apiEvent is the event object of the API.
type apiEvent struct {
	ID             string          `json:"id"`
	Event          string          `json:"event"`
	OrganizationID string          `json:"organizationId"`
	ProjectID      string          `json:"projectId"`
	PreviousValue  json.RawMessage `json:"previousValue"`
	CurrentValue   json.RawMessage `json:"currentValue"`
	CreatedAt      time.Time       `json:"createdAt"`
}

func eventID(e apiEvent) string { return e.ID }

// apiOutcome is one entry of an event's webhooks: what the webhook did with it, and why.
type apiOutcome struct {
	WebhookID   string       `json:"webhookId"`
	WebhookName string       `json:"webhookName"`
	State       string       `json:"state"`
	Reason      string       `json:"reason"`
	Delivery    *apiDelivery `json:"delivery"`
}

type apiEventDetail struct {
	apiEvent
	Webhooks []apiOutcome `json:"webhooks"`
}

// outcomes indexes an event's webhooks by id.
func (d apiEventDetail) outcomes() map[string]apiOutcome {
	out := map[string]apiOutcome{}
	for _, o := range d.Webhooks {
		out[o.WebhookID] = o
	}
	return out
}

// publishEvent publishes one event as the token's user and fails t unless it is accepted.
func (a *testApp) publishEvent(t *testing.T, token string, body any) apiPublished {
	t.Helper()
	r := a.call(t, token, http.MethodPost, "/api/v1/events", body, http.StatusAccepted)
	wantJSON(t, r, http.StatusAccepted)
	return decode[apiPublished](t, r)
}

// apiRaw is one API call with extra request headers. It does not touch t, so goroutines may
// use it.
func (a *testApp) apiRaw(token, method, path string, body []byte, header http.Header) (apiResult, error) {
	req, err := http.NewRequest(method, a.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		return apiResult{}, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if _, given := header["Content-Type"]; !given {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return apiResult{}, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return apiResult{Status: resp.StatusCode, Header: resp.Header, Body: out}, err
}

// publishWithKey publishes with an Idempotency-Key header.
func (a *testApp) publishWithKey(t *testing.T, token, path, key string, body any) apiResult {
	t.Helper()
	j, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	r, err := a.apiRaw(token, http.MethodPost, path, j, http.Header{"Idempotency-Key": {key}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// storedEvents is every event in the database, newest first.
func (a *testApp) storedEvents(t *testing.T) []store.Event {
	t.Helper()
	var all []store.Event
	p := store.Page{Limit: 500}
	for {
		evs, next, err := a.store.ListEvents(t.Context(), store.EventFilter{}, p)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, evs...)
		if next == "" {
			return all
		}
		p.Cursor = next
	}
}

// storedDeliveries is every delivery matching f, newest first.
func (a *testApp) storedDeliveries(t *testing.T, f store.DeliveryFilter) []store.Delivery {
	t.Helper()
	var all []store.Delivery
	p := store.Page{Limit: 500}
	for {
		ds, next, err := a.store.ListDeliveries(t.Context(), f, p)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ds...)
		if next == "" {
			return all
		}
		p.Cursor = next
	}
}

// waitUntil polls cond until it holds, failing t after ten seconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settledDeliveries waits until the event has n deliveries and none is pending any more (so
// every request it made has reached its receiver), and returns them.
func (a *testApp) settledDeliveries(t *testing.T, eventID string, n int) []store.Delivery {
	t.Helper()
	var ds []store.Delivery
	waitUntil(t, fmt.Sprintf("event %s has %d settled deliveries", eventID, n), func() bool {
		ds = a.storedDeliveries(t, store.DeliveryFilter{EventID: eventID})
		if len(ds) != n {
			return false
		}
		for _, d := range ds {
			if d.Status == store.DeliveryPending {
				return false
			}
		}
		return true
	})
	return ds
}

// sameJSON reports whether two JSON texts hold the same value (numbers compared as written).
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	parse := func(b []byte) any {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, b)
		}
		return v
	}
	return reflect.DeepEqual(parse(a), parse(b))
}

// rawField is one top-level field of a JSON object, as sent.
func rawField(t *testing.T, body []byte, field string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, body)
	}
	v, ok := m[field]
	if !ok {
		t.Fatalf("no %q field in %s", field, body)
	}
	return v
}

// A publish answers 202 with the event's id and how many webhooks receive it; exactly those
// webhooks' receivers get the payload of SPEC §3, values as published, null when left out.
func TestAPIPublishEventFansOut(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rA, rB, rC, rD := newReceiver(t, 200, "ok"), newReceiver(t, 200, "ok"), newReceiver(t, 200, "ok"), newReceiver(t, 200, "ok")
	hookA := f.createWebhook(t, f.adminToken, map[string]any{"name": "A: created in Alpha", "url": rA.URL,
		"events": []string{"TODO_CREATED"}, "projectIds": []string{f.alpha.ID}})
	hookB := f.createWebhook(t, f.adminToken, map[string]any{"name": "B: everything", "url": rB.URL})
	hookC := f.createWebhook(t, f.adminToken, map[string]any{"name": "C: deletions", "url": rC.URL,
		"events": []string{"TODO_DELETED"}})
	// Otto (Bolt only) takes everything he can access: nothing of Acme.
	f.createWebhook(t, f.ottoToken, map[string]any{"name": "D: Otto's", "url": rD.URL})

	prev := `{"title": "Call the supplier", "list": "To do"}`
	cur := `{"title": "Call the <supplier> & co", "list": "Doing", "price": 1.50, "big": 12345678901234567890, "tags": [], "x": null}`
	body := `{"event": "TODO_CREATED", "projectId": "` + f.alpha.ID + `", "previousValue": ` + prev + `, "currentValue": ` + cur + `}`
	pub := f.publishEvent(t, f.adminToken, body)
	if !strings.HasPrefix(pub.ID, "evt_") || pub.Event != "TODO_CREATED" || pub.ProjectID != f.alpha.ID || pub.CreatedAt.IsZero() {
		t.Errorf("publish answer %+v, want the new evt_ id, the type, the project and a time", pub)
	}
	if pub.Deliveries != 2 {
		t.Errorf("deliveries = %d, want 2 (A and B)", pub.Deliveries)
	}
	ds := f.settledDeliveries(t, pub.ID, 2)
	if got := sorted([]string{ds[0].WebhookID, ds[1].WebhookID}); !slices.Equal(got, sorted([]string{hookA.ID, hookB.ID})) {
		t.Errorf("deliveries went to %v, want A and B", got)
	}
	if n := [4]int{len(rA.requests()), len(rB.requests()), len(rC.requests()), len(rD.requests())}; n != [4]int{1, 1, 0, 0} {
		t.Fatalf("requests per receiver A, B, C, D = %v, want [1 1 0 0]", n)
	}
	req := rA.requests()[0]
	checkSigned(t, req, "TODO_CREATED", hookA.Secret)
	p := payloadOf(t, req)
	if p.ID != pub.ID || p.Event != "TODO_CREATED" || p.ProjectID != f.alpha.ID || p.OrganizationID != f.acme.ID {
		t.Errorf("payload names event %s %s in %s/%s; want %s TODO_CREATED in %s/%s", p.ID, p.Event,
			p.OrganizationID, p.ProjectID, pub.ID, f.acme.ID, f.alpha.ID)
	}
	if p.Webhook.ID != hookA.ID || p.Webhook.URL != rA.URL || !p.Webhook.Enabled || p.Webhook.Status != "HEALTHY" ||
		!slices.Equal(p.Webhook.Metadata.Events, []string{"TODO_CREATED"}) || !slices.Equal(p.Webhook.Metadata.ProjectIDs, []string{f.alpha.ID}) {
		t.Errorf("payload webhook %+v, want A with its selection", p.Webhook)
	}
	if !sameJSON(t, p.PreviousValue, []byte(prev)) || !sameJSON(t, p.CurrentValue, []byte(cur)) {
		t.Errorf("payload values\n%s\n%s\nwant as published\n%s\n%s", p.PreviousValue, p.CurrentValue, prev, cur)
	}
	if got := req.Header.Get("webhook-id"); got != ds[slices.IndexFunc(ds, func(d store.Delivery) bool { return d.WebhookID == hookA.ID })].ID {
		t.Errorf("webhook-id %q is not A's delivery id", got)
	}
	if p := payloadOf(t, rB.requests()[0]); p.ID != pub.ID || p.Webhook.ID != hookB.ID ||
		p.Webhook.Metadata.Events == nil || len(p.Webhook.Metadata.Events) != 0 || len(p.Webhook.Metadata.ProjectIDs) != 0 {
		t.Errorf("B's payload %+v, want the event with B's empty (all) selection as []", p)
	}

	// The event as stored keeps the values too.
	ev := decode[apiEventDetail](t, f.call(t, f.adminToken, http.MethodGet, "/api/v1/events/"+pub.ID, nil, http.StatusOK))
	if ev.ID != pub.ID || ev.Event != "TODO_CREATED" || ev.OrganizationID != f.acme.ID || ev.ProjectID != f.alpha.ID ||
		ev.CreatedAt.IsZero() || !sameJSON(t, ev.PreviousValue, []byte(prev)) || !sameJSON(t, ev.CurrentValue, []byte(cur)) {
		t.Errorf("GET /events/%s = %+v, want the event as published", pub.ID, ev.apiEvent)
	}

	// Values left out, or sent as null, arrive as null; a deletion goes to B and C only.
	for i, body := range []map[string]any{
		{"event": "TODO_DELETED", "projectId": f.apex.ID},
		{"event": "TODO_DELETED", "projectId": f.apex.ID, "previousValue": nil, "currentValue": nil},
	} {
		pub := f.publishEvent(t, f.adminToken, body)
		if pub.Deliveries != 2 {
			t.Errorf("deletion %d: deliveries = %d, want 2 (B and C)", i, pub.Deliveries)
		}
		f.settledDeliveries(t, pub.ID, 2)
		if n := [4]int{len(rA.requests()), len(rB.requests()), len(rC.requests()), len(rD.requests())}; n != [4]int{1, 2 + i, 1 + i, 0} {
			t.Fatalf("deletion %d: requests per receiver A, B, C, D = %v, want [1 %d %d 0]", i, n, 2+i, 1+i)
		}
		got := rC.requests()[i].Body
		for _, field := range []string{"previousValue", "currentValue"} {
			if v := rawField(t, got, field); string(v) != "null" {
				t.Errorf("deletion %d: %s = %s, want null", i, field, v)
			}
		}
		checkSigned(t, rC.requests()[i], "TODO_DELETED", hookC.Secret)
		ev := decode[map[string]json.RawMessage](t, f.call(t, f.adminToken, http.MethodGet, "/api/v1/events/"+pub.ID, nil, http.StatusOK))
		if string(ev["previousValue"]) != "null" || string(ev["currentValue"]) != "null" {
			t.Errorf("deletion %d: GET /events shows values %s and %s, want null", i, ev["previousValue"], ev["currentValue"])
		}
	}
}

// The answers of publish and resend describe what is stored: the same createdAt as
// GET /events/{id} (and the payload's timestamp) and GET /deliveries/{id}.
func TestAPIPublishAnswerMatchesStoredEvent(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, 200, "ok")
	f.createWebhook(t, f.adminToken, map[string]any{"name": "Everything", "url": rcv.URL})
	pub := f.publishEvent(t, f.adminToken, map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID})
	ds := f.settledDeliveries(t, pub.ID, 1)
	ev := decode[apiEvent](t, f.call(t, f.adminToken, http.MethodGet, "/api/v1/events/"+pub.ID, nil, http.StatusOK))
	if !ev.CreatedAt.Equal(pub.CreatedAt) {
		t.Errorf("POST /events answered createdAt %s; GET /events/%s says %s",
			pub.CreatedAt.Format(time.RFC3339Nano), pub.ID, ev.CreatedAt.Format(time.RFC3339Nano))
	}
	if ts, err := time.Parse(time.RFC3339Nano, payloadOf(t, rcv.last(t, 1)).Timestamp); err != nil || !ts.Equal(ev.CreatedAt) {
		t.Errorf("payload timestamp %v (%v), want the event's createdAt %s", ts, err, ev.CreatedAt.Format(time.RFC3339Nano))
	}

	nd := decode[apiDelivery](t, f.call(t, f.adminToken, http.MethodPost, "/api/v1/deliveries/"+ds[0].ID+"/resend", nil, http.StatusAccepted))
	stored := f.getDelivery(t, f.adminToken, nd.ID)
	if !stored.CreatedAt.Equal(nd.CreatedAt) {
		t.Errorf("POST /deliveries/…/resend answered createdAt %s; GET /deliveries/%s says %s",
			nd.CreatedAt.Format(time.RFC3339Nano), nd.ID, stored.CreatedAt.Format(time.RFC3339Nano))
	}
}

// Bad input is refused with the right status and field, and stores and sends nothing.
func TestAPIPublishEventRefused(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, 200, "ok")
	f.createWebhook(t, f.adminToken, map[string]any{"name": "Everything", "url": rcv.URL})

	good := func(project string) map[string]any {
		return map[string]any{"event": "TODO_CREATED", "projectId": project, "currentValue": map[string]any{"title": "x"}}
	}
	cases := []struct {
		name   string
		token  string
		body   any
		status int
		fields []string
	}{
		{"invalid JSON", f.adminToken, `{"event": "TODO_CREATED",`, 400, nil},
		{"empty body", f.adminToken, ``, 400, nil},
		{"event of the wrong type", f.adminToken, `{"event": 7, "projectId": "` + f.alpha.ID + `"}`, 400, nil},
		{"unknown event type", f.adminToken, map[string]any{"event": "TODO_EXPLODED", "projectId": f.alpha.ID}, 422, []string{"event"}},
		{"health check", f.adminToken, map[string]any{"event": "WEBHOOK_HEALTH_CHECK", "projectId": f.alpha.ID}, 422, []string{"event"}},
		{"no event type", f.adminToken, map[string]any{"projectId": f.alpha.ID}, 422, []string{"event"}},
		{"no project", f.adminToken, map[string]any{"event": "TODO_CREATED"}, 422, []string{"projectId"}},
		{"unknown project", f.adminToken, good("prj_missing"), 422, []string{"projectId"}},
		{"nothing valid", f.adminToken, map[string]any{"event": "nope", "projectId": "prj_missing"}, 422, []string{"event", "projectId"}},
		{"member, other organisation's project", f.miaToken, good(f.beta.ID), 422, []string{"projectId"}},
		{"no token", "", good(f.alpha.ID), 401, nil},
		{"bad token", "hyk_nope", good(f.alpha.ID), 401, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(f.storedEvents(t))
			r := f.api(c.token, http.MethodPost, "/api/v1/events", c.body)
			if c.status == 422 {
				wantFieldErrors(t, r, c.fields...)
			} else {
				wantProblem(t, r, c.status)
			}
			if after := len(f.storedEvents(t)); after != before {
				t.Errorf("%d events stored before, %d after", before, after)
			}
		})
	}
	t.Run("Idempotency-Key too long", func(t *testing.T) {
		r := f.publishWithKey(t, f.adminToken, "/api/v1/events", strings.Repeat("k", 256), good(f.alpha.ID))
		wantProblem(t, r, http.StatusBadRequest)
		if n := len(f.storedEvents(t)); n != 0 {
			t.Errorf("%d events stored", n)
		}
	})
	if n := len(f.storedDeliveries(t, store.DeliveryFilter{})); n != 0 {
		t.Errorf("refused publishes made %d deliveries", n)
	}

	// The same member publishing to their own organisation's project is accepted.
	pub := f.publishEvent(t, f.miaToken, good(f.alpha.ID))
	if pub.Deliveries != 1 {
		t.Errorf("deliveries = %d, want 1", pub.Deliveries)
	}
	f.settledDeliveries(t, pub.ID, 1)
	if got := rcv.requests(); len(got) != 1 || payloadOf(t, got[0]).ID != pub.ID {
		t.Errorf("receiver got %d requests, want only the accepted event's", len(got))
	}
}

// A publish body over --max-payload is refused with 413 and stores nothing, whether or not
// its length is announced.
func TestAPIPublishEventTooLarge(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate, func(o *handlers.Options) { o.MaxPayload = 2048 })
	rcv := newReceiver(t, 200, "ok")
	f.createWebhook(t, f.adminToken, map[string]any{"name": "Everything", "url": rcv.URL})
	big := map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID, "currentValue": strings.Repeat("x", 4<<10)}
	bigJSON, _ := json.Marshal(big)
	batchJSON, _ := json.Marshal(map[string]any{"events": []any{big}})

	for _, c := range []struct {
		name, path string
		body       []byte
		chunked    bool
	}{
		{"event", "/api/v1/events", bigJSON, false},
		{"event, chunked", "/api/v1/events", bigJSON, true},
		{"batch", "/api/v1/events/batch", batchJSON, false},
		{"batch, chunked", "/api/v1/events/batch", batchJSON, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var rd io.Reader = bytes.NewReader(c.body)
			if c.chunked {
				rd = io.MultiReader(rd) // hides the length: sent chunked, without Content-Length
			}
			req, _ := http.NewRequest(http.MethodPost, f.srv.URL+c.path, rd)
			req.Header.Set("Authorization", "Bearer "+f.adminToken)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			out, _ := io.ReadAll(resp.Body)
			wantProblem(t, apiResult{Status: resp.StatusCode, Header: resp.Header, Body: out}, http.StatusRequestEntityTooLarge)
			if n := len(f.storedEvents(t)); n != 0 {
				t.Errorf("%d events stored", n)
			}
		})
	}

	// Just under the limit is fine.
	small := map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID, "currentValue": strings.Repeat("x", 1<<10)}
	pub := f.publishEvent(t, f.adminToken, small)
	f.settledDeliveries(t, pub.ID, 1)
	if got := rcv.requests(); len(got) != 1 {
		t.Errorf("receiver got %d requests, want 1", len(got))
	}
}

// A batch holds 1 to 500 events; one bad event refuses the whole batch (naming it by index),
// a good batch stores every event and reports the deliveries.
func TestAPIPublishBatch(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rA, rB := newReceiver(t, 200, "ok"), newReceiver(t, 200, "ok")
	hookA := f.createWebhook(t, f.adminToken, map[string]any{"name": "A", "url": rA.URL,
		"events": []string{"TODO_CREATED"}, "projectIds": []string{f.alpha.ID}})
	f.createWebhook(t, f.adminToken, map[string]any{"name": "B", "url": rB.URL})
	ev := func(typ, project string) map[string]any {
		return map[string]any{"event": typ, "projectId": project, "currentValue": map[string]string{"title": typ}}
	}
	many := func(n int) map[string]any {
		evs := make([]any, n)
		for i := range evs {
			evs[i] = ev("TODO_CREATED", f.alpha.ID)
		}
		return map[string]any{"events": evs}
	}

	cases := []struct {
		name   string
		token  string
		body   any
		fields []string
	}{
		{"no events", f.adminToken, map[string]any{"events": []any{}}, []string{"events"}},
		{"events left out", f.adminToken, map[string]any{}, []string{"events"}},
		{"501 events", f.adminToken, many(501), []string{"events"}},
		{"one bad type among three", f.adminToken, map[string]any{"events": []any{
			ev("TODO_CREATED", f.alpha.ID), ev("TODO_EXPLODED", f.alpha.ID), ev("TODO_DELETED", f.apex.ID)}}, []string{"events[1].event"}},
		{"bad fields in two events", f.adminToken, map[string]any{"events": []any{
			ev("TODO_CREATED", f.alpha.ID), map[string]any{"event": "TODO_CREATED"}, ev("WEBHOOK_HEALTH_CHECK", "prj_missing")}},
			[]string{"events[1].projectId", "events[2].event", "events[2].projectId"}},
		{"member, other organisation's project", f.miaToken, map[string]any{"events": []any{
			ev("TODO_CREATED", f.alpha.ID), ev("TODO_CREATED", f.apex.ID), ev("TODO_CREATED", f.beta.ID)}}, []string{"events[2].projectId"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.api(c.token, http.MethodPost, "/api/v1/events/batch", c.body)
			wantFieldErrors(t, r, c.fields...)
			if n := len(f.storedEvents(t)); n != 0 {
				t.Errorf("a refused batch stored %d events", n)
			}
		})
	}
	wantProblem(t, f.api(f.adminToken, http.MethodPost, "/api/v1/events/batch", `{"events": {}}`), http.StatusBadRequest)
	wantProblem(t, f.api("", http.MethodPost, "/api/v1/events/batch", many(1)), http.StatusUnauthorized)

	r := f.call(t, f.adminToken, http.MethodPost, "/api/v1/events/batch", map[string]any{"events": []any{
		ev("TODO_CREATED", f.alpha.ID), // A and B
		ev("TODO_DELETED", f.apex.ID),  // B
		ev("TODO_CREATED", f.beta.ID),  // B
	}}, http.StatusAccepted)
	wantJSON(t, r, http.StatusAccepted)
	got := decode[apiBatchPublished](t, r)
	if len(got.Events) != 3 {
		t.Fatalf("%d events in the answer, want 3\n%s", len(got.Events), r.Body)
	}
	wantTypes := []string{"TODO_CREATED", "TODO_DELETED", "TODO_CREATED"}
	wantProjects := []string{f.alpha.ID, f.apex.ID, f.beta.ID}
	wantDeliveries := []int{2, 1, 1}
	seen := map[string]bool{}
	for i, e := range got.Events {
		if !strings.HasPrefix(e.ID, "evt_") || seen[e.ID] {
			t.Errorf("event %d id %q: want a new, distinct evt_ id", i, e.ID)
		}
		seen[e.ID] = true
		if e.Event != wantTypes[i] || e.ProjectID != wantProjects[i] || e.Deliveries != wantDeliveries[i] {
			t.Errorf("event %d = %+v, want %s in %s with %d deliveries", i, e, wantTypes[i], wantProjects[i], wantDeliveries[i])
		}
	}
	if got.Deliveries != 4 {
		t.Errorf("deliveries = %d, want 4", got.Deliveries)
	}
	for i, e := range got.Events {
		f.settledDeliveries(t, e.ID, wantDeliveries[i])
	}
	if n := len(f.storedEvents(t)); n != 3 {
		t.Errorf("%d events stored, want 3", n)
	}
	if a, b := len(rA.requests()), len(rB.requests()); a != 1 || b != 3 {
		t.Errorf("receiver A got %d requests, B %d; want 1 and 3", a, b)
	}
	if p := payloadOf(t, rA.requests()[0]); p.ID != got.Events[0].ID || p.Webhook.ID != hookA.ID {
		t.Errorf("A received %s, want the first event", p.ID)
	}
	var toB []string
	for _, req := range rB.requests() {
		toB = append(toB, payloadOf(t, req).ID)
	}
	if !slices.Equal(sorted(toB), sorted(ids(got.Events, func(e apiPublished) string { return e.ID }))) {
		t.Errorf("B received %v, want all three events", toB)
	}

	// 500 is the most a batch may hold.
	r = f.call(t, f.adminToken, http.MethodPost, "/api/v1/events/batch", many(500), http.StatusAccepted)
	if b := decode[apiBatchPublished](t, r); len(b.Events) != 500 || b.Deliveries != 1000 {
		t.Errorf("a batch of 500: %d events, %d deliveries; want 500 and 1000", len(b.Events), b.Deliveries)
	}
}

// With an Idempotency-Key, the same user repeating a publish gets the first answer again and
// nothing is published twice, even when the repeats race; other users' keys are their own.
func TestAPIPublishIdempotencyKey(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, 200, "ok")
	f.createWebhook(t, f.adminToken, map[string]any{"name": "Everything", "url": rcv.URL})
	body := map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID, "currentValue": map[string]string{"title": "once"}}

	first := f.publishWithKey(t, f.adminToken, "/api/v1/events", "order-4711", body)
	wantJSON(t, first, http.StatusAccepted)
	if h := first.Header.Get("Idempotent-Replayed"); h != "" {
		t.Errorf("first answer has Idempotent-Replayed: %q", h)
	}
	pub := decode[apiPublished](t, first)
	second := f.publishWithKey(t, f.adminToken, "/api/v1/events", "order-4711", body)
	wantJSON(t, second, http.StatusAccepted)
	if h := second.Header.Get("Idempotent-Replayed"); h != "true" {
		t.Errorf("second answer: Idempotent-Replayed %q, want true", h)
	}
	if !bytes.Equal(bytes.TrimSpace(first.Body), bytes.TrimSpace(second.Body)) {
		t.Errorf("second answer differs:\n%s\n%s", first.Body, second.Body)
	}
	f.settledDeliveries(t, pub.ID, 1)
	if n := len(f.storedEvents(t)); n != 1 {
		t.Errorf("%d events stored, want 1", n)
	}
	if n := len(rcv.requests()); n != 1 {
		t.Errorf("receiver got %d requests, want 1", n)
	}

	// Another user's identical key is theirs: Mia's publish is new.
	mia := f.publishWithKey(t, f.miaToken, "/api/v1/events", "order-4711", body)
	wantJSON(t, mia, http.StatusAccepted)
	miaPub := decode[apiPublished](t, mia)
	if mia.Header.Get("Idempotent-Replayed") != "" || miaPub.ID == pub.ID {
		t.Errorf("Mia's publish with Ada's key was answered with Ada's event (%s)", miaPub.ID)
	}
	f.settledDeliveries(t, miaPub.ID, 1)

	// A batch keeps its own answer under its key.
	batch := map[string]any{"events": []any{body, body}}
	b1 := f.publishWithKey(t, f.adminToken, "/api/v1/events/batch", "batch-1", batch)
	b2 := f.publishWithKey(t, f.adminToken, "/api/v1/events/batch", "batch-1", batch)
	if b1.Status != 202 || b2.Status != 202 || !bytes.Equal(bytes.TrimSpace(b1.Body), bytes.TrimSpace(b2.Body)) ||
		b2.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("batch with a key twice: %d %s / %d %s (replayed %q)", b1.Status, b1.Body, b2.Status, b2.Body, b2.Header.Get("Idempotent-Replayed"))
	}

	// Racing repeats publish once.
	const n = 8
	raw, _ := json.Marshal(map[string]any{"event": "TODO_CREATED", "projectId": f.beta.ID})
	results := make([]apiResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = f.apiRaw(f.ottoToken, http.MethodPost, "/api/v1/events", raw, http.Header{"Idempotency-Key": {"race"}})
		}()
	}
	wg.Wait()
	replayed := 0
	var bodies [][]byte
	for i, r := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if r.Status != http.StatusAccepted {
			t.Fatalf("racer %d: status %d\n%s", i, r.Status, r.Body)
		}
		if r.Header.Get("Idempotent-Replayed") == "true" {
			replayed++
		}
		bodies = append(bodies, bytes.TrimSpace(r.Body))
	}
	if replayed != n-1 {
		t.Errorf("%d of %d racing repeats were replays, want %d", replayed, n, n-1)
	}
	for i := range bodies {
		if !bytes.Equal(bodies[i], bodies[0]) {
			t.Errorf("racer %d got a different answer:\n%s\n%s", i, bodies[i], bodies[0])
		}
	}
	otto, _, err := f.store.ListEvents(t.Context(), store.EventFilter{ProjectID: f.beta.ID}, store.Page{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(otto) != 1 {
		t.Errorf("racing repeats stored %d events, want 1", len(otto))
	}
}

// An Idempotency-Key reused with a different body is refused with 422 (as Stripe does) and
// publishes nothing, instead of answering with the first publish; the same body still gets
// the first answer. Racing requests with different bodies publish once.
func TestAPIPublishIdempotencyKeyReusedWithDifferentBody(t *testing.T) {
	f := newWebhookFixture(t)
	first := map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID, "currentValue": map[string]string{"title": "first"}}
	other := map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID, "currentValue": map[string]string{"title": "other"}}
	r1 := f.publishWithKey(t, f.adminToken, "/api/v1/events", "reused", first)
	wantJSON(t, r1, http.StatusAccepted)

	r2 := f.publishWithKey(t, f.adminToken, "/api/v1/events", "reused", other)
	p := wantProblem(t, r2, http.StatusUnprocessableEntity)
	if !strings.Contains(p.Detail, "different request") || r2.Header.Get("Idempotent-Replayed") != "" {
		t.Errorf("reused key: detail %q, Idempotent-Replayed %q; want a refusal saying the key was used with a different request",
			p.Detail, r2.Header.Get("Idempotent-Replayed"))
	}
	if n := len(f.storedEvents(t)); n != 1 {
		t.Errorf("%d events stored, want 1", n)
	}
	r3 := f.publishWithKey(t, f.adminToken, "/api/v1/events", "reused", first)
	if r3.Status != http.StatusAccepted || r3.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(bytes.TrimSpace(r1.Body), bytes.TrimSpace(r3.Body)) {
		t.Errorf("the first body again: status %d, replayed %q\n%s", r3.Status, r3.Header.Get("Idempotent-Replayed"), r3.Body)
	}

	// A batch too.
	b1 := f.publishWithKey(t, f.adminToken, "/api/v1/events/batch", "batch", map[string]any{"events": []any{first}})
	wantJSON(t, b1, http.StatusAccepted)
	wantProblem(t, f.publishWithKey(t, f.adminToken, "/api/v1/events/batch", "batch", map[string]any{"events": []any{first, other}}),
		http.StatusUnprocessableEntity)

	// Racing: whichever body wins, the other one is refused and only one event is stored.
	const n = 8
	bodies := make([][]byte, n)
	results := make([]apiResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		bodies[i], _ = json.Marshal(map[string]any{"event": "TODO_CREATED", "projectId": f.beta.ID, "currentValue": i % 2})
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = f.apiRaw(f.ottoToken, http.MethodPost, "/api/v1/events", bodies[i], http.Header{"Idempotency-Key": {"race"}})
		}()
	}
	wg.Wait()
	accepted := map[int]bool{}
	for i, r := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		switch r.Status {
		case http.StatusAccepted:
			accepted[i%2] = true
		case http.StatusUnprocessableEntity:
		default:
			t.Errorf("racer %d: status %d\n%s", i, r.Status, r.Body)
		}
	}
	if len(accepted) != 1 {
		t.Errorf("both bodies were accepted under one key: %v", accepted)
	}
	stored, _, err := f.store.ListEvents(t.Context(), store.EventFilter{ProjectID: f.beta.ID}, store.Page{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 {
		t.Errorf("racing requests under one key stored %d events, want 1", len(stored))
	}
}

// An Idempotency-Key used for one publish is not answered with that publish's body on the
// other endpoint: a batch with a single publish's key must not get a single event back.
func TestAPIPublishIdempotencyKeyAcrossEndpoints(t *testing.T) {
	f := newWebhookFixture(t)
	body := map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID}
	wantJSON(t, f.publishWithKey(t, f.adminToken, "/api/v1/events", "shared", body), http.StatusAccepted)
	r := f.publishWithKey(t, f.adminToken, "/api/v1/events/batch", "shared", map[string]any{"events": []any{body, body}})
	if r.Status == http.StatusAccepted {
		var got map[string]json.RawMessage
		_ = json.Unmarshal(r.Body, &got)
		if _, ok := got["events"]; !ok {
			t.Errorf("POST /events/batch with the key of an earlier POST /events answered 202 with that single event "+
				"(replayed %q), not a batch answer; want a 4xx saying the key belongs to another request\n%s",
				r.Header.Get("Idempotent-Replayed"), r.Body)
		}
	} else if r.Status < 400 || r.Status >= 500 {
		t.Errorf("status %d\n%s", r.Status, r.Body)
	}
}

// An Idempotency-Key is repeated for 24 hours (the document says so); reused later, it
// publishes anew.
func TestAPIPublishIdempotencyKeyExpires(t *testing.T) {
	f := newWebhookFixture(t)
	body := map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID}
	first := f.publishWithKey(t, f.adminToken, "/api/v1/events", "daily-report", body)
	wantJSON(t, first, http.StatusAccepted)

	db, q := testdb.Raw(t, f.dsn)
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), q(`UPDATE idempotency_keys SET created_at = created_at - ?`),
		(25 * time.Hour).Milliseconds()); err != nil {
		t.Fatal(err)
	}

	again := f.publishWithKey(t, f.adminToken, "/api/v1/events", "daily-report", body)
	if again.Status != http.StatusAccepted || again.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("the key reused after 25 h: status %d, replayed %q, want a new 202\n%s",
			again.Status, again.Header.Get("Idempotent-Replayed"), again.Body)
	}
	if a, b := decode[apiPublished](t, first), decode[apiPublished](t, again); a.ID == b.ID {
		t.Errorf("the key reused after 25 h answered the old event %s", a.ID)
	}
	if n := len(f.storedEvents(t)); n != 2 {
		t.Errorf("%d events stored, want 2", n)
	}
}

// While the server shuts down, a publish is refused with 503 and Retry-After, and stores
// nothing.
func TestAPIPublishWhileStopping(t *testing.T) {
	st, err := store.Open(t.Context(), testdb.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.SetPasswordCost(bcrypt.MinCost)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng := delivery.NewEngine(st, delivery.NewClient(delivery.ClientOptions{}), delivery.Config{Logger: quiet})
	if err := eng.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	e, err := handlers.New(t.Context(), st, handlers.Options{Logger: quiet, Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	app := &testApp{t: t, store: st, srv: srv}
	token := app.token(app.admin())
	prj := app.project(app.org("Acme").ID, "Website")
	eng.Stop(t.Context())

	for _, path := range []string{"/api/v1/events", "/api/v1/events/batch"} {
		body := any(map[string]any{"event": "TODO_CREATED", "projectId": prj.ID})
		if strings.HasSuffix(path, "batch") {
			body = map[string]any{"events": []any{body}}
		}
		r := app.api(token, http.MethodPost, path, body)
		wantProblem(t, r, http.StatusServiceUnavailable)
		if ra := r.Header.Get("Retry-After"); ra == "" {
			t.Errorf("POST %s: 503 without Retry-After", path)
		}
	}
	if n := len(app.storedEvents(t)); n != 0 {
		t.Errorf("%d events stored while stopping", n)
	}
}

// GET /events lists newest first, filters by type and project, shows members only their
// organisations' events, and pages.
func TestAPIEventList(t *testing.T) {
	f := newWebhookFixture(t)
	pub := func(token, typ string, p store.Project) string {
		return f.publishEvent(t, token, map[string]any{"event": typ, "projectId": p.ID,
			"currentValue": map[string]string{"n": typ + " in " + p.Name}}).ID
	}
	e1 := pub(f.adminToken, "TODO_CREATED", f.alpha)
	e2 := pub(f.adminToken, "TODO_DELETED", f.alpha)
	e3 := pub(f.adminToken, "TODO_CREATED", f.apex)
	e4 := pub(f.adminToken, "TODO_CREATED", f.beta)
	e5 := pub(f.ottoToken, "TODO_MOVED", f.beta)
	e6 := pub(f.miaToken, "TODO_CREATED", f.alpha)

	listed := func(token, query string) []apiEvent {
		t.Helper()
		var all []apiEvent
		for _, p := range walk[apiEvent](t, f.testApp, token, "/api/v1/events"+query) {
			all = append(all, p.Data...)
		}
		return all
	}
	cases := []struct {
		name, token, query string
		want               []string
	}{
		{"admin, all", f.adminToken, "", []string{e6, e5, e4, e3, e2, e1}},
		{"admin, by type", f.adminToken, "?event=TODO_CREATED", []string{e6, e4, e3, e1}},
		{"admin, by project", f.adminToken, "?projectId=" + f.alpha.ID, []string{e6, e2, e1}},
		{"admin, by type and project", f.adminToken, "?event=TODO_CREATED&projectId=" + f.alpha.ID, []string{e6, e1}},
		{"admin, unknown type", f.adminToken, "?event=NOPE", []string{}},
		{"admin, pages of 2", f.adminToken, "?limit=2", []string{e6, e5, e4, e3, e2, e1}},
		{"member of Acme", f.miaToken, "", []string{e6, e3, e2, e1}},
		{"member of Acme, Bolt's project", f.miaToken, "?projectId=" + f.beta.ID, []string{}},
		{"member of Acme, by type, pages of 1", f.miaToken, "?event=TODO_CREATED&limit=1", []string{e6, e3, e1}},
		{"member of Bolt", f.ottoToken, "", []string{e5, e4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := listed(c.token, c.query)
			if g := ids(got, eventID); !slices.Equal(g, c.want) {
				t.Errorf("GET /events%s = %v, want %v", c.query, g, c.want)
			}
		})
	}

	pages := walk[apiEvent](t, f.testApp, f.adminToken, "/api/v1/events?limit=2")
	if len(pages) != 3 || len(pages[0].Data) != 2 || len(pages[2].Data) != 2 {
		t.Errorf("pages of 2 over 6 events: %d pages", len(pages))
	}
	top := listed(f.adminToken, "?limit=1")[0]
	if top.ID != e6 || top.Event != "TODO_CREATED" || top.ProjectID != f.alpha.ID || top.OrganizationID != f.acme.ID ||
		!sameJSON(t, top.CurrentValue, []byte(`{"n": "TODO_CREATED in Alpha"}`)) || string(top.PreviousValue) != "null" || top.CreatedAt.IsZero() {
		t.Errorf("newest event %+v, want e6 as published", top)
	}

	// A cursor Hookyard did not issue is refused, even well encoded: not an id, an id of
	// another list, an event id with a character too many.
	notIssued := []string{"garbage", f.acme.ID, e3 + "x"}
	bad := []string{"?limit=0", "?limit=x", "?limit=-3", "?cursor=!", "?cursor=" + url.QueryEscape("not base64!")}
	for _, c := range notIssued {
		bad = append(bad, "?cursor="+base64.RawURLEncoding.EncodeToString([]byte(c)))
	}
	for _, q := range bad {
		wantProblem(t, f.api(f.adminToken, http.MethodGet, "/api/v1/events"+q, nil), http.StatusBadRequest)
	}
	wantProblem(t, f.api("", http.MethodGet, "/api/v1/events", nil), http.StatusUnauthorized)
}

// GET /events/{id} says, for each of the viewer's webhooks, what happened to the event or in
// plain words why it was not received; members see only events of their organisations.
func TestAPIEventOutcomes(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, 200, "thanks")
	hook := func(token, name string, events, projects []string) apiWebhook {
		return f.createWebhook(t, token, map[string]any{"name": name, "url": rcv.URL, "events": events, "projectIds": projects})
	}
	a := hook(f.adminToken, "A matches", []string{"TODO_CREATED"}, []string{f.alpha.ID})
	b := hook(f.adminToken, "B other type", []string{"TODO_DELETED"}, nil)
	c := hook(f.adminToken, "C other project", []string{"TODO_CREATED"}, []string{f.beta.ID})
	d := hook(f.adminToken, "D switched off", []string{"TODO_CREATED"}, nil)
	f.call(t, f.adminToken, http.MethodPost, "/api/v1/webhooks/"+d.ID+"/disable", nil, http.StatusOK)
	e := hook(f.ottoToken, "E Otto's", nil, nil)
	m := hook(f.miaToken, "M Mia's", nil, nil)

	pub := f.publishEvent(t, f.adminToken, map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID})
	if pub.Deliveries != 2 {
		t.Errorf("deliveries = %d, want 2 (A and M)", pub.Deliveries)
	}
	later := hook(f.adminToken, "F made later", nil, nil)
	f.settledDeliveries(t, pub.ID, 2)

	r := f.call(t, f.adminToken, http.MethodGet, "/api/v1/events/"+pub.ID, nil, http.StatusOK)
	wantJSON(t, r, http.StatusOK)
	detail := decode[apiEventDetail](t, r)
	if detail.ID != pub.ID || detail.Event != "TODO_CREATED" || detail.ProjectID != f.alpha.ID || detail.OrganizationID != f.acme.ID {
		t.Errorf("event %+v, want the published one", detail.apiEvent)
	}
	got := detail.outcomes()
	if len(detail.Webhooks) != 7 || len(got) != 7 {
		t.Errorf("admin sees %d webhooks, want all 7\n%s", len(detail.Webhooks), r.Body)
	}
	want := []struct {
		hook     apiWebhook
		state    string
		words    []string
		delivery bool
	}{
		{a, "delivered", []string{"Delivered", "HTTP 200", "1 attempt"}, true},
		{b, "not_matched", []string{"Not subscribed", "“Record created”"}, false},
		{c, "not_matched", []string{"project", "Alpha", "Acme", "not selected"}, false},
		{d, "missed", []string{"switched off", "missed"}, false},
		{e, "not_matched", []string{"Otto Other", "no access", "Acme"}, false},
		{m, "delivered", []string{"Delivered"}, true},
		{later, "not_matched", []string{"created after"}, false},
	}
	for _, w := range want {
		o, ok := got[w.hook.ID]
		if !ok {
			t.Errorf("%s: not listed", w.hook.Name)
			continue
		}
		if o.WebhookName != w.hook.Name || o.State != w.state {
			t.Errorf("%s: name %q state %q, want %q", w.hook.Name, o.WebhookName, o.State, w.state)
		}
		for _, word := range w.words {
			if !strings.Contains(o.Reason, word) {
				t.Errorf("%s: reason %q does not say %q", w.hook.Name, o.Reason, word)
			}
		}
		switch {
		case w.delivery && o.Delivery == nil:
			t.Errorf("%s: no delivery", w.hook.Name)
		case w.delivery && (o.Delivery.WebhookID != w.hook.ID || o.Delivery.EventID != pub.ID || o.Delivery.Status != "succeeded" ||
			o.Delivery.Attempts != 1 || o.Delivery.LastStatusCode != 200):
			t.Errorf("%s: delivery %+v, want a succeeded one for this event and webhook", w.hook.Name, *o.Delivery)
		case !w.delivery && o.Delivery != nil:
			t.Errorf("%s: has delivery %+v, want null", w.hook.Name, *o.Delivery)
		}
	}
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(decode[map[string]json.RawMessage](t, r)["webhooks"], &raw); err != nil {
		t.Fatal(err)
	}
	for _, o := range raw {
		if d, ok := o["delivery"]; !ok || len(d) == 0 {
			t.Errorf("an outcome has no delivery field (want an object or null): %v", o)
		}
	}

	// Mia (Acme) sees the event with her own webhook only; Otto (Bolt) may not see it.
	mia := decode[apiEventDetail](t, f.call(t, f.miaToken, http.MethodGet, "/api/v1/events/"+pub.ID, nil, http.StatusOK))
	if len(mia.Webhooks) != 1 || mia.Webhooks[0].WebhookID != m.ID || mia.Webhooks[0].State != "delivered" {
		t.Errorf("Mia sees %+v, want only her delivered webhook", mia.Webhooks)
	}
	wantProblem(t, f.api(f.ottoToken, http.MethodGet, "/api/v1/events/"+pub.ID, nil), http.StatusNotFound)
	wantProblem(t, f.api(f.adminToken, http.MethodGet, "/api/v1/events/evt_missing", nil), http.StatusNotFound)

	// A member without webhooks sees the event with an empty list, not null; members of other
	// organisations do not see it at all.
	quiet := f.publishEvent(t, f.ottoToken, map[string]any{"event": "TODO_DELETED", "projectId": f.beta.ID})
	nia := f.member("nia@example.com", "Nia New")
	f.addMember(f.bolt.ID, nia.ID)
	niaView := decode[map[string]json.RawMessage](t, f.call(t, f.token(nia), http.MethodGet, "/api/v1/events/"+quiet.ID, nil, http.StatusOK))
	if string(niaView["webhooks"]) != "[]" {
		t.Errorf("a member without webhooks: webhooks = %s, want []", niaView["webhooks"])
	}
	wantProblem(t, f.api(f.miaToken, http.MethodGet, "/api/v1/events/"+quiet.ID, nil), http.StatusNotFound)
}

// openAPIShapeErrors lists where value does not fit schema. It is openAPICheckShape plus what
// the event and delivery objects need: oneOf/anyOf (an object or null), additionalProperties
// (header maps), enum, and a schema without type or properties taken as any JSON value.
func openAPIShapeErrors(t *testing.T, doc openAPIDoc, at string, schema map[string]any, value any) []string {
	t.Helper()
	schema = openAPIResolve(t, doc, schema)
	parts := []map[string]any{schema}
	if all, ok := schema["allOf"].([]any); ok {
		for _, p := range all {
			parts = append(parts, openAPIResolve(t, doc, p.(map[string]any)))
		}
	}
	var errs []string
	for _, key := range []string{"oneOf", "anyOf"} {
		alts, ok := schema[key].([]any)
		if !ok {
			continue
		}
		fits := 0
		for _, alt := range alts {
			if len(openAPIShapeErrors(t, doc, at, alt.(map[string]any), value)) == 0 {
				fits++
			}
		}
		if fits == 0 || (key == "oneOf" && fits > 1) {
			errs = append(errs, fmt.Sprintf("%s: %s fits %d of the %s alternatives", at, openAPITruncate(value), fits, key))
		}
	}
	props, required := map[string]any{}, []string{}
	var types []string
	var enum []any
	var additional, items any
	for _, p := range parts {
		switch ty := p["type"].(type) {
		case string:
			types = append(types, ty)
		case []any:
			for _, x := range ty {
				types = append(types, x.(string))
			}
		}
		if ps, ok := p["properties"].(map[string]any); ok {
			for k, v := range ps {
				props[k] = v
			}
		}
		if rs, ok := p["required"].([]any); ok {
			for _, r := range rs {
				required = append(required, r.(string))
			}
		}
		if e, ok := p["enum"].([]any); ok {
			enum = e
		}
		if a, ok := p["additionalProperties"]; ok {
			additional = a
		}
		if i, ok := p["items"]; ok {
			items = i
		}
	}
	if len(types) == 0 && len(props) == 0 && additional == nil && items == nil && enum == nil {
		return errs // any value, or one described by its alternatives
	}
	if len(props) > 0 && !slices.Contains(types, "object") {
		types = append(types, "object")
	}
	if got := openAPIJSONType(value); len(types) > 0 && !slices.Contains(types, got) &&
		(got != "integer" || !slices.Contains(types, "number")) {
		return append(errs, fmt.Sprintf("%s: %s is %s, documented as %v", at, openAPITruncate(value), got, types))
	}
	if enum != nil && !slices.ContainsFunc(enum, func(e any) bool { return reflect.DeepEqual(e, value) }) {
		errs = append(errs, fmt.Sprintf("%s: %s is not one of %v", at, openAPITruncate(value), enum))
	}
	switch v := value.(type) {
	case map[string]any:
		for k, child := range v {
			if s, ok := props[k].(map[string]any); ok {
				errs = append(errs, openAPIShapeErrors(t, doc, at+"."+k, s, child)...)
			} else if s, ok := additional.(map[string]any); ok {
				errs = append(errs, openAPIShapeErrors(t, doc, at+"."+k, s, child)...)
			} else if additional != true {
				errs = append(errs, fmt.Sprintf("%s: field %q is sent but not documented", at, k))
			}
		}
		for _, k := range required {
			if _, ok := v[k]; !ok {
				errs = append(errs, fmt.Sprintf("%s: documented field %q is required but not sent", at, k))
			}
		}
	case []any:
		if s, ok := items.(map[string]any); ok {
			for i, child := range v {
				errs = append(errs, openAPIShapeErrors(t, doc, fmt.Sprintf("%s[%d]", at, i), s, child)...)
			}
		}
	}
	return errs
}

// openAPIWantDocumented fails unless the document lists r's status for the operation, with
// its media type and a schema the body fits.
func openAPIWantDocumented(t *testing.T, doc openAPIDoc, name, method, docPath string, r apiResult) {
	t.Helper()
	item, ok := doc.raw.(map[string]any)["paths"].(map[string]any)[docPath].(map[string]any)
	if !ok {
		t.Errorf("%s: %s is not documented", name, docPath)
		return
	}
	op, _ := item[strings.ToLower(method)].(map[string]any)
	responses, _ := op["responses"].(map[string]any)
	resp, ok := responses[fmt.Sprint(r.Status)].(map[string]any)
	if !ok {
		t.Errorf("%s: status %d is not documented for %s %s\n%s", name, r.Status, method, docPath, r.Body)
		return
	}
	resp = openAPIResolve(t, doc, resp)
	content, _ := resp["content"].(map[string]any)
	mediaType, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	media, ok := content[mediaType].(map[string]any)
	if !ok {
		t.Errorf("%s: answered %s, which the document does not list", name, mediaType)
		return
	}
	var body any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Errorf("%s: body is not JSON: %v", name, err)
		return
	}
	for _, e := range openAPIShapeErrors(t, doc, name, media["schema"].(map[string]any), body) {
		t.Error(e)
	}
}

// The event, delivery and webhook-health answers the handlers really send fit the document,
// successes and refusals alike.
func TestOpenAPIMatchesEventAndDeliveryResponses(t *testing.T) {
	_, doc := fetchOpenAPI(t)
	f := newWebhookFixture(t, allowPrivate)
	ok, failing := newReceiver(t, 200, `{"received": true}`), newReceiver(t, 500, "boom")
	good := f.createWebhook(t, f.adminToken, map[string]any{"name": "Good", "url": ok.URL, "events": []string{"TODO_CREATED"}})
	bad := f.createWebhook(t, f.adminToken, map[string]any{"name": "Bad", "url": failing.URL, "projectIds": []string{f.alpha.ID}})
	idle := f.createWebhook(t, f.adminToken, map[string]any{"name": "Idle", "url": ok.URL, "events": []string{"TODO_MOVED"}})
	off := f.createWebhook(t, f.adminToken, map[string]any{"name": "Off", "url": ok.URL})
	f.call(t, f.adminToken, http.MethodPost, "/api/v1/webhooks/"+off.ID+"/disable", nil, http.StatusOK)

	evBody := map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID,
		"previousValue": map[string]any{"title": "old", "tags": []string{"a"}}, "currentValue": map[string]any{"title": "new", "n": 1.5}}
	raw, _ := json.Marshal(evBody)
	first, err := f.apiRaw(f.adminToken, http.MethodPost, "/api/v1/events", raw, http.Header{"Idempotency-Key": {"shape"}})
	if err != nil {
		t.Fatal(err)
	}
	pub := decode[apiPublished](t, first)
	replay, err := f.apiRaw(f.adminToken, http.MethodPost, "/api/v1/events", raw, http.Header{"Idempotency-Key": {"shape"}})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "Bad is switched off", func() bool { return !f.storedWebhook(t, bad.ID).Enabled })
	ds := f.settledDeliveries(t, pub.ID, 2)
	var goodDelivery, badDelivery string
	for _, d := range ds {
		if d.WebhookID == good.ID {
			goodDelivery = d.ID
		} else {
			badDelivery = d.ID
		}
	}

	type call struct {
		token, method, path string
		body                any
		status              int
		docPath             string
	}
	cases := []call{
		{f.adminToken, "POST", "/events", `{"event":`, 400, "/events"},
		{f.adminToken, "POST", "/events", map[string]any{"event": "NOPE"}, 422, "/events"},
		{"", "POST", "/events", evBody, 401, "/events"},
		{f.adminToken, "POST", "/events", `{"event": "TODO_CREATED", "currentValue": "` + strings.Repeat("x", 300<<10) + `"}`, 413, "/events"},
		{f.adminToken, "POST", "/events/batch", map[string]any{"events": []any{evBody, evBody}}, 202, "/events/batch"},
		{f.adminToken, "POST", "/events/batch", map[string]any{"events": []any{evBody, map[string]any{}}}, 422, "/events/batch"},
		{f.adminToken, "POST", "/events/batch", `[]`, 400, "/events/batch"},
		{f.adminToken, "GET", "/events?limit=1", nil, 200, "/events"},
		{f.miaToken, "GET", "/events?event=TODO_CREATED", nil, 200, "/events"},
		{f.adminToken, "GET", "/events?cursor=!", nil, 400, "/events"},
		{f.adminToken, "GET", "/events/" + pub.ID, nil, 200, "/events/{id}"},
		{f.ottoToken, "GET", "/events/" + pub.ID, nil, 404, "/events/{id}"},
		{f.adminToken, "GET", "/webhooks/" + bad.ID + "/deliveries", nil, 200, "/webhooks/{id}/deliveries"},
		{f.adminToken, "GET", "/webhooks/" + good.ID + "/deliveries?status=succeeded&event=TODO_CREATED&limit=1", nil, 200, "/webhooks/{id}/deliveries"},
		{f.adminToken, "GET", "/webhooks/" + good.ID + "/deliveries?status=done", nil, 400, "/webhooks/{id}/deliveries"},
		{f.miaToken, "GET", "/webhooks/" + good.ID + "/deliveries", nil, 404, "/webhooks/{id}/deliveries"},
		{f.adminToken, "GET", "/deliveries/" + goodDelivery, nil, 200, "/deliveries/{id}"},
		{f.adminToken, "GET", "/deliveries/" + badDelivery, nil, 200, "/deliveries/{id}"},
		{f.miaToken, "GET", "/deliveries/" + goodDelivery, nil, 404, "/deliveries/{id}"},
		{f.adminToken, "POST", "/deliveries/" + goodDelivery + "/resend", nil, 202, "/deliveries/{id}/resend"},
		{f.adminToken, "POST", "/deliveries/" + badDelivery + "/resend", nil, 409, "/deliveries/{id}/resend"},
		{f.miaToken, "POST", "/deliveries/" + goodDelivery + "/resend", nil, 404, "/deliveries/{id}/resend"},
		{f.adminToken, "GET", "/webhooks/" + bad.ID, nil, 200, "/webhooks/{id}"},
		{f.adminToken, "GET", "/webhooks/" + good.ID, nil, 200, "/webhooks/{id}"},
		{f.adminToken, "GET", "/webhooks/" + idle.ID, nil, 200, "/webhooks/{id}"},
		{f.adminToken, "GET", "/webhooks", nil, 200, "/webhooks"},
	}
	openAPIWantDocumented(t, doc, "POST /events → 202", "POST", "/events", first)
	openAPIWantDocumented(t, doc, "POST /events (replayed) → 202", "POST", "/events", replay)
	for _, c := range cases {
		name := c.method + " " + c.path + " → " + fmt.Sprint(c.status)
		if len(name) > 120 {
			name = name[:120] + "…"
		}
		r := f.api(c.token, c.method, openAPIPrefix+c.path, c.body)
		if r.Status != c.status {
			t.Errorf("%s: got %d\n%s", name, r.Status, r.Body)
			continue
		}
		openAPIWantDocumented(t, doc, name, c.method, c.docPath, r)
	}

	// The document names the headers a publish may take and give.
	publish := doc.raw.(map[string]any)["paths"].(map[string]any)["/events"].(map[string]any)["post"].(map[string]any)
	params, _ := json.Marshal(publish["parameters"])
	resp202, _ := json.Marshal(publish["responses"].(map[string]any)["202"])
	if !strings.Contains(string(params), "IdempotencyKey") || !strings.Contains(string(resp202), "Idempotent-Replayed") {
		t.Errorf("POST /events does not document Idempotency-Key and Idempotent-Replayed")
	}
}

// An Idempotency-Key that is not printable text is refused before anything is stored (on
// PostgreSQL its bytes would not even fit the key's text column).
func TestAPIPublishRefusesUnprintableIdempotencyKey(t *testing.T) {
	f := newWebhookFixture(t)
	body := map[string]any{"event": "TODO_CREATED", "projectId": f.alpha.ID}
	for _, key := range []string{"k\xff", "tab\there"} {
		r := f.publishWithKey(t, f.adminToken, "/api/v1/events", key, body)
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "Idempotency-Key") {
			t.Errorf("key %q: status %d, want 400 naming Idempotency-Key\n%s", key, r.Status, r.Body)
		}
	}
	if n := len(f.storedEvents(t)); n != 0 {
		t.Errorf("%d events stored, want none", n)
	}
}
