package delivery_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"hookyard/delivery"
	"hookyard/store"
)

func eqFilter(path, value string) *store.PayloadFilter {
	return &store.PayloadFilter{Match: "all", Conditions: []store.FilterCondition{{Path: path, Op: "eq", Value: json.RawMessage(value)}}}
}

// Through the real engine, a webhook's filter is the fifth point of SPEC §1: only events whose
// content passes get a delivery and a request; a switched-off webhook keeps as missed only the
// events its filter lets through.
func TestEngineFiltersByContent(t *testing.T) {
	w := newWorld(t)
	rcv := newHookServer(t, nil)
	hooks := map[string]store.Webhook{}
	add := func(name string, f *store.PayloadFilter) {
		hooks[name] = w.hook(name, rcv.URL+"/"+name, func(h *store.Webhook) { h.Filter = f })
	}
	add("everything", nil)
	add("done", eqFilter("currentValue.status", `"Done"`))
	add("big-or-urgent", &store.PayloadFilter{Match: "any", Conditions: []store.FilterCondition{
		{Path: "currentValue.points", Op: "gte", Value: json.RawMessage(`8`)},
		{Path: "currentValue.tags", Op: "contains", Value: json.RawMessage(`"urgent"`)}}})
	add("status-changed", &store.PayloadFilter{Conditions: []store.FilterCondition{{Path: "currentValue.status", Op: "changed"}}})
	add("off-done", eqFilter("currentValue.status", `"Done"`))
	if _, err := w.st.DisableWebhook(w.ctx, hooks["off-done"].ID, store.StatusHealthy, "Off for the test."); err != nil {
		t.Fatal(err)
	}
	e := w.start(engineOpts{})
	sent := 0
	expect := func(prev, cur string, receivers []string, missed []string) {
		t.Helper()
		in := w.ev("TODO_MOVED")
		in.PreviousValue, in.CurrentValue = json.RawMessage(prev), json.RawMessage(cur)
		pub := w.publish(e, in)[0]
		var got []string
		for _, d := range w.deliveriesOf(pub.ID) {
			for name, h := range hooks {
				if h.ID == d.WebhookID {
					got = append(got, name)
				}
			}
		}
		sort.Strings(got)
		if want := slices.Sorted(slices.Values(receivers)); !slices.Equal(got, want) || pub.Deliveries != len(want) {
			t.Errorf("%s → %s: deliveries to %v (reported %d), want %v", prev, cur, got, pub.Deliveries, want)
		}
		m, err := w.st.MissedBy(w.ctx, pub.ID)
		if err != nil {
			t.Fatal(err)
		}
		var gotMissed []string
		for name, h := range hooks {
			if m[h.ID] {
				gotMissed = append(gotMissed, name)
			}
		}
		if !slices.Equal(gotMissed, missed) {
			t.Errorf("%s → %s: missed by %v, want %v", prev, cur, gotMissed, missed)
		}
		sent += len(receivers)
		waitUntil(t, "the requests", func() bool { return rcv.count() >= sent })
	}
	expect(`{"status": "Open"}`, `{"status": "Done", "points": 1}`, []string{"everything", "done", "status-changed"}, []string{"off-done"})
	expect(`{"status": "Done"}`, `{"status": "Done", "points": 9}`, []string{"everything", "done", "big-or-urgent"}, []string{"off-done"})
	expect(`null`, `{"status": "Open", "tags": ["urgent"]}`, []string{"everything", "big-or-urgent", "status-changed"}, nil)
	expect(`{"status": "Open"}`, `{"status": "Open"}`, []string{"everything"}, nil)
	expect(`null`, `null`, []string{"everything"}, nil)
	e.stop(time.Second)
	if n := rcv.count(); n != sent {
		t.Errorf("receiver got %d requests, want %d", n, sent)
	}
}

// A filter is checked again at every attempt, like the rest of Match: a retry of an event the
// filter now leaves out is cancelled, not sent.
func TestEngineRechecksTheFilterAtEachAttempt(t *testing.T) {
	w := newWorld(t)
	rcv := newHookServer(t, status(http.StatusInternalServerError))
	h := w.hook("done", rcv.URL, func(h *store.Webhook) { h.Filter = eqFilter("currentValue.status", `"Done"`) })
	e := w.start(engineOpts{cfg: delivery.Config{RetrySchedule: []time.Duration{300 * time.Millisecond, time.Minute, time.Minute, time.Minute}}})
	in := w.ev("TODO_MOVED")
	in.CurrentValue = json.RawMessage(`{"status": "Done"}`)
	pub := w.publish(e, in)[0]
	d := w.deliveryOf(pub.ID, h.ID)
	w.waitStatus(d.ID, store.DeliveryPending, 1)
	if _, err := w.st.UpdateWebhook(w.ctx, h.ID, store.WebhookChanges{Filter: store.Setting[*store.PayloadFilter]{Set: true,
		To: eqFilter("currentValue.status", `"Closed"`)}}); err != nil {
		t.Fatal(err)
	}
	got := w.waitStatus(d.ID, store.DeliveryCancelled, 1)
	if !strings.Contains(got.LastError, "filter") {
		t.Errorf("cancelled with %q, want the reason to name the filter", got.LastError)
	}
	if n := rcv.count(); n != 1 {
		t.Errorf("receiver got %d requests, want only the first attempt", n)
	}
}

// A webhook's extra headers go out on every attempt, retries included, and can never replace
// a header Hookyard sets itself, even if one was stored past the API's checks.
func TestEngineSendsExtraHeadersOnEveryAttempt(t *testing.T) {
	w := newWorld(t)
	rcv := newHookServer(t, func(rw http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			rw.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	h := w.hook("with headers", rcv.URL, func(h *store.Webhook) {
		h.Headers = map[string]string{"X-Api-Key": "k_123", "authorization": "Bearer abc", "X-Signature": "forged", "User-Agent": "forged"}
	})
	e := w.start(engineOpts{})
	pub := w.publish(e, w.ev("TODO_CREATED"))[0]
	w.waitStatus(w.deliveryOf(pub.ID, h.ID).ID, store.DeliverySucceeded, 2)
	hits := rcv.requests()
	if len(hits) != 2 {
		t.Fatalf("receiver got %d requests, want 2 (a failure and its retry)", len(hits))
	}
	for i, hit := range hits {
		if hit.header.Get("X-Api-Key") != "k_123" || hit.header.Get("Authorization") != "Bearer abc" {
			t.Errorf("attempt %d: headers %v, want the extra ones", i+1, hit.header)
		}
		if hit.header.Get("X-Signature") == "forged" || hit.header.Get("User-Agent") != engineUA {
			t.Errorf("attempt %d: a stored header replaced Hookyard's own: %v", i+1, hit.header)
		}
	}
	if a := w.attempts(w.deliveryOf(pub.ID, h.ID).ID); len(a) != 2 || a[0].RequestHeaders.Get("X-Api-Key") != "k_123" {
		t.Errorf("the stored attempts do not show the extra header as sent: %+v", a)
	}
}
