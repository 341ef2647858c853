package handlers_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"hookyard/store"
)

// recoveryEnableAnswer is the 200 answer to POST /api/v1/webhooks/{id}/enable.
type recoveryEnableAnswer struct {
	apiWebhook
	HealthCheck struct {
		OK         bool   `json:"ok"`
		Event      string `json:"event"`
		StatusCode int    `json:"statusCode"`
	} `json:"healthCheck"`
	Replayed *int `json:"replayed"`
}

// recoveryOffWithMissed drives a webhook of Mia's that listens to everything into auto-disable
// with a failing receiver (two events fail or are cancelled), then publishes three events
// while it is off. It returns the webhook, the failed/cancelled events and the missed ones.
func recoveryOffWithMissed(t *testing.T, f *apiFixture, rcv *receiver) (hook apiWebhook, failed, missed []string) {
	t.Helper()
	hook = f.createWebhook(t, f.miaToken, map[string]any{"name": "CRM sync", "url": rcv.URL,
		"events": []string{}, "projectIds": []string{}})
	for _, ev := range []struct{ typ, project string }{{"TODO_CREATED", f.alpha.ID}, {"TODO_MOVED", f.apex.ID}} {
		p := f.recoveryPublish(t, f.adminToken, ev.typ, ev.project, map[string]any{"title": "before " + ev.typ})
		if p.Deliveries != 1 {
			t.Fatalf("%s made %d deliveries, want 1", ev.typ, p.Deliveries)
		}
		failed = append(failed, p.ID)
	}
	off := f.recoveryWaitOff(t, hook.ID)
	if off.Status != store.StatusUnhealthy || !strings.Contains(off.DisabledReason, "5 attempts failed") ||
		!strings.Contains(off.DisabledReason, "HTTP 500") {
		t.Fatalf("switched off as %s because %q; want UNHEALTHY after 5 failed attempts with HTTP 500", off.Status, off.DisabledReason)
	}
	for _, d := range f.recoveryDeliveries(t, store.DeliveryFilter{WebhookID: hook.ID}) {
		if d.Status != store.DeliveryFailed && d.Status != store.DeliveryCancelled {
			t.Fatalf("delivery %s of %s is %s after the switch-off, want failed or cancelled", d.ID, d.EventID, d.Status)
		}
	}
	sent := len(rcv.requests())
	for i, typ := range []string{"TODO_NAME_CHANGED", "TODO_DELETED", "TODO_TAG_ADDED"} {
		p := f.recoveryPublish(t, f.adminToken, typ, f.alpha.ID, map[string]any{"title": "while off", "n": i})
		if p.Deliveries != 0 {
			t.Errorf("an event published while the webhook is off made %d deliveries, want 0", p.Deliveries)
		}
		missed = append(missed, p.ID)
	}
	for _, id := range missed {
		by, err := f.store.MissedBy(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if !by[hook.ID] {
			t.Errorf("event %s published while the webhook was off is not kept as missed for it", id)
		}
		if ds := f.recoveryDeliveries(t, store.DeliveryFilter{EventID: id}); len(ds) != 0 {
			t.Errorf("event %s published while the webhook was off has deliveries %+v", id, ds)
		}
	}
	if got := rcv.recoverySince(sent); len(got) != 0 {
		t.Errorf("the receiver got %d requests while the webhook was off", len(got))
	}
	return hook, failed, missed
}

// After an auto-disable, re-enabling with replay sends every failed, cancelled and missed
// event exactly once; doing it again sends nothing more.
func TestRecoveryReplayMissedExactlyOnce(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusInternalServerError, "down")
	hook, failed, missed := recoveryOffWithMissed(t, f, rcv)
	all := append(slices.Clone(failed), missed...)

	sent := len(rcv.requests())
	rcv.answer(http.StatusOK, "thanks")
	r := f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+hook.ID+"/enable", map[string]any{"replayMissed": true}, http.StatusOK)
	on := decode[recoveryEnableAnswer](t, r)
	if !on.Enabled || on.Status != "HEALTHY" || !on.HealthCheck.OK {
		t.Errorf("after enable: enabled %v status %s health check %+v", on.Enabled, on.Status, on.HealthCheck)
	}
	if on.Replayed == nil || *on.Replayed != len(all) {
		t.Errorf("replayed %v, want %d (2 failed or cancelled + 3 missed)\n%s", on.Replayed, len(all), r.Body)
	}

	recoveryWait(t, "every replayed event reaches the receiver", func() bool {
		return len(recoveryCountByEvent(t, rcv.recoverySince(sent))) >= len(all)
	})
	got, _ := f.recoverySentinel(t, hook.ID, rcv, sent)
	recoveryWantOnceEach(t, "after enable with replayMissed", recoveryCountByEvent(t, got), all...)
	if n := recoveryHealthChecks(got); n != 1 {
		t.Errorf("%d health checks, want 1", n)
	}
	for _, id := range missed {
		by, err := f.store.MissedBy(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if by[hook.ID] {
			t.Errorf("event %s is still kept as missed after it was replayed", id)
		}
	}
	if st := f.storedWebhook(t, hook.ID); !st.Enabled || st.Status != store.StatusHealthy || st.ConsecutiveFailures != 0 {
		t.Errorf("after the replay: enabled %v status %s consecutive failures %d", st.Enabled, st.Status, st.ConsecutiveFailures)
	}

	// Again: the health check goes out, nothing is replayed twice.
	sent = len(rcv.requests())
	r = f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+hook.ID+"/enable", map[string]any{"replayMissed": true}, http.StatusOK)
	if again := decode[recoveryEnableAnswer](t, r); again.Replayed == nil || *again.Replayed != 0 {
		t.Errorf("second enable with replay: replayed %v, want 0\n%s", again.Replayed, r.Body)
	}
	got, _ = f.recoverySentinel(t, hook.ID, rcv, sent)
	if got := recoveryEventRequests(got); len(got) != 0 {
		t.Errorf("a second enable with replay sent %d events again: %v", len(got), recoveryCountByEvent(t, got))
	}
	if n := f.recoveryDeliveries(t, store.DeliveryFilter{WebhookID: hook.ID}); len(n) != len(all)+4 {
		t.Errorf("%d deliveries in all, want %d (2 first tries + %d replays + 2 sentinels)", len(n), len(all)+4, len(all))
	}
}

// Re-enabling without replay sends none of the missed events; the webhook page then offers
// to replay them, and pressing it sends each exactly once.
func TestRecoveryReenableWithoutReplayThenReplayFromPage(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusInternalServerError, "down")
	hook, failed, missed := recoveryOffWithMissed(t, f, rcv)
	all := append(slices.Clone(failed), missed...)

	sent := len(rcv.requests())
	rcv.answer(http.StatusOK, "thanks")
	r := f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+hook.ID+"/enable", map[string]any{"replayMissed": false}, http.StatusOK)
	if on := decode[recoveryEnableAnswer](t, r); !on.Enabled || on.Replayed == nil || *on.Replayed != 0 {
		t.Errorf("enable without replay: enabled %v replayed %v, want on and 0\n%s", on.Enabled, on.Replayed, r.Body)
	}
	got, _ := f.recoverySentinel(t, hook.ID, rcv, sent)
	if evs := recoveryEventRequests(got); len(evs) != 0 {
		t.Errorf("enable without replay sent %d events: %v", len(evs), recoveryCountByEvent(t, evs))
	}
	if n := recoveryHealthChecks(got); n != 1 {
		t.Errorf("%d health checks, want 1", n)
	}

	b := f.signedInAs(f.mia)
	p := b.get("/webhooks/" + hook.ID)
	wantPageStatus(t, p, http.StatusOK)
	offer := recoveryText(p, "replay-offer")
	if !strings.Contains(offer, "5 events") || !strings.Contains(recoveryText(p, "replay-missed"), "Replay 5 missed") {
		t.Fatalf("replay offer %q, want 5 events (2 failed or cancelled, 3 missed) to replay", offer)
	}
	if recoveryByTestID(p, "disabled-notice").Length() != 0 {
		t.Errorf("the page still says the webhook is off")
	}

	sent = len(rcv.requests())
	p = b.post("/webhooks/"+hook.ID+"/replay", url.Values{"missed": {"1"}})
	wantPageStatus(t, p, http.StatusOK)
	if txt := recoveryText(p, "replayed"); !strings.Contains(txt, "5 events are being sent again") {
		t.Errorf("after replay: notice %q, want 5 events being sent", txt)
	}
	if recoveryByTestID(p, "replay-offer").Length() != 0 {
		t.Errorf("the replay offer is still shown after replaying: %q", recoveryText(p, "replay-offer"))
	}
	recoveryWait(t, "every replayed event reaches the receiver", func() bool {
		return len(recoveryCountByEvent(t, rcv.recoverySince(sent))) >= len(all)
	})
	got, _ = f.recoverySentinel(t, hook.ID, rcv, sent)
	recoveryWantOnceEach(t, "after Replay missed", recoveryCountByEvent(t, got), all...)

	// Pressing it again (a second tab, a double click) sends nothing.
	sent = len(rcv.requests())
	p = b.post("/webhooks/"+hook.ID+"/replay", url.Values{"missed": {"1"}})
	wantPageStatus(t, p, http.StatusOK)
	if fl := flashText(p); !strings.Contains(fl, "nothing to replay") {
		t.Errorf("second replay: flash %q, want “nothing to replay”", fl)
	}
	if got, _ := f.recoverySentinel(t, hook.ID, rcv, sent); len(got) != 0 {
		t.Errorf("a second replay sent %d requests", len(got))
	}
	p = b.get("/webhooks/" + hook.ID)
	if recoveryByTestID(p, "replay-offer").Length() != 0 {
		t.Errorf("the page offers to replay again: %q", recoveryText(p, "replay-offer"))
	}
}

// POST /api/v1/webhooks/{id}/replay resends everything received or missed since a time.
func TestRecoveryReplaySince(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, "ok")
	hook := f.createWebhook(t, f.miaToken, map[string]any{"name": "Mirror", "url": rcv.URL, "events": []string{}, "projectIds": []string{}})
	path := "/api/v1/webhooks/" + hook.ID + "/replay"

	old := f.recoveryPublish(t, f.adminToken, "TODO_CREATED", f.alpha.ID, map[string]any{"title": "old"})
	f.recoverySettled(t, hook.ID)
	recoveryWait(t, "the old event arrives", func() bool { return len(rcv.requests()) == 1 })
	// Stored times are in milliseconds: keep "since" clear of the old event's.
	time.Sleep(10 * time.Millisecond)
	since := time.Now().UTC()
	time.Sleep(10 * time.Millisecond)
	e1 := f.recoveryPublish(t, f.adminToken, "TODO_MOVED", f.alpha.ID, map[string]any{"title": "one"})
	e2 := f.recoveryPublish(t, f.adminToken, "TODO_DELETED", f.apex.ID, map[string]any{"title": "two"})
	f.recoverySettled(t, hook.ID)
	// An event missed while it was off counts too.
	f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+hook.ID+"/disable", nil, http.StatusOK)
	m := f.recoveryPublish(t, f.adminToken, "TODO_CREATED", f.apex.ID, map[string]any{"title": "missed"})
	if m.Deliveries != 0 {
		t.Fatalf("event for a switched-off webhook made %d deliveries", m.Deliveries)
	}

	// Switched off: 409, nothing stored or sent.
	before := len(f.recoveryDeliveries(t, store.DeliveryFilter{}))
	wantProblem(t, f.api(f.miaToken, http.MethodPost, path, map[string]any{"since": since.Format(time.RFC3339Nano)}), http.StatusConflict)
	if after := len(f.recoveryDeliveries(t, store.DeliveryFilter{})); after != before {
		t.Errorf("a refused replay stored %d deliveries", after-before)
	}

	f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+hook.ID+"/enable", map[string]any{"replayMissed": false}, http.StatusOK)
	recoveryWait(t, "e1, e2 and the health check arrive", func() bool { return len(rcv.requests()) == 4 })

	// Bad since: 422 naming the field; another member's webhook: 404.
	for _, body := range []any{map[string]any{"since": "yesterday"}, map[string]any{"since": "2026-13-45T99:00:00Z"}, map[string]any{}} {
		wantFieldErrors(t, f.api(f.miaToken, http.MethodPost, path, body), "since")
	}
	wantProblem(t, f.api(f.ottoToken, http.MethodPost, path, map[string]any{"since": since.Format(time.RFC3339Nano)}), http.StatusNotFound)
	if after := len(f.recoveryDeliveries(t, store.DeliveryFilter{})); after != before {
		t.Errorf("refused replays stored %d deliveries", after-before)
	}

	sent := len(rcv.requests())
	r := f.api(f.miaToken, http.MethodPost, path, map[string]any{"since": since.Format(time.RFC3339Nano)})
	if r.Status != http.StatusAccepted && r.Status != http.StatusOK {
		t.Fatalf("replay since: status %d\n%s", r.Status, r.Body)
	}
	if n := decode[struct {
		Replayed *int `json:"replayed"`
	}](t, r).Replayed; n == nil || *n != 3 {
		t.Errorf("replayed %v, want 3 (two received and one missed since then)\n%s", n, r.Body)
	}
	recoveryWait(t, "the replayed events arrive", func() bool { return len(rcv.recoverySince(sent)) >= 3 })
	got, sentinel := f.recoverySentinel(t, hook.ID, rcv, sent)
	recoveryWantOnceEach(t, "replay since", recoveryCountByEvent(t, got), e1.ID, e2.ID, m.ID)
	if n := recoveryCountByEvent(t, rcv.requests())[old.ID]; n != 1 {
		t.Errorf("the event from before “since” arrived %d times, want 1", n)
	}

	// The page's "Replay since" form takes a UTC datetime-local; a bad one changes nothing.
	b := f.signedInAs(f.mia)
	sent = len(rcv.requests())
	p := b.post("/webhooks/"+hook.ID+"/replay", url.Values{"since": {"not a time"}})
	wantPageStatus(t, p, http.StatusOK)
	if fl := flashText(p); !strings.Contains(fl, "Choose the date and time") {
		t.Errorf("bad since: flash %q", fl)
	}
	p = b.post("/webhooks/"+hook.ID+"/replay", url.Values{"since": {since.Add(-time.Minute).Format("2006-01-02T15:04")}})
	wantPageStatus(t, p, http.StatusOK)
	if txt := recoveryText(p, "replayed"); !strings.Contains(txt, "5 events") {
		t.Errorf("replay since from the page: notice %q, want 5 events (old, e1, e2, missed, the sentinel)", txt)
	}
	recoveryWait(t, "the events replayed from the page arrive", func() bool { return len(rcv.recoverySince(sent)) >= 5 })
	f.recoverySettled(t, hook.ID)
	recoveryWantOnceEach(t, "replay since from the page", recoveryCountByEvent(t, rcv.recoverySince(sent)), old.ID, e1.ID, e2.ID, m.ID, sentinel)
}
