package delivery_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hookyard/delivery"
	"hookyard/store"
)

// A receiver that always fails gets exactly five attempts of a delivery; then the webhook is
// switched off as UNHEALTHY, its owner is told, its other pending deliveries are cancelled,
// and later events are kept as missed without a request (SPEC §2 Retries, Auto-disable,
// Missed events).
func TestEngineDisablesAfterFiveFailedAttempts(t *testing.T) {
	w := newWorld(t)
	rcv := newHookServer(t, status(http.StatusInternalServerError))
	h := w.hook("always failing", rcv.URL+"/hook", func(h *store.Webhook) { h.Events = []string{"TODO_CREATED"} })
	var mu sync.Mutex
	var told [][]string // what OnDisabled (the e-mail notice) was told
	e := w.start(engineOpts{cfg: delivery.Config{RetrySchedule: fastRetries, OnDisabled: func(_ context.Context, ids []string) {
		mu.Lock()
		defer mu.Unlock()
		told = append(told, ids)
	}}})

	// Another pending delivery of the webhook, not due for an hour, to be cancelled.
	carrier := w.publish(e, w.ev("TODO_MOVED"))[0]
	if carrier.Deliveries != 0 {
		t.Fatalf("TODO_MOVED made %d deliveries, want 0", carrier.Deliveries)
	}
	later := time.Now().Add(time.Hour)
	waiting := store.Delivery{ID: w.st.NextID("dlv"), EventID: carrier.ID, WebhookID: h.ID, EventType: "TODO_MOVED",
		CreatedAt: time.Now(), NextAttemptAt: &later}
	if err := w.st.AddDeliveries(w.ctx, []store.Delivery{waiting}); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	pub := w.publish(e, w.ev("TODO_CREATED"))[0]
	if pub.Deliveries != 1 {
		t.Fatalf("Deliveries = %d, want 1", pub.Deliveries)
	}
	d := w.deliveryOf(pub.ID, h.ID)
	d = w.waitStatus(d.ID, store.DeliveryFailed, 5)
	const wantErr = "HTTP 500 Internal Server Error"
	const wantReason = "5 attempts failed for TODO_CREATED: " + wantErr
	if d.LastStatusCode != 500 || d.LastError != wantErr || d.NextAttemptAt != nil {
		t.Errorf("delivery last status %d error %q next %v; want 500 %q nil", d.LastStatusCode, d.LastError, d.NextAttemptAt, wantErr)
	}

	// The receiver's view: five requests, numbered, one webhook-id.
	hits := rcv.requests()
	if len(hits) != 5 {
		t.Fatalf("receiver got %d requests, want 5", len(hits))
	}
	for i, hit := range hits {
		if hit.attempt() != i+1 || hit.header.Get("webhook-id") != d.ID || hit.header.Get("X-Hookyard-Event") != "TODO_CREATED" {
			t.Errorf("request %d: attempt %q webhook-id %q event %q; want %d %q TODO_CREATED", i+1,
				hit.header.Get("X-Hookyard-Attempt"), hit.header.Get("webhook-id"), hit.header.Get("X-Hookyard-Event"), i+1, d.ID)
		}
	}

	// The store's view of the attempts.
	as := w.attempts(d.ID)
	if len(as) != 5 {
		t.Fatalf("%d attempts stored, want 5", len(as))
	}
	for i, a := range as {
		if a.Number != i+1 || a.StatusCode != 500 || a.OK || a.Error != wantErr || a.WebhookID != h.ID {
			t.Errorf("attempt %d = number %d status %d ok %v error %q webhook %s", i+1, a.Number, a.StatusCode, a.OK, a.Error, a.WebhookID)
		}
		if got := a.RequestHeaders.Get("X-Hookyard-Attempt"); got != strconv.Itoa(i+1) {
			t.Errorf("attempt %d stored X-Hookyard-Attempt %q", i+1, got)
		}
		if i > 0 && a.StartedAt.Before(as[i-1].StartedAt) {
			t.Errorf("attempt %d started before attempt %d", i+1, i)
		}
	}

	// The webhook is off, with the reason, and its health counters show the failures.
	got := w.webhook(h.ID)
	if got.Enabled || got.Status != store.StatusUnhealthy || got.DisabledReason != wantReason {
		t.Errorf("webhook enabled %v status %s reason %q; want false UNHEALTHY %q", got.Enabled, got.Status, got.DisabledReason, wantReason)
	}
	if got.DisabledAt == nil || got.DisabledAt.Before(start.Truncate(time.Millisecond)) || got.DisabledAt.After(time.Now()) {
		t.Errorf("disabledAt = %v, want a time during the test", got.DisabledAt)
	}
	if got.ConsecutiveFailures != 5 || got.LastFailureAt == nil || !got.LastFailureAt.Equal(as[4].StartedAt) ||
		got.LastSuccessAt != nil || got.LastError != wantErr {
		t.Errorf("health: consecutive %d last failure %v (attempt 5 at %v) last success %v last error %q",
			got.ConsecutiveFailures, got.LastFailureAt, as[4].StartedAt, got.LastSuccessAt, got.LastError)
	}
	hours, err := w.st.WebhookHours(w.ctx, h.ID, start.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var sum store.HourStats
	for _, hs := range hours {
		sum.Attempts += hs.Attempts
		sum.Failures += hs.Failures
		sum.Succeeded += hs.Succeeded
		sum.Failed += hs.Failed
	}
	if sum.Attempts != 5 || sum.Failures != 5 || sum.Succeeded != 0 || sum.Failed != 1 {
		t.Errorf("hourly figures: %d attempts %d failures %d succeeded %d failed; want 5 5 0 1",
			sum.Attempts, sum.Failures, sum.Succeeded, sum.Failed)
	}

	// The owner gets a notice (no store method reads notifications yet: ask SQLite).
	if n := w.sqlCount(`SELECT COUNT(*) FROM notifications WHERE user_id = ? AND webhook_id = ?`, w.admin.ID, h.ID); n != 1 {
		t.Errorf("%d notifications for the owner, want 1", n)
	} else if text := w.sqlString(`SELECT text FROM notifications WHERE webhook_id = ?`, h.ID); !strings.Contains(text, wantReason) ||
		!strings.Contains(text, "always failing") {
		t.Errorf("notification text %q does not name the webhook and the reason", text)
	}

	// Its other pending delivery is cancelled, untried.
	if c := w.delivery(waiting.ID); c.Status != store.DeliveryCancelled || c.Attempts != 0 || c.NextAttemptAt != nil {
		t.Errorf("other delivery: status %s attempts %d next %v; want cancelled 0 nil", c.Status, c.Attempts, c.NextAttemptAt)
	}

	// Later events that match are kept as missed and send nothing; others are not missed.
	missedPub := w.publish(e, w.ev("TODO_CREATED"), w.ev("TODO_DELETED"))
	if missedPub[0].Deliveries != 0 || missedPub[1].Deliveries != 0 {
		t.Errorf("publishing to a switched-off webhook made %d and %d deliveries, want 0", missedPub[0].Deliveries, missedPub[1].Deliveries)
	}
	for i, want := range []map[string]bool{{h.ID: true}, {}} {
		missed, err := w.st.MissedBy(w.ctx, missedPub[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(missed) != len(want) || (len(want) == 1 && !missed[h.ID]) {
			t.Errorf("MissedBy(%s event) = %v, want %v", []string{"TODO_CREATED", "TODO_DELETED"}[i], missed, want)
		}
		if ds := w.deliveriesOf(missedPub[i].ID); len(ds) != 0 {
			t.Errorf("missed event has %d deliveries, want 0", len(ds))
		}
	}
	waitUntil(t, "the owner's e-mail notice", func() bool { mu.Lock(); defer mu.Unlock(); return len(told) > 0 })
	e.stop(time.Second)
	mu.Lock()
	if len(told) != 1 || len(told[0]) != 1 || told[0][0] != h.ID {
		t.Errorf("OnDisabled was told %v, want [[%s]]", told, h.ID)
	}
	mu.Unlock()
	if n := rcv.count(); n != 5 {
		t.Errorf("receiver got %d requests in all, want 5", n)
	}
	if msgs := w.webhook(h.ID); msgs.ConsecutiveFailures != 5 {
		t.Errorf("consecutive failures changed to %d after the switch-off", msgs.ConsecutiveFailures)
	}
}

// Once a delivery's last attempt has failed, the webhook is off: events queued behind that
// attempt must not be sent (they are cancelled, SPEC §2 Auto-disable). The database is kept
// busy for 300 ms after the final failure (another connection holds SQLite's write lock), as
// a retention batch or a large publish can.
func TestEngineSendsNothingAfterTheFinalFailure(t *testing.T) {
	w := newWorld(t)
	fifth := make(chan struct{})
	answer := make(chan struct{})
	rcv := newHookServer(t, func(rw http.ResponseWriter, r *http.Request, _ int) {
		if r.Header.Get("X-Hookyard-Attempt") == "5" {
			close(fifth)
			<-answer
		}
		rw.WriteHeader(http.StatusInternalServerError)
	})
	h := w.hook("failing", rcv.URL+"/hook", nil)
	e := w.start(engineOpts{cfg: delivery.Config{RetrySchedule: fastRetries, PerWebhook: 2}})
	first := w.publish(e, w.ev("TODO_CREATED"))[0]
	select {
	case <-fifth:
	case <-time.After(pollTimeout):
		t.Fatal("no fifth attempt")
	}
	// While the last attempt is in flight (and the failures hold the limit at one request),
	// three more events queue up for the webhook.
	queued := w.publish(e, w.ev("TODO_MOVED"), w.ev("TODO_MOVED"), w.ev("TODO_MOVED"))
	release := w.holdWriteLock()
	close(answer)
	time.Sleep(300 * time.Millisecond)
	release()
	waitUntil(t, "the webhook to be switched off", func() bool { return !w.webhook(h.ID).Enabled })
	e.stop(time.Second)

	if d := w.deliveryOf(first.ID, h.ID); d.Status != store.DeliveryFailed || d.Attempts != 5 {
		t.Errorf("first delivery: %s after %d attempts, want failed after 5", d.Status, d.Attempts)
	}
	for _, p := range queued {
		d := w.deliveryOf(p.ID, h.ID)
		if n := len(w.attempts(d.ID)); d.Status != store.DeliveryCancelled || d.Attempts != 0 || n != 0 {
			t.Errorf("queued delivery %s: %s, %d attempts counted, %d stored; want cancelled, 0, 0", d.ID, d.Status, d.Attempts, n)
		}
	}
	if n := rcv.count(); n != 5 {
		t.Errorf("receiver got %d requests; want only the 5 attempts of the first delivery", n)
	}
}
