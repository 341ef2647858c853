package delivery_test

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"hookyard/delivery"
	"hookyard/store"
)

func respondJSON(out []delivery.Published) ([]byte, error) {
	return json.Marshal(map[string]any{"data": out})
}

// The same user and Idempotency-Key get the first answer again and store nothing new; a new
// key, or another user's same key, publishes again (SPEC §5 POST /events).
func TestEnginePublishIdempotency(t *testing.T) {
	w := newWorld(t)
	rcv := newHookServer(t, nil)
	w.hook("ok", rcv.URL+"/hook", nil)
	other := w.user("other@example.com", store.RoleAdmin)
	e := w.start(engineOpts{})

	var first []byte
	idem := &delivery.Idempotency{UserID: w.admin.ID, Key: "key-1", Respond: func(out []delivery.Published) ([]byte, error) {
		b, err := respondJSON(out)
		first = b
		return b, err
	}}
	out, replay, err := e.Publish(w.ctx, w.admin.ID, []delivery.EventInput{w.ev("TODO_CREATED")}, idem)
	if err != nil || replay != nil || len(out) != 1 || out[0].Deliveries != 1 {
		t.Fatalf("first publish = %+v, %q, %v", out, replay, err)
	}
	if want, _ := respondJSON(out); !bytes.Equal(first, want) {
		t.Fatalf("Respond got other values than Publish returned")
	}
	waitUntil(t, "the first request", func() bool { return rcv.count() == 1 })

	again := &delivery.Idempotency{UserID: w.admin.ID, Key: "key-1", Respond: respondJSON}
	out2, replay2, err := e.Publish(w.ctx, w.admin.ID, []delivery.EventInput{w.ev("TODO_MOVED"), w.ev("TODO_MOVED")}, again)
	if err != nil || out2 != nil || !bytes.Equal(replay2, first) {
		t.Errorf("repeated key: out %+v replay %q err %v; want nil, the first answer %q, nil", out2, replay2, err, first)
	}
	if n := w.countEvents(); n != 1 {
		t.Errorf("%d events stored after a repeated key, want 1", n)
	}

	for _, c := range []struct {
		user, key string
	}{{w.admin.ID, "key-2"}, {other.ID, "key-1"}} {
		out, replay, err := e.Publish(w.ctx, c.user, []delivery.EventInput{w.ev("TODO_CREATED")},
			&delivery.Idempotency{UserID: c.user, Key: c.key, Respond: respondJSON})
		if err != nil || replay != nil || len(out) != 1 {
			t.Errorf("user %s key %s: out %+v replay %q err %v; want a new event", c.user, c.key, out, replay, err)
		}
	}
	if n := w.countEvents(); n != 3 {
		t.Errorf("%d events stored, want 3", n)
	}
	waitUntil(t, "three requests", func() bool { return rcv.count() == 3 })
	e.stop(time.Second)
	if n := rcv.count(); n != 3 {
		t.Errorf("receiver got %d requests, want 3", n)
	}
}

// Concurrent publishes with one key store one event; every caller gets that event's answer.
func TestEnginePublishIdempotencyConcurrent(t *testing.T) {
	w := newWorld(t)
	e := w.start(engineOpts{})
	const callers = 8
	var wg sync.WaitGroup
	answers := make([][]byte, callers)
	fresh := make([]bool, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			out, replay, err := e.Publish(w.ctx, w.admin.ID, []delivery.EventInput{w.ev("TODO_CREATED")},
				&delivery.Idempotency{UserID: w.admin.ID, Key: "same", Respond: respondJSON})
			errs[i] = err
			if out != nil {
				fresh[i] = true
				answers[i], _ = respondJSON(out)
			} else {
				answers[i] = replay
			}
		})
	}
	wg.Wait()
	stored := 0
	for i := range callers {
		if errs[i] != nil {
			t.Errorf("caller %d: %v", i, errs[i])
		}
		if fresh[i] {
			stored++
		}
		if !bytes.Equal(answers[i], answers[0]) {
			t.Errorf("caller %d got %q, caller 0 got %q", i, answers[i], answers[0])
		}
	}
	if stored != 1 {
		t.Errorf("%d callers were told their event was stored, want 1", stored)
	}
	if n := w.countEvents(); n != 1 {
		t.Errorf("%d events stored, want 1", n)
	}
}

// A resend (a new delivery of the same event, stored then handed to the engine) makes a new
// request with the same payload and the same webhook-id (Standard Webhooks: it is "the same
// when the same webhook is being resent"), so receivers can deduplicate.
func TestEngineResendSendsANewDelivery(t *testing.T) {
	w := newWorld(t)
	rcv := newHookServer(t, nil)
	h := w.hook("ok", rcv.URL+"/hook", nil)
	e := w.start(engineOpts{})
	in := w.ev("TODO_CREATED")
	in.PreviousValue = json.RawMessage(`{ "name" : "Old" }`)
	pub := w.publish(e, in)[0]
	orig := w.waitStatus(w.deliveryOf(pub.ID, h.ID).ID, store.DeliverySucceeded, 1)

	ev, err := w.st.Event(w.ctx, pub.ID)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	resend := store.Delivery{ID: w.st.NextID("dlv"), EventID: ev.ID, WebhookID: h.ID, EventType: ev.Type,
		ResendOf: orig.ID, CreatedAt: now, NextAttemptAt: &now}
	if err := w.st.AddDeliveries(w.ctx, []store.Delivery{resend}); err != nil {
		t.Fatal(err)
	}
	e.Enqueue([]store.PendingWork{{Delivery: resend, Event: ev}})
	got := w.waitStatus(resend.ID, store.DeliverySucceeded, 1)
	if got.ResendOf != orig.ID {
		t.Errorf("ResendOf = %q, want %q", got.ResendOf, orig.ID)
	}
	hits := rcv.requests()
	if len(hits) != 2 {
		t.Fatalf("receiver got %d requests, want 2", len(hits))
	}
	if hits[0].header.Get("webhook-id") != orig.ID || hits[1].header.Get("webhook-id") != orig.ID {
		t.Errorf("webhook-ids %q, %q; want the first delivery's %q on both", hits[0].header.Get("webhook-id"), hits[1].header.Get("webhook-id"), orig.ID)
	}
	if got.MessageID != orig.ID {
		t.Errorf("the resend's stored message id is %q, want the first delivery's %q", got.MessageID, orig.ID)
	}
	if hits[1].attempt() != 1 {
		t.Errorf("resend carries X-Hookyard-Attempt %d, want 1", hits[1].attempt())
	}
	if !bytes.Equal(hits[0].body, hits[1].body) {
		t.Errorf("resend payload differs:\n first %s\nresend %s", hits[0].body, hits[1].body)
	}
	if d := w.delivery(orig.ID); d.Attempts != 1 || d.Status != store.DeliverySucceeded {
		t.Errorf("original delivery changed: %s after %d attempts", d.Status, d.Attempts)
	}
}

// Retention removes finished events with their deliveries and attempts, and keeps every
// event a pending delivery still needs.
func TestPruneOnceKeepsEventsWithPendingDeliveries(t *testing.T) {
	w := newWorld(t)
	rcv := newHookServer(t, nil)
	failing := newHookServer(t, status(500))
	ok := w.hook("ok", rcv.URL+"/hook", func(h *store.Webhook) { h.ProjectIDs = []string{w.prj.ID} })
	bad := w.hook("bad", failing.URL+"/hook", func(h *store.Webhook) { h.Events = []string{"TODO_MOVED"} })
	e := w.start(engineOpts{cfg: delivery.Config{RetrySchedule: slowRetries}})

	done := w.publish(e, w.ev("TODO_CREATED"))[0]  // ok only: succeeds
	pending := w.publish(e, w.ev("TODO_MOVED"))[0] // ok succeeds, bad stays pending
	tagged := w.publish(e, w.ev("TAG_CREATED"))[0] // ok only
	noDeliveries := w.publish(e, delivery.EventInput{Type: "TODO_CREATED", OrganizationID: w.org.ID,
		ProjectID: w.project(w.org.ID, "Unwatched").ID})[0]
	if noDeliveries.Deliveries != 0 {
		t.Fatalf("event in an unwatched project made %d deliveries", noDeliveries.Deliveries)
	}
	doneD := w.waitStatus(w.deliveryOf(done.ID, ok.ID).ID, store.DeliverySucceeded, 1)
	pendOK := w.waitStatus(w.deliveryOf(pending.ID, ok.ID).ID, store.DeliverySucceeded, 1)
	pendBad := w.waitStatus(w.deliveryOf(pending.ID, bad.ID).ID, store.DeliveryPending, 1)
	w.waitStatus(w.deliveryOf(tagged.ID, ok.ID).ID, store.DeliverySucceeded, 1)

	n, err := delivery.PruneOnce(w.ctx, w.st, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("PruneOnce removed %d events, want 3", n)
	}
	for _, id := range []string{done.ID, tagged.ID, noDeliveries.ID} {
		if _, err := w.st.Event(w.ctx, id); err != store.ErrNotFound {
			t.Errorf("finished event %s: %v, want ErrNotFound", id, err)
		}
		if ds := w.deliveriesOf(id); len(ds) != 0 {
			t.Errorf("finished event %s still has %d deliveries", id, len(ds))
		}
	}
	if as := w.attempts(doneD.ID); len(as) != 0 {
		t.Errorf("pruned delivery still has %d attempts", len(as))
	}
	if left := w.sqlCount(`SELECT COUNT(*) FROM attempts WHERE delivery_id NOT IN (SELECT id FROM deliveries)`); left != 0 {
		t.Errorf("%d attempts left without their delivery", left)
	}
	if _, err := w.st.Event(w.ctx, pending.ID); err != nil {
		t.Errorf("event with a pending delivery was pruned: %v", err)
	}
	if ds := w.deliveriesOf(pending.ID); len(ds) != 2 {
		t.Errorf("kept event has %d deliveries, want 2", len(ds))
	}
	for _, id := range []string{pendOK.ID, pendBad.ID} {
		if as := w.attempts(id); len(as) != 1 {
			t.Errorf("kept delivery %s has %d attempts, want 1", id, len(as))
		}
	}
	if n := w.countEvents(); n != 1 {
		t.Errorf("%d events left, want 1", n)
	}

	// A cutoff in the past removes nothing.
	if n, err := delivery.PruneOnce(w.ctx, w.st, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("PruneOnce(an hour ago) = %d, %v; want 0", n, err)
	}
}

// An Idempotency-Key older than the 24-hour window no longer repeats the first answer: the
// publish goes through as new (keys are only deleted after 48 h, so the old row is still
// there).
func TestEnginePublishReusesExpiredIdempotencyKey(t *testing.T) {
	w := newWorld(t)
	e := w.start(engineOpts{})
	idem := &delivery.Idempotency{UserID: w.admin.ID, Key: "daily", Respond: respondJSON}
	if _, _, err := e.Publish(w.ctx, w.admin.ID, []delivery.EventInput{w.ev("TODO_CREATED")}, idem); err != nil {
		t.Fatal(err)
	}
	// 25 hours pass.
	w.sqlExec(`UPDATE idempotency_keys SET created_at = created_at - ?`, (25 * time.Hour).Milliseconds())
	out, replay, err := e.Publish(w.ctx, w.admin.ID, []delivery.EventInput{w.ev("TODO_CREATED")}, idem)
	if err != nil || replay != nil || len(out) != 1 {
		t.Errorf("publish with a 25-hour-old key = out %+v, replay %q, err %v; want a new event", out, replay, err)
	}
	if n := w.countEvents(); n != 2 {
		t.Errorf("%d events stored, want 2", n)
	}
}
