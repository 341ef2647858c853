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

// During a secret rotation every secret of the 24 h window signs webhook-signature, and
// X-Signature stays made with the oldest of them, so a receiver that knows one secret keeps
// verifying. The engine must pick up the rotation without a restart; once the 24 h are over,
// or the rotation is finished, only the new secret signs, X-Signature included.
func TestEngineSignsWithEverySecretDuringRotation(t *testing.T) {
	w := newWorld(t)
	rcv := newHookServer(t, nil)
	h := w.hook("rotating", rcv.URL+"/hook", nil)
	e := w.start(engineOpts{})
	sent := func(what string) hit {
		t.Helper()
		n := rcv.count() + 1
		w.publish(e, w.ev("TODO_CREATED"))
		waitUntil(t, what, func() bool { return rcv.count() == n })
		return rcv.requests()[n-1]
	}
	// checkSigned fails unless the request is signed by exactly these secrets, X-Signature by blue.
	checkSigned := func(when string, got hit, blue string, secrets ...string) {
		t.Helper()
		if n := len(strings.Fields(got.header.Get("webhook-signature"))); n != len(secrets) {
			t.Errorf("%s: webhook-signature %q has %d signatures, want %d", when, got.header.Get("webhook-signature"), n, len(secrets))
		}
		for i, secret := range secrets {
			if err := verifyStandard(t, secret, got.body, got.header); err != nil {
				t.Errorf("%s: secret %d does not verify the delivery: %v", when, i+1, err)
			}
		}
		if sig := got.header.Get("X-Signature"); sig != independentBlueSignature(blue, got.body) {
			t.Errorf("%s: X-Signature is not keyed by the secret a one-secret receiver knows", when)
		}
	}
	first := h.Secret
	checkSigned("before the rotation", sent("the first request"), first, first)

	second := delivery.NewSecret()
	if _, err := w.st.RotateSecret(w.ctx, h.ID, second, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	checkSigned("during the rotation", sent("the second request"), first, second, first)

	// Rotating again within the 24 h: the first secret still signs, and still makes X-Signature.
	third := delivery.NewSecret()
	if _, err := w.st.RotateSecret(w.ctx, h.ID, third, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	checkSigned("during the second rotation", sent("the third request"), first, third, second, first)
	if got := w.webhook(h.ID).SigningSecrets(time.Now().Add(25 * time.Hour)); len(got) != 1 || got[0] != third {
		t.Errorf("25 h after the rotations %d secrets would sign, want only the newest", len(got))
	}

	// The first secret's 24 h ended (the row aged by hand, then any edit so the engine reads
	// it again): X-Signature moves to the next oldest, the second.
	w.sqlExec(`UPDATE webhooks SET previous_secrets = ? WHERE id = ?`, mustJSON(t, []map[string]any{
		{"secret": second, "expiresAt": time.Now().Add(time.Hour).UnixMilli()},
		{"secret": first, "expiresAt": time.Now().Add(-time.Hour).UnixMilli()},
	}), h.ID)
	renamed := "rotated"
	if _, err := w.st.UpdateWebhook(w.ctx, h.ID, store.WebhookChanges{Name: &renamed}); err != nil {
		t.Fatal(err)
	}
	after := sent("the fourth request")
	checkSigned("after the first secret's 24 h", after, second, third, second)
	if err := verifyStandard(t, first, after.body, after.header); err == nil {
		t.Errorf("after its 24 h the first secret still verifies the delivery")
	}

	// Finishing the rotation: only the newest signs, at once.
	if _, err := w.st.FinishRotation(w.ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	checkSigned("after finishing the rotation", sent("the fifth request"), third, third)
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
