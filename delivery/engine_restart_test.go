package delivery_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"hookyard/delivery"
	"hookyard/store"
)

// Deliveries that failed while the receiver was down stay pending across a stop; a new
// engine on the same database sends them once the receiver is back (SPEC §2 Durability).
func TestEngineResumesPendingDeliveriesAfterRestart(t *testing.T) {
	w := newWorld(t)
	url, addr := closedPortURL(t)
	h := w.hook("down", url, nil)
	first := w.start(engineOpts{cfg: delivery.Config{RetrySchedule: []time.Duration{time.Second, time.Second, time.Second, time.Second}}})
	pubs := w.publish(first, w.ev("TODO_CREATED"), w.ev("TODO_MOVED"), w.ev("TODO_DELETED"))
	var ids []string
	for _, p := range pubs {
		d := w.waitStatus(w.deliveryOf(p.ID, h.ID).ID, store.DeliveryPending, 1)
		if !strings.HasPrefix(d.LastError, "Connection refused") {
			t.Errorf("first attempt error %q, want a refused connection", d.LastError)
		}
		ids = append(ids, d.ID)
	}
	first.stop(time.Second)
	for _, id := range ids {
		if d := w.delivery(id); d.Status != store.DeliveryPending || d.Attempts != 1 || d.LeaseUntil != nil || d.NextAttemptAt == nil {
			t.Errorf("after stop: %s status %s attempts %d lease %v next %v; want pending, 1, no lease, a next time",
				id, d.Status, d.Attempts, d.LeaseUntil, d.NextAttemptAt)
		}
	}

	rcv := newHookServerAt(t, addr, nil)
	w.start(engineOpts{})
	for _, id := range ids {
		w.waitStatus(id, store.DeliverySucceeded, 2)
		as := w.attempts(id)
		if len(as) != 2 || as[0].OK || !strings.HasPrefix(as[0].Error, "Connection refused") || !as[1].OK || as[1].Number != 2 {
			t.Errorf("%s attempts = %+v, want a refused one then a success numbered 2", id, as)
		}
	}
	hits := rcv.requests()
	if len(hits) != 3 {
		t.Fatalf("receiver got %d requests, want 3", len(hits))
	}
	seen := map[string]bool{}
	for _, hit := range hits {
		seen[hit.header.Get("webhook-id")] = true
		if hit.attempt() != 2 {
			t.Errorf("resumed request carries X-Hookyard-Attempt %d, want 2", hit.attempt())
		}
	}
	for _, id := range ids {
		if !seen[id] {
			t.Errorf("no request with webhook-id %s", id)
		}
	}
}

// A crash leaves deliveries leased to the dead process; the next start releases the leases
// and sends them (at-least-once).
func TestEngineSendsDeliveriesLeasedAtACrash(t *testing.T) {
	w := newWorld(t)
	rcv := newHookServer(t, nil)
	h := w.hook("ok", rcv.URL+"/hook", nil)
	// What a publish writes just before a kill -9: the event and its delivery, leased.
	now := time.Now()
	lease := now.Add(time.Hour)
	ev := store.Event{ID: w.st.NextID("evt"), Type: "TODO_CREATED", OrganizationID: w.org.ID, ProjectID: w.prj.ID,
		PublisherID: w.admin.ID, CreatedAt: now}
	d := store.Delivery{ID: w.st.NextID("dlv"), EventID: ev.ID, WebhookID: h.ID, EventType: ev.Type, CreatedAt: now,
		NextAttemptAt: &now, LeaseUntil: &lease}
	if err := w.st.Publish(w.ctx, store.Publication{Events: []store.Event{ev}, Deliveries: []store.Delivery{d}}); err != nil {
		t.Fatal(err)
	}
	w.start(engineOpts{})
	w.waitStatus(d.ID, store.DeliverySucceeded, 1)
	hits := rcv.requests()
	if len(hits) != 1 || hits[0].header.Get("webhook-id") != d.ID || hits[0].attempt() != 1 || hits[0].eventID() != ev.ID {
		t.Errorf("requests after restart = %d (first: webhook-id %q attempt %d event %q), want one for %s",
			len(hits), hits[0].header.Get("webhook-id"), hits[0].attempt(), hits[0].eventID(), d.ID)
	}
}

// Stop waits for attempts in flight until its deadline, then cancels them: the delivery
// stays pending with no attempt recorded, and the next engine sends it with the same
// webhook-id.
func TestEngineStopAtDeadlineLeavesDeliveryPending(t *testing.T) {
	w := newWorld(t)
	rcv := newHookServer(t, nil)
	rcv.answer = func(_ http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			rcv.hang(r)
		}
	}
	h := w.hook("hangs once", rcv.URL+"/hook", nil)
	e := w.start(engineOpts{cfg: delivery.Config{RequestTimeout: time.Minute}, clientTimeout: time.Minute})
	pub := w.publish(e, w.ev("TODO_CREATED"))[0]
	d := w.deliveryOf(pub.ID, h.ID)
	waitUntil(t, "the request to hang", func() bool { a, _ := rcv.concurrency(); return a == 1 })

	const deadline = 200 * time.Millisecond
	began := time.Now()
	e.stop(deadline)
	took := time.Since(began)
	if took < deadline-10*time.Millisecond || took > deadline+500*time.Millisecond {
		t.Errorf("Stop took %v with a %v deadline and a hanging request", took, deadline)
	}
	got := w.delivery(d.ID)
	if got.Status != store.DeliveryPending || got.Attempts != 0 || got.LeaseUntil != nil || got.LastError != "" {
		t.Errorf("after stop: status %s attempts %d lease %v last error %q; want pending, 0, none, \"\"",
			got.Status, got.Attempts, got.LeaseUntil, got.LastError)
	}
	if as := w.attempts(d.ID); len(as) != 0 {
		t.Errorf("%d attempts recorded for the cancelled try, want 0: %+v", len(as), as)
	}
	if wh := w.webhook(h.ID); wh.ConsecutiveFailures != 0 || wh.LastFailureAt != nil {
		t.Errorf("cancelled try counted as a failure: %d consecutive, last at %v", wh.ConsecutiveFailures, wh.LastFailureAt)
	}

	w.start(engineOpts{})
	w.waitStatus(d.ID, store.DeliverySucceeded, 1)
	hits := rcv.requests()
	if len(hits) != 2 || hits[1].header.Get("webhook-id") != d.ID || hits[1].attempt() != 1 {
		t.Errorf("after restart: %d requests; want the same delivery sent again as attempt 1", len(hits))
	}
}

// Stop lets an attempt in flight finish when it answers before the deadline, and records it.
func TestEngineStopFinishesAttemptsInFlight(t *testing.T) {
	w := newWorld(t)
	rcv := newHookServer(t, func(rw http.ResponseWriter, _ *http.Request, _ int) {
		time.Sleep(150 * time.Millisecond)
		rw.WriteHeader(http.StatusAccepted)
	})
	h := w.hook("slow", rcv.URL+"/hook", nil)
	e := w.start(engineOpts{})
	pub := w.publish(e, w.ev("TODO_CREATED"))[0]
	waitUntil(t, "the request to arrive", func() bool { return rcv.count() == 1 })
	e.stop(5 * time.Second)
	d := w.deliveryOf(pub.ID, h.ID)
	if d.Status != store.DeliverySucceeded || d.Attempts != 1 || d.LastStatusCode != 202 {
		t.Errorf("after stop: status %s attempts %d last status %d; want succeeded 1 202", d.Status, d.Attempts, d.LastStatusCode)
	}
}

// A stopped engine refuses new events instead of losing them.
func TestEnginePublishAfterStop(t *testing.T) {
	w := newWorld(t)
	w.hook("any", "http://127.0.0.1:1/hook", nil)
	e := w.start(engineOpts{})
	e.stop(time.Second)
	out, _, err := e.Publish(w.ctx, w.admin.ID, []delivery.EventInput{w.ev("TODO_CREATED")}, nil)
	if !errors.Is(err, delivery.ErrStopping) || out != nil {
		t.Errorf("Publish after Stop = %v, %v; want ErrStopping", out, err)
	}
	if n := w.countEvents(); n != 0 {
		t.Errorf("%d events stored after Stop, want 0", n)
	}
}

// Stop is safe to call twice (shutdown paths overlap: a signal and a failing server).
func TestEngineStopTwice(t *testing.T) {
	w := newWorld(t)
	e := w.newEngine(engineOpts{})
	if err := e.Start(w.ctx); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	e.Stop(ctx)
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("second Stop panicked: %v", r)
		}
	}()
	e.Stop(ctx)
}
