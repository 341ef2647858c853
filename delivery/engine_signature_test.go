package delivery_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"hookyard/delivery"
	"hookyard/store"
)

// independentBlueSignature is X-Signature computed here, not by the code under test.
func independentBlueSignature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func verifyStandard(t *testing.T, secret string, body []byte, h http.Header) error {
	t.Helper()
	v, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("standardwebhooks.NewWebhook: %v", err)
	}
	return v.Verify(body, h)
}

// Real deliveries carry the SPEC §3 payload with the event's values and the webhook's
// metadata, the SPEC §2 headers, and signatures that the Standard Webhooks library and an
// independent HMAC accept.
func TestEngineDeliveriesAreSignedAndCarryThePayload(t *testing.T) {
	w := newWorld(t)
	rcv := newHookServer(t, nil)
	other := w.project(w.org.ID, "Support")
	narrow := w.hook("narrow", rcv.URL+"/narrow", func(h *store.Webhook) {
		h.Events = []string{"TODO_MOVED", "TODO_CREATED"}
		h.ProjectIDs = []string{w.prj.ID, other.ID}
	})
	wide := w.hook("wide", rcv.URL+"/wide", nil)
	e := w.start(engineOpts{})

	in := delivery.EventInput{Type: "TODO_MOVED", OrganizationID: w.org.ID, ProjectID: w.prj.ID,
		PreviousValue: json.RawMessage(`{"list": "Backlog", "name": "Ship ✓ <b>"}`),
		CurrentValue:  json.RawMessage(`{"list":"Doing","name":"Ship ✓ <b>","points":1.5,"tags":[],"due":null}`)}
	nullPrev := delivery.EventInput{Type: "TODO_CREATED", OrganizationID: w.org.ID, ProjectID: w.prj.ID,
		CurrentValue: json.RawMessage(`{"name":"New"}`)}
	pubs := w.publish(e, in, nullPrev)
	if pubs[0].Deliveries != 2 || pubs[1].Deliveries != 2 {
		t.Fatalf("Deliveries = %d, %d; want 2, 2", pubs[0].Deliveries, pubs[1].Deliveries)
	}
	for _, p := range pubs {
		for _, hk := range []store.Webhook{narrow, wide} {
			w.waitStatus(w.deliveryOf(p.ID, hk.ID).ID, store.DeliverySucceeded, 1)
		}
	}

	type want struct {
		pub     delivery.Published
		in      delivery.EventInput
		hook    store.Webhook
		meta    string
		prevRaw string
	}
	var cases []want
	for i, p := range pubs {
		inp := []delivery.EventInput{in, nullPrev}[i]
		prev := string(inp.PreviousValue)
		if prev == "" {
			prev = "null"
		}
		cases = append(cases,
			want{p, inp, narrow, `{"events":["TODO_CREATED","TODO_MOVED"],"projectIds":` + mustJSON(t, sortedPair(w.prj.ID, other.ID)) + `}`, prev},
			want{p, inp, wide, `{"events":[],"projectIds":[]}`, prev})
	}
	hits := rcv.requests()
	for _, c := range cases {
		d := w.deliveryOf(c.pub.ID, c.hook.ID)
		var got *hit
		for i := range hits {
			if hits[i].header.Get("webhook-id") == d.ID {
				got = &hits[i]
			}
		}
		if got == nil {
			t.Errorf("no request with webhook-id %s (%s to %s)", d.ID, c.pub.Event, c.hook.Name)
			continue
		}
		if got.path != "/"+c.hook.Name {
			t.Errorf("delivery %s went to %s, want /%s", d.ID, got.path, c.hook.Name)
		}

		// Headers (SPEC §2 Request).
		for name, value := range map[string]string{
			"Content-Type":       "application/json",
			"User-Agent":         engineUA,
			"X-Hookyard-Event":   c.pub.Event,
			"X-Hookyard-Attempt": "1",
			"webhook-id":         d.ID,
		} {
			if v := got.header.Get(name); v != value {
				t.Errorf("%s: header %s = %q, want %q", d.ID, name, v, value)
			}
		}
		ts, err := strconv.ParseInt(got.header.Get("webhook-timestamp"), 10, 64)
		if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Second {
			t.Errorf("%s: webhook-timestamp %q is not the Unix seconds of the attempt", d.ID, got.header.Get("webhook-timestamp"))
		}

		// Signatures.
		if err := verifyStandard(t, c.hook.Secret, got.body, got.header); err != nil {
			t.Errorf("%s: Standard Webhooks library rejects the delivery: %v", d.ID, err)
		}
		if err := verifyStandard(t, delivery.NewSecret(), got.body, got.header); err == nil {
			t.Errorf("%s: a different secret verifies the delivery", d.ID)
		}
		if sig := got.header.Get("X-Signature"); sig != independentBlueSignature(c.hook.Secret, got.body) {
			t.Errorf("%s: X-Signature %q is not hex HMAC-SHA256 of the body keyed by the secret", d.ID, sig)
		}
		if strings.Contains(string(got.body), c.hook.Secret) || strings.Contains(string(got.body), strings.TrimPrefix(c.hook.Secret, "whsec_")) {
			t.Errorf("%s: the payload contains the secret", d.ID)
		}

		// Payload (SPEC §3).
		ts3 := c.pub.CreatedAt.UTC().Truncate(time.Millisecond)
		wantBody := `{
			"id": ` + mustJSON(t, c.pub.ID) + `,
			"event": ` + mustJSON(t, c.pub.Event) + `,
			"timestamp": ` + mustJSON(t, ts3.Format("2006-01-02T15:04:05.000")+"Z") + `,
			"organizationId": ` + mustJSON(t, w.org.ID) + `,
			"projectId": ` + mustJSON(t, w.prj.ID) + `,
			"webhook": {"id": ` + mustJSON(t, c.hook.ID) + `, "url": ` + mustJSON(t, c.hook.URL) + `,
				"status": "HEALTHY", "enabled": true, "metadata": ` + c.meta + `},
			"previousValue": ` + c.prevRaw + `,
			"currentValue": ` + string(c.in.CurrentValue) + `
		}`
		var gotV, wantV any
		if err := json.Unmarshal(got.body, &gotV); err != nil {
			t.Errorf("%s: body is not JSON: %v", d.ID, err)
			continue
		}
		if err := json.Unmarshal([]byte(wantBody), &wantV); err != nil {
			t.Fatalf("test's expected body: %v", err)
		}
		if !reflect.DeepEqual(gotV, wantV) {
			t.Errorf("%s: payload\n got %s\nwant %s", d.ID, got.body, mustJSON(t, wantV))
		}
		if !regexp.MustCompile(`"timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"`).Match(got.body) {
			t.Errorf("%s: timestamp is not RFC 3339 UTC with milliseconds: %s", d.ID, got.body)
		}
		stored, err := w.st.Event(w.ctx, c.pub.ID)
		if err != nil || !stored.CreatedAt.Equal(ts3) {
			t.Errorf("%s: stored event created %v (err %v), payload says %v", d.ID, stored.CreatedAt, err, ts3)
		}

		// The stored attempt shows what was sent.
		as := w.attempts(d.ID)
		if len(as) != 1 || !as[0].OK || as[0].StatusCode != 200 {
			t.Errorf("%s: attempts %+v, want one OK 200", d.ID, as)
			continue
		}
		for _, name := range []string{"webhook-id", "webhook-timestamp", "webhook-signature", "X-Signature", "X-Hookyard-Event", "User-Agent"} {
			if as[0].RequestHeaders.Get(name) != got.header.Get(name) {
				t.Errorf("%s: stored request header %s = %q, sent %q", d.ID, name, as[0].RequestHeaders.Get(name), got.header.Get(name))
			}
		}
	}
}

// During a secret rotation both secrets sign webhook-signature; X-Signature uses the new one.
// The engine must pick up the rotation without a restart, and once the 24 h grace period
// is over only the new secret signs.
func TestEngineSignsWithBothSecretsDuringRotation(t *testing.T) {
	w := newWorld(t)
	rcv := newHookServer(t, nil)
	h := w.hook("rotating", rcv.URL+"/hook", nil)
	e := w.start(engineOpts{})
	w.publish(e, w.ev("TODO_CREATED"))
	waitUntil(t, "the first request", func() bool { return rcv.count() == 1 })

	newSecret := delivery.NewSecret()
	if _, err := w.st.RotateSecret(w.ctx, h.ID, newSecret, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	w.publish(e, w.ev("TODO_CREATED"))
	waitUntil(t, "the second request", func() bool { return rcv.count() == 2 })
	hits := rcv.requests()

	if n := len(strings.Fields(hits[0].header.Get("webhook-signature"))); n != 1 {
		t.Errorf("before the rotation: %d signatures, want 1", n)
	}
	got := hits[1]
	if n := len(strings.Fields(got.header.Get("webhook-signature"))); n != 2 {
		t.Errorf("during the rotation: webhook-signature %q has %d signatures, want 2", got.header.Get("webhook-signature"), n)
	}
	for name, secret := range map[string]string{"old": h.Secret, "new": newSecret} {
		if err := verifyStandard(t, secret, got.body, got.header); err != nil {
			t.Errorf("the %s secret does not verify the delivery: %v", name, err)
		}
	}
	if sig := got.header.Get("X-Signature"); sig != independentBlueSignature(newSecret, got.body) {
		t.Errorf("X-Signature is not keyed by the new secret")
	}
	if got := w.webhook(h.ID).SigningSecrets(time.Now().Add(25 * time.Hour)); len(got) != 1 || got[0] != newSecret {
		t.Errorf("25 h after the rotation %d secrets would sign, want only the new one", len(got))
	}

	// 25 h later (the row aged by hand, then any edit so the engine reads it again) the old
	// secret no longer signs a real delivery.
	w.sqlExec(`UPDATE webhooks SET previous_secret_expires_at = ? WHERE id = ?`, time.Now().Add(-time.Hour).UnixMilli(), h.ID)
	renamed := "rotated"
	if _, err := w.st.UpdateWebhook(w.ctx, h.ID, store.WebhookChanges{Name: &renamed}); err != nil {
		t.Fatal(err)
	}
	w.publish(e, w.ev("TODO_CREATED"))
	waitUntil(t, "the third request", func() bool { return rcv.count() == 3 })
	after := rcv.requests()[2]
	if n := len(strings.Fields(after.header.Get("webhook-signature"))); n != 1 {
		t.Errorf("after the grace period: webhook-signature %q has %d signatures, want 1", after.header.Get("webhook-signature"), n)
	}
	if err := verifyStandard(t, newSecret, after.body, after.header); err != nil {
		t.Errorf("after the grace period the new secret does not verify the delivery: %v", err)
	}
	if err := verifyStandard(t, h.Secret, after.body, after.header); err == nil {
		t.Errorf("after the grace period the rotated-out secret still verifies the delivery")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sortedPair(a, b string) []string {
	if a > b {
		a, b = b, a
	}
	return []string{a, b}
}
