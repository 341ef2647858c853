package store

import (
	"errors"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// deliveryWorld is one member's webhook in a project, on the test clock, with events and
// deliveries written through the store's own publish path.
type deliveryWorld struct {
	t     *testing.T
	s     *Store
	clock *testClock
	owner User
	org   Organization
	prj   Project
	hook  Webhook
}

func newDeliveryWorld(t *testing.T) *deliveryWorld {
	t.Helper()
	s := openTestStore(t)
	w := &deliveryWorld{t: t, s: s, clock: useClock(s, time.Millisecond)}
	w.owner = createUser(t, s, "mia@example.com", "Mia", RoleMember)
	w.org = createOrg(t, s, "Acme")
	w.prj = createProject(t, s, w.org.ID, "Website")
	w.hook = w.webhook(w.owner.ID, "CRM sync")
	return w
}

func (w *deliveryWorld) webhook(ownerID, name string) Webhook {
	w.t.Helper()
	h := Webhook{OwnerID: ownerID, Name: name, URL: "http://127.0.0.1:9/hook", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
	if err := w.s.CreateWebhook(w.t.Context(), &h); err != nil {
		w.t.Fatalf("CreateWebhook: %v", err)
	}
	return h
}

// publication is one event with a delivery to the webhook, due at due.
func (w *deliveryWorld) publication(hookID string, due time.Time) (Publication, string) {
	now := w.clock.Peek().Truncate(time.Millisecond)
	ev := Event{ID: w.s.NextID("evt"), Type: "TODO_CREATED", OrganizationID: w.org.ID, ProjectID: w.prj.ID,
		PublisherID: w.owner.ID, CreatedAt: now}
	d := Delivery{ID: w.s.NextID("dlv"), EventID: ev.ID, WebhookID: hookID, EventType: ev.Type, CreatedAt: now, NextAttemptAt: &due}
	return Publication{Events: []Event{ev}, Deliveries: []Delivery{d}}, d.ID
}

// publish stores one event with a pending delivery to the webhook, due at due.
func (w *deliveryWorld) publish(hookID string, due time.Time) string {
	w.t.Helper()
	pub, id := w.publication(hookID, due)
	if err := w.s.Publish(w.t.Context(), pub); err != nil {
		w.t.Fatalf("Publish: %v", err)
	}
	return id
}

func (w *deliveryWorld) delivery(id string) Delivery {
	w.t.Helper()
	d, err := w.s.Delivery(w.t.Context(), id)
	if err != nil {
		w.t.Fatalf("Delivery %s: %v", id, err)
	}
	return d
}

func (w *deliveryWorld) record(outs ...AttemptOutcome) []string {
	w.t.Helper()
	off, err := w.s.RecordAttempts(w.t.Context(), outs)
	if err != nil {
		w.t.Fatalf("RecordAttempts: %v", err)
	}
	return off
}

// finished is the outcome of a first attempt that settled the delivery.
func (w *deliveryWorld) finished(deliveryID string, status DeliveryStatus) AttemptOutcome {
	a := Attempt{DeliveryID: deliveryID, WebhookID: w.hook.ID, Number: 1, StartedAt: w.clock.Peek(),
		Duration: 3 * time.Millisecond, StatusCode: 200, OK: true}
	if status != DeliverySucceeded {
		a.StatusCode, a.OK, a.Error = 500, false, "HTTP 500 Internal Server Error"
	}
	return AttemptOutcome{Attempt: a, Status: status}
}

// A delivery that has succeeded or failed stays as it is, whatever cancels after it: a
// cancel outcome that arrives late (the sender saw the webhook off), CancelDelivery, a
// person switching the webhook off, or the engine switching it off after a last failure.
// Only the pending delivery is cancelled.
func TestFinishedDeliveriesAreNeverCancelled(t *testing.T) {
	w := newDeliveryWorld(t)
	ctx := t.Context()
	now := w.clock.Peek()
	ok, failed, pending := w.publish(w.hook.ID, now), w.publish(w.hook.ID, now), w.publish(w.hook.ID, now)
	w.record(w.finished(ok, DeliverySucceeded), w.finished(failed, DeliveryFailed))
	before := map[string]Delivery{ok: w.delivery(ok), failed: w.delivery(failed)}
	if before[ok].Status != DeliverySucceeded || before[failed].Status != DeliveryFailed {
		t.Fatalf("set-up: %s and %s, want succeeded and failed", before[ok].Status, before[failed].Status)
	}
	unchanged := func(after string) {
		t.Helper()
		for id, b := range before {
			if got := w.delivery(id); !reflect.DeepEqual(got, b) {
				t.Errorf("%s: the %s delivery changed\nbefore %+v\nafter  %+v", after, b.Status, b, got)
			}
		}
	}

	w.clock.Advance(time.Minute)
	w.record(
		AttemptOutcome{Attempt: Attempt{DeliveryID: ok, WebhookID: w.hook.ID}, Cancel: "Cancelled: the webhook was switched off or deleted."},
		AttemptOutcome{Attempt: Attempt{DeliveryID: failed, WebhookID: w.hook.ID}, Cancel: "Cancelled: the webhook was switched off or deleted."})
	unchanged("a cancel outcome in RecordAttempts")
	for _, id := range []string{ok, failed} {
		if err := w.s.CancelDelivery(ctx, id, "Cancelled: test."); err != nil {
			t.Fatal(err)
		}
	}
	unchanged("CancelDelivery")

	if _, err := w.s.DisableWebhook(ctx, w.hook.ID, StatusHealthy, "Switched off by Mia."); err != nil {
		t.Fatal(err)
	}
	unchanged("DisableWebhook")
	if d := w.delivery(pending); d.Status != DeliveryCancelled || d.LastError != "Cancelled: the webhook was switched off." {
		t.Errorf("the pending delivery after DisableWebhook: %s, %q; want cancelled as switched off", d.Status, d.LastError)
	}

	// Back on; the engine switches it off after a delivery's last attempt fails.
	if _, err := w.s.EnableWebhook(ctx, w.hook.ID); err != nil {
		t.Fatal(err)
	}
	last, waiting := w.publish(w.hook.ID, now), w.publish(w.hook.ID, now)
	out := w.finished(last, DeliveryFailed)
	out.DisableReason = "5 attempts failed for TODO_CREATED: HTTP 500 Internal Server Error"
	if off := w.record(out); len(off) != 1 || off[0] != w.hook.ID {
		t.Fatalf("RecordAttempts switched off %v, want the webhook", off)
	}
	unchanged("a switch-off after the last attempt")
	if d := w.delivery(waiting); d.Status != DeliveryCancelled {
		t.Errorf("the pending delivery after the switch-off: %s, want cancelled", d.Status)
	}
}

// PendingStats counts every pending delivery, but only one already due is "oldest due": a
// retry scheduled for later is waiting, not late.
func TestPendingStatsCountsOnlyDueDeliveriesAsOverdue(t *testing.T) {
	w := newDeliveryWorld(t)
	ctx := t.Context()
	w.clock.step = 0 // PendingStats compares with "now": keep it still
	now := w.clock.Peek()
	other := w.webhook(createUser(t, w.s, "otto@example.com", "Otto", RoleMember).ID, "Otto's")

	stats := func(ownerID string, wantPending int, wantDue *time.Time) {
		t.Helper()
		n, due, err := w.s.PendingStats(ctx, ownerID)
		if err != nil {
			t.Fatal(err)
		}
		if n != wantPending || !reflect.DeepEqual(due, wantDue) {
			t.Errorf("PendingStats(%q) = %d pending, oldest due %v; want %d, %v", ownerID, n, due, wantPending, wantDue)
		}
	}
	stats("", 0, nil)
	w.publish(w.hook.ID, now.Add(time.Hour))   // a retry due in an hour
	w.publish(w.hook.ID, now.Add(time.Second)) // and one due in a second
	stats("", 2, nil)
	stats(w.owner.ID, 2, nil)

	overdue := now.Add(-10 * time.Minute)
	w.publish(other.ID, overdue)
	stats("", 3, &overdue)
	stats(w.owner.ID, 2, nil) // Otto's late delivery is not Mia's

	// Time passes: the one due in a second is now late too.
	w.clock.Advance(2 * time.Second)
	due := now.Add(time.Second)
	stats(w.owner.ID, 2, &due)
	stats("", 3, &overdue)
}

// A publication whose idempotency key is already taken is refused on its own: in a
// group commit the other publications are stored, the refused one leaves nothing behind,
// and the key keeps its first answer.
func TestPublishGroupRefusesOnlyTheTakenKey(t *testing.T) {
	w := newDeliveryWorld(t)
	ctx := t.Context()
	now := w.clock.Peek()
	first, firstID := w.publication(w.hook.ID, now)
	first.IdempotencyUserID, first.IdempotencyKey, first.Response = w.owner.ID, "taken", []byte(`{"first":true}`)
	if err := w.s.Publish(ctx, first); err != nil {
		t.Fatal(err)
	}

	var pubs []Publication
	var ids []string
	for i, key := range []string{"fresh", "taken", "", "fresh"} {
		p, id := w.publication(w.hook.ID, now)
		if key != "" {
			p.IdempotencyUserID, p.IdempotencyKey, p.Response = w.owner.ID, key, []byte(`{"n":`+strconv.Itoa(i)+`}`)
		}
		pubs, ids = append(pubs, p), append(ids, id)
	}
	errs, err := w.s.PublishGroup(ctx, pubs)
	if err != nil {
		t.Fatalf("PublishGroup: %v (one taken key must not fail the group)", err)
	}
	for i, want := range []error{nil, ErrConflict, nil, ErrConflict} {
		if !errors.Is(errs[i], want) || (want == nil && errs[i] != nil) {
			t.Errorf("publication %d (key %q): %v, want %v", i, pubs[i].IdempotencyKey, errs[i], want)
		}
	}
	for i, id := range ids {
		_, err := w.s.Delivery(ctx, id)
		stored := err == nil
		if want := errs[i] == nil; stored != want {
			t.Errorf("publication %d (key %q): delivery stored %v, want %v (err %v)", i, pubs[i].IdempotencyKey, stored, want, err)
		}
		_, err = w.s.Event(ctx, pubs[i].Events[0].ID)
		if stored := err == nil; stored != (errs[i] == nil) {
			t.Errorf("publication %d (key %q): event stored %v, want %v", i, pubs[i].IdempotencyKey, stored, errs[i] == nil)
		}
	}
	if _, err := w.s.Delivery(ctx, firstID); err != nil {
		t.Errorf("the first publication with the key: %v", err)
	}
	for key, want := range map[string]string{"taken": `{"first":true}`, "fresh": `{"n":0}`} {
		got, err := w.s.IdempotentResponse(ctx, w.owner.ID, key, "", now.Add(-time.Hour))
		if err != nil || string(got) != want {
			t.Errorf("key %q answers %s (err %v), want its first answer %s", key, got, err, want)
		}
	}
	if n := countRows(t, w.s, "events", ""); n != 3 {
		t.Errorf("%d events stored, want 3 (the first publication and the two accepted in the group)", n)
	}
}

// An ordered claim (SPEC §9) takes a webhook's oldest pending delivery by id, and only when
// it is due and not held: one waiting for its retry holds back every later one.
func TestClaimDueOrdered(t *testing.T) {
	w := newDeliveryWorld(t)
	ctx := t.Context()
	now := w.clock.Peek().Truncate(time.Millisecond)
	later := now.Add(time.Minute)
	first := w.publish(w.hook.ID, later) // waiting for its retry
	second := w.publish(w.hook.ID, now)
	w.publish(w.hook.ID, now)
	claim := func(at time.Time, limit int) Claimed {
		t.Helper()
		got, err := w.s.ClaimDue(ctx, at, at.Add(time.Minute), []Claim{{WebhookID: w.hook.ID, Limit: limit, Owner: "node#1", Ordered: true}})
		if err != nil || len(got) != 1 {
			t.Fatalf("ClaimDue: %v, %v", got, err)
		}
		return got[0]
	}
	got := claim(now, 5)
	if len(got.Items) != 0 || got.NextDue == nil || !got.NextDue.Equal(later) {
		t.Fatalf("with the oldest not due: claimed %v, next due %v; want nothing, and the oldest's due time", got.Items, got.NextDue)
	}
	got = claim(later, 5)
	if len(got.Items) != 1 || got.Items[0].DeliveryID != first || got.NextDue != nil {
		t.Fatalf("once the oldest is due: claimed %v, next due %v; want only %s", got.Items, got.NextDue, first)
	}
	if got = claim(later, 5); len(got.Items) != 0 || got.NextDue != nil {
		t.Errorf("while the oldest is held: claimed %v, next due %v; want nothing", got.Items, got.NextDue)
	}
	// Its outcome stored, the next one in publish order comes.
	w.record(AttemptOutcome{Attempt: Attempt{DeliveryID: first, WebhookID: w.hook.ID, Number: 1, StartedAt: later, StatusCode: 200, OK: true},
		Status: DeliverySucceeded, LeaseOwner: "node#1"})
	if got = claim(later, 5); len(got.Items) != 1 || got.Items[0].DeliveryID != second {
		t.Errorf("after the oldest succeeded: claimed %v, want %s", got.Items, second)
	}
	// An unordered claim of the same webhook takes every due one.
	other := w.webhook(w.owner.ID, "Unordered")
	w.publish(other.ID, later)
	w.publish(other.ID, now)
	all, err := w.s.ClaimDue(ctx, now, now.Add(time.Minute), []Claim{{WebhookID: other.ID, Limit: 5, Owner: "node#1"}})
	if err != nil || len(all[0].Items) != 1 || all[0].NextDue == nil {
		t.Errorf("unordered claim: %+v, %v; want the due one, and the other's due time", all, err)
	}
}
