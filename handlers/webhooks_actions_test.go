package handlers_test

import (
	"encoding/json"
	"hookyard/delivery"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// The webhook actions of the API: test, disable, enable (with its health check) and
// rotate-secret, against real receivers on loopback.

// testAnswer is the answer of /test, and the healthCheck of /enable.
type testAnswer struct {
	OK           bool   `json:"ok"`
	Event        string `json:"event"`
	StatusCode   int    `json:"statusCode"`
	DurationMs   int64  `json:"durationMs"`
	Error        string `json:"error"`
	ResponseBody string `json:"responseBody"`
	Truncated    bool   `json:"truncated"`
}

func TestWebhookAPITestSendsSignedRequest(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, `{"received":true}`)
	w := f.createWebhook(t, f.miaToken, map[string]any{"name": "Mover", "url": rcv.URL,
		"events": []string{"TODO_MOVED"}, "projectIds": []string{f.alpha.ID}})

	r := f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+w.ID+"/test", map[string]any{"event": "TODO_MOVED"}, http.StatusOK)
	wantJSON(t, r, http.StatusOK)
	got := decode[testAnswer](t, r)
	if !got.OK || got.StatusCode != 200 || got.Event != "TODO_MOVED" || got.Error != "" || got.ResponseBody != `{"received":true}` || got.Truncated {
		t.Errorf("test answer %+v", got)
	}
	if got.DurationMs < 0 || got.DurationMs > 10_000 {
		t.Errorf("durationMs %d", got.DurationMs)
	}

	req := rcv.last(t, 1)
	if req.Path != "/hook" {
		t.Errorf("request went to %s, want /hook", req.Path)
	}
	checkSigned(t, req, "TODO_MOVED", w.Secret)
	if ua := req.Header.Get("User-Agent"); ua != "Hookyard/test" {
		t.Errorf("User-Agent %q, want Hookyard/test (the app's version)", ua)
	}
	p := payloadOf(t, req)
	if p.Event != "TODO_MOVED" || p.ProjectID != f.alpha.ID || p.OrganizationID != f.acme.ID {
		t.Errorf("payload event %q project %q organisation %q", p.Event, p.ProjectID, p.OrganizationID)
	}
	if p.Webhook.ID != w.ID || p.Webhook.URL != rcv.URL || p.Webhook.Status != "HEALTHY" || !p.Webhook.Enabled ||
		!slices.Equal(p.Webhook.Metadata.Events, []string{"TODO_MOVED"}) || !slices.Equal(p.Webhook.Metadata.ProjectIDs, []string{f.alpha.ID}) {
		t.Errorf("payload webhook %+v", p.Webhook)
	}
	// A moved record: the sample says where it was before and where it is now.
	if want := delivery.SampleFor("TODO_MOVED"); string(p.PreviousValue) != string(want.PreviousValue) || string(p.CurrentValue) != string(want.CurrentValue) {
		t.Errorf("values %s → %s, want the TODO_MOVED sample", p.PreviousValue, p.CurrentValue)
	}
	var current map[string]any
	if err := json.Unmarshal(p.CurrentValue, &current); err != nil || len(current) == 0 {
		t.Errorf("currentValue %s, want a sample object", p.CurrentValue)
	}

	// Without a body the test sends a record-created sample; each test has its own webhook-id.
	got = decode[testAnswer](t, f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+w.ID+"/test", nil, http.StatusOK))
	second := rcv.last(t, 2)
	if got.Event != "TODO_CREATED" || second.Header.Get("X-Hookyard-Event") != "TODO_CREATED" {
		t.Errorf("test without a body sent %q (%q)", got.Event, second.Header.Get("X-Hookyard-Event"))
	}
	checkSigned(t, second, "TODO_CREATED", w.Secret)
	if second.Header.Get("webhook-id") == req.Header.Get("webhook-id") {
		t.Errorf("two test requests share webhook-id %s", req.Header.Get("webhook-id"))
	}

	// The admin may test Mia's webhook; it is signed with Mia's webhook's secret.
	f.call(t, f.adminToken, http.MethodPost, "/api/v1/webhooks/"+w.ID+"/test", map[string]any{"event": "COMMENT_CREATED"}, http.StatusOK)
	checkSigned(t, rcv.last(t, 3), "COMMENT_CREATED", w.Secret)
}

func TestWebhookAPITestFailures(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusInternalServerError, "boom: database down")
	w := f.createWebhook(t, f.miaToken, map[string]any{"name": "Broken", "url": rcv.URL})
	path := "/api/v1/webhooks/" + w.ID + "/test"

	got := decode[testAnswer](t, f.call(t, f.miaToken, http.MethodPost, path, map[string]any{"event": "TODO_MOVED"}, http.StatusOK))
	if got.OK || got.StatusCode != 500 || !strings.Contains(got.Error, "500") || got.ResponseBody != "boom: database down" {
		t.Errorf("test against a failing receiver: %+v", got)
	}
	rcv.last(t, 1)

	// A redirect is a failure and is not followed.
	rcv.answer(http.StatusFound, "")
	got = decode[testAnswer](t, f.call(t, f.miaToken, http.MethodPost, path, nil, http.StatusOK))
	if got.OK || got.StatusCode != 302 || got.Error == "" {
		t.Errorf("test against a redirect: %+v", got)
	}
	rcv.last(t, 2)

	for _, tc := range []struct {
		name   string
		body   any
		status int
	}{
		{"unknown event", map[string]any{"event": "NOPE_HAPPENED"}, 422},
		{"health check event", map[string]any{"event": "WEBHOOK_HEALTH_CHECK"}, 422},
		{"invalid JSON", `{"event":`, 400},
		{"event not a string", `{"event": 1}`, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.api(f.miaToken, http.MethodPost, path, tc.body)
			if tc.status == 422 {
				wantFieldErrors(t, r, "event")
			} else {
				wantProblem(t, r, tc.status)
			}
		})
	}
	rcv.last(t, 2) // nothing more was sent

	// Nothing listens there.
	down := f.createWebhook(t, f.miaToken, map[string]any{"name": "Down", "url": "http://127.0.0.1:1/hook"})
	got = decode[testAnswer](t, f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+down.ID+"/test", nil, http.StatusOK))
	if got.OK || got.StatusCode != 0 || got.Error == "" {
		t.Errorf("test against a closed port: %+v", got)
	}
}

// Without --allow-private-targets a stored loopback URL is refused when dialled, with a
// plain reason, and nothing reaches it.
func TestWebhookAPITestRefusesPrivateTargetsAtDialTime(t *testing.T) {
	f := newAPIFixture(t)
	rcv := newReceiver(t, http.StatusOK, "should not be reached")
	w := f.putWebhook(t, f.mia, "Sneaky", rcv.URL, nil, nil)
	got := decode[testAnswer](t, f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+w.ID+"/test", nil, http.StatusOK))
	if got.OK || got.StatusCode != 0 || !strings.Contains(got.Error, "private") {
		t.Errorf("test against loopback: %+v, want a refusal that says why", got)
	}
	if n := len(rcv.requests()); n != 0 {
		t.Errorf("loopback receiver was reached %d times", n)
	}
	// Re-enabling it fails the same way.
	f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+w.ID+"/disable", nil, http.StatusOK)
	r := f.api(f.miaToken, http.MethodPost, "/api/v1/webhooks/"+w.ID+"/enable", nil)
	wantProblem(t, r, http.StatusConflict)
	if n := len(rcv.requests()); n != 0 {
		t.Errorf("loopback receiver was reached %d times", n)
	}
}

func TestWebhookAPIDisableEnable(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, "ok")
	w := f.createWebhook(t, f.miaToken, map[string]any{"name": "Hook", "url": rcv.URL,
		"events": []string{"TODO_CREATED"}, "projectIds": []string{f.alpha.ID}})
	path := "/api/v1/webhooks/" + w.ID
	start := time.Now().Add(-time.Second)

	// Disable.
	r := f.call(t, f.miaToken, http.MethodPost, path+"/disable", nil, http.StatusOK)
	wantJSON(t, r, http.StatusOK)
	off := decode[apiWebhook](t, r)
	if off.Enabled || off.DisabledReason == "" || off.DisabledAt == nil || off.DisabledAt.Before(start) {
		t.Fatalf("after disable: %+v, want enabled false with a reason and a time", off)
	}
	if off.Status != "HEALTHY" {
		t.Errorf("switched off by a person: status %q, want HEALTHY", off.Status)
	}
	if st := f.storedWebhook(t, w.ID); st.Enabled || st.DisabledAt == nil {
		t.Errorf("stored after disable: %+v", st)
	}
	if n := len(rcv.requests()); n != 0 {
		t.Errorf("disabling sent %d requests", n)
	}
	// Disabling again keeps the first time it went off.
	again := decode[apiWebhook](t, f.call(t, f.miaToken, http.MethodPost, path+"/disable", nil, http.StatusOK))
	if again.DisabledAt == nil || !again.DisabledAt.Equal(*off.DisabledAt) {
		t.Errorf("disabledAt moved from %v to %v", off.DisabledAt, again.DisabledAt)
	}

	// Enable against a failing receiver: 409 with the check's result; still off.
	rcv.answer(http.StatusInternalServerError, "not today")
	before := f.webhookState(t, w.ID)
	r = f.api(f.miaToken, http.MethodPost, path+"/enable", map[string]any{"replayMissed": false})
	p := wantProblem(t, r, http.StatusConflict)
	if !strings.Contains(p.Detail, "500") {
		t.Errorf("409 detail %q does not say what the receiver answered", p.Detail)
	}
	hc := decode[struct {
		HealthCheck *testAnswer `json:"healthCheck"`
	}](t, r).HealthCheck
	if hc == nil || hc.OK || hc.StatusCode != 500 || hc.Event != "WEBHOOK_HEALTH_CHECK" || hc.ResponseBody != "not today" || hc.Error == "" {
		t.Errorf("409 healthCheck %+v\n%s", hc, r.Body)
	}
	if after := f.webhookState(t, w.ID); after != before {
		t.Errorf("a failed re-enable changed the webhook:\nbefore %s\nafter  %s", before, after)
	}
	check := rcv.last(t, 1)
	checkSigned(t, check, "WEBHOOK_HEALTH_CHECK", w.Secret)
	if pl := payloadOf(t, check); pl.Event != "WEBHOOK_HEALTH_CHECK" || string(pl.PreviousValue) != "null" || string(pl.CurrentValue) != "null" {
		t.Errorf("health check payload event %q previousValue %s currentValue %s", pl.Event, pl.PreviousValue, pl.CurrentValue)
	}

	// Enable against a healthy receiver.
	rcv.answer(http.StatusNoContent, "")
	r = f.call(t, f.miaToken, http.MethodPost, path+"/enable", nil, http.StatusOK)
	wantJSON(t, r, http.StatusOK)
	on := decode[struct {
		apiWebhook
		HealthCheck testAnswer `json:"healthCheck"`
	}](t, r)
	if !on.Enabled || on.Status != "HEALTHY" || on.DisabledAt != nil || on.DisabledReason != "" {
		t.Errorf("after enable: %+v", on.apiWebhook)
	}
	if !on.HealthCheck.OK || on.HealthCheck.StatusCode != 204 || on.HealthCheck.Event != "WEBHOOK_HEALTH_CHECK" {
		t.Errorf("healthCheck %+v", on.HealthCheck)
	}
	if strings.Contains(string(r.Body), `"secret"`) {
		t.Errorf("enable answer has a secret: %s", r.Body)
	}
	if st := f.storedWebhook(t, w.ID); !st.Enabled || st.Status != "HEALTHY" || st.DisabledAt != nil {
		t.Errorf("stored after enable: %+v", st)
	}
	check = rcv.last(t, 2)
	checkSigned(t, check, "WEBHOOK_HEALTH_CHECK", w.Secret)
	pl := payloadOf(t, check)
	if pl.Event != "WEBHOOK_HEALTH_CHECK" || string(pl.PreviousValue) != "null" || string(pl.CurrentValue) != "null" {
		t.Errorf("health check payload event %q previousValue %s currentValue %s", pl.Event, pl.PreviousValue, pl.CurrentValue)
	}
	if pl.Webhook.ID != w.ID {
		t.Errorf("health check payload names webhook %q", pl.Webhook.ID)
	}

	// A webhook disabled for failing comes back healthy.
	if _, err := f.store.DisableWebhook(t.Context(), w.ID, "UNHEALTHY", "5 attempts failed for TODO_CREATED: HTTP 500"); err != nil {
		t.Fatal(err)
	}
	on = decode[struct {
		apiWebhook
		HealthCheck testAnswer `json:"healthCheck"`
	}](t, f.call(t, f.miaToken, http.MethodPost, path+"/enable", map[string]any{"replayMissed": true}, http.StatusOK))
	if !on.Enabled || on.Status != "HEALTHY" {
		t.Errorf("re-enabled unhealthy webhook: %+v", on.apiWebhook)
	}
	rcv.last(t, 3)

	wantProblem(t, f.api(f.miaToken, http.MethodPost, path+"/enable", `{"replayMissed":`), http.StatusBadRequest)
	rcv.last(t, 3)
}

func TestWebhookAPIRotateSecret(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, "ok")
	w := f.createWebhook(t, f.miaToken, map[string]any{"name": "Hook", "url": rcv.URL})
	path := "/api/v1/webhooks/" + w.ID
	first := w.Secret

	r := f.call(t, f.miaToken, http.MethodPost, path+"/rotate-secret", nil, http.StatusOK)
	wantJSON(t, r, http.StatusOK)
	rotated := decode[apiWebhook](t, r)
	second := rotated.Secret
	wantSecretFormat(t, second)
	if second == first {
		t.Fatal("rotate returned the same secret")
	}
	if rotated.ID != w.ID || rotated.Name != "Hook" || !rotated.Enabled {
		t.Errorf("rotate answer %+v", rotated)
	}
	st := f.storedWebhook(t, w.ID)
	if st.Secret != second || len(st.PreviousSecrets) != 1 || st.PreviousSecrets[0].Secret != first {
		t.Fatalf("stored secret %q previous %v", st.Secret, st.PreviousSecrets)
	}
	if left := time.Until(st.PreviousSecrets[0].ExpiresAt); left < 23*time.Hour || left > 25*time.Hour {
		t.Errorf("the old secret keeps signing for %v, want 24 h", left)
	}
	if rotated.RotationEndsAt == nil || !rotated.RotationEndsAt.Equal(st.PreviousSecrets[0].ExpiresAt) {
		t.Errorf("rotationEndsAt %v, want when the old secret stops signing (%v)", rotated.RotationEndsAt, st.PreviousSecrets[0].ExpiresAt)
	}

	// During the overlap a request carries both signatures; X-Signature stays on the old
	// secret, which a receiver that knows one secret still has.
	f.call(t, f.miaToken, http.MethodPost, path+"/test", map[string]any{"event": "TODO_MOVED"}, http.StatusOK)
	req := rcv.last(t, 1)
	if n := len(strings.Split(req.Header.Get("webhook-signature"), " ")); n != 2 {
		t.Errorf("webhook-signature %q, want two space-separated entries", req.Header.Get("webhook-signature"))
	}
	checkSigned(t, req, "TODO_MOVED", second, first)

	// Rotating again within the 24 h: all three sign, X-Signature still with the first.
	third := decode[apiWebhook](t, f.call(t, f.miaToken, http.MethodPost, path+"/rotate-secret", nil, http.StatusOK)).Secret
	if third == second || third == first {
		t.Fatal("second rotation reused a secret")
	}
	f.call(t, f.miaToken, http.MethodPost, path+"/test", nil, http.StatusOK)
	checkSigned(t, rcv.last(t, 2), "TODO_CREATED", third, second, first)

	// Finishing the rotation: only the newest signs.
	done := decode[apiWebhook](t, f.call(t, f.miaToken, http.MethodPost, path+"/finish-rotation", nil, http.StatusOK))
	if done.RotationEndsAt != nil || done.Secret != "" {
		t.Errorf("finish-rotation answered rotationEndsAt %v secret %q, want null and no secret", done.RotationEndsAt, done.Secret)
	}
	f.call(t, f.miaToken, http.MethodPost, path+"/test", nil, http.StatusOK)
	checkSigned(t, rcv.last(t, 3), "TODO_CREATED", third)
	wantProblem(t, f.api(f.ottoToken, http.MethodPost, path+"/finish-rotation", nil), http.StatusNotFound)

	// Another member cannot rotate it; the admin can.
	wantProblem(t, f.api(f.ottoToken, http.MethodPost, path+"/rotate-secret", nil), http.StatusNotFound)
	if f.storedWebhook(t, w.ID).Secret != third {
		t.Errorf("refused rotation changed the secret")
	}
	fourth := decode[apiWebhook](t, f.call(t, f.adminToken, http.MethodPost, path+"/rotate-secret", nil, http.StatusOK)).Secret
	if f.storedWebhook(t, w.ID).Secret != fourth {
		t.Errorf("admin's rotation not stored")
	}
}
