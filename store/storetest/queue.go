package storetest

import (
	"fmt"
	"testing"
	"time"

	"hookyard/store"
)

// queueCases pin the durable queue: a pending delivery is queued (no lease) until the sender
// claims it with ClaimDue, then held (leased) until its outcome is recorded or it is released.
// They are the only tests that use ClaimDue, QueuedWebhooks, ReleaseHeld, ReleaseLeases or a
// delivery's LeaseUntil, so the group can be rewritten with the queue.
var queueCases = []testCase{
	{"ClaimDueOldestFirstWithinTheLimit", testClaimDue},
	{"ClaimDueSkipsHeldNotYetDueAndFinished", testClaimDueSkips},
	{"QueuedWebhooks", testQueuedWebhooks},
	{"ReleaseHeld", testReleaseHeld},
	{"ReleaseLeases", testReleaseLeases},
	{"CancelOutcome", testCancelOutcome},
	{"RequeueOutcome", testRequeueOutcome},
	{"LeaseFromPublishEndsWithTheAttempt", testLeaseLifecycle},
	{"PublishGroupRefusesOnlyTheTakenKey", testPublishGroupSavepoints},
	{"EventsByID", testEventsByID},
}

// queued stores one event of p with a pending delivery to hook, due at due, leased until
// lease when lease is not nil (as a publish the sender takes at once leases it).
func (f *fixture) queued(p store.Project, hook store.Webhook, due time.Time, lease *time.Time) store.Delivery {
	f.t.Helper()
	ev := f.newEvent(p, "TODO_CREATED")
	d := f.newDelivery(ev, hook.ID)
	d.NextAttemptAt, d.LeaseUntil = ptr(ms(due)), lease
	f.must(f.s.Publish(f.ctx, store.Publication{Events: []store.Event{ev}, Deliveries: []store.Delivery{d}}), "Publish")
	return d
}

// claim runs ClaimDue now with the lease until leaseUntil.
func (f *fixture) claim(leaseUntil time.Time, claims ...store.Claim) []store.Claimed {
	f.t.Helper()
	got, err := f.s.ClaimDue(f.ctx, f.clock.Now(), leaseUntil, claims)
	f.must(err, "ClaimDue")
	return got
}

// item is the queue item of d as ClaimDue returns it.
func item(d store.Delivery) store.QueueItem {
	return store.QueueItem{DeliveryID: d.ID, WebhookID: d.WebhookID, EventID: d.EventID, MessageID: d.MessageID, Attempts: d.Attempts, Due: *d.NextAttemptAt}
}

// claimedIDs is the delivery ids of one webhook's claim.
func claimedIDs(c store.Claimed) []string {
	return ids(c.Items, func(it store.QueueItem) string { return it.DeliveryID })
}

func testClaimDue(t *testing.T, f *fixture) {
	s := f.scene()
	b, idle := f.webhook(s.owner.ID, "b"), f.webhook(s.owner.ID, "idle")
	t0 := f.now()
	// Made in an order that is not the due order (the first made is due last, so the three
	// made first are not the three due first); two are due at the same millisecond.
	a4 := f.queued(s.project, s.hook, t0.Add(3*time.Second), nil)
	a3 := f.queued(s.project, s.hook, t0.Add(2*time.Second), nil)
	a1 := f.queued(s.project, s.hook, t0, nil)
	a2 := f.queued(s.project, s.hook, t0, nil)
	b1 := f.queued(s.project, b, t0.Add(time.Second), nil)
	f.clock.Advance(10 * time.Second)
	lease := f.now().Add(30*time.Second + 250*time.Microsecond) // kept to the millisecond

	got := f.claim(lease, store.Claim{WebhookID: s.hook.ID, Limit: 3}, store.Claim{WebhookID: b.ID, Limit: 5},
		store.Claim{WebhookID: idle.ID, Limit: 5}, store.Claim{WebhookID: "wh_missing", Limit: 1})
	check(t, "claims answered, in the order asked", ids(got, func(c store.Claimed) string { return c.WebhookID }),
		[]string{s.hook.ID, b.ID, idle.ID, "wh_missing"})
	check(t, "the main webhook's claim: the 3 oldest due, oldest first, ties by id", got[0],
		store.Claimed{WebhookID: s.hook.ID, Items: []store.QueueItem{item(a1), item(a2), item(a3)}, NextDue: a4.NextAttemptAt})
	check(t, "b's claim: all it has", got[1], store.Claimed{WebhookID: b.ID, Items: []store.QueueItem{item(b1)}})
	for _, c := range got[2:] {
		if len(c.Items) != 0 || c.NextDue != nil {
			t.Errorf("claim of %s with nothing queued = %+v, want no items and no next due", c.WebhookID, c)
		}
	}
	for _, d := range []store.Delivery{a1, a2, a3, b1} {
		if got := f.delivery(d.ID); !sameTime(got.LeaseUntil, ptr(ms(lease))) || got.Status != store.DeliveryPending || got.Attempts != 0 {
			t.Errorf("claimed delivery %+v: want pending, leased until %s", got, ms(lease))
		}
	}
	check(t, "the delivery left queued", f.delivery(a4.ID), a4)

	// Claimed deliveries are held: a second claim takes only what is left; limit 0 only
	// reports when the next is due.
	got = f.claim(lease, store.Claim{WebhookID: s.hook.ID, Limit: 0}, store.Claim{WebhookID: b.ID, Limit: 5})
	check(t, "a claim with limit 0", got[0], store.Claimed{WebhookID: s.hook.ID, NextDue: a4.NextAttemptAt})
	check(t, "b's second claim", got[1], store.Claimed{WebhookID: b.ID})
	got = f.claim(lease, store.Claim{WebhookID: s.hook.ID, Limit: 10})
	check(t, "the main webhook's second claim", got[0], store.Claimed{WebhookID: s.hook.ID, Items: []store.QueueItem{item(a4)}})
	check(t, "a claim of nothing", f.claim(lease), []store.Claimed{})

	// Of two due at the same millisecond, the one made first goes first.
	tied := f.webhook(s.owner.ID, "tied")
	t1, t2 := f.queued(s.project, tied, t0, nil), f.queued(s.project, tied, t0, nil)
	got = f.claim(lease, store.Claim{WebhookID: tied.ID, Limit: 1})
	check(t, "a claim of one of two due at once", got[0], store.Claimed{WebhookID: tied.ID, Items: []store.QueueItem{item(t1)}, NextDue: t2.NextAttemptAt})
}

func testClaimDueSkips(t *testing.T, f *fixture) {
	s := f.scene()
	t0 := f.now()
	held := f.queued(s.project, s.hook, t0, ptr(t0.Add(time.Minute)))
	later := f.queued(s.project, s.hook, t0.Add(time.Hour), nil)
	done := f.queued(s.project, s.hook, t0, nil)
	f.record(f.outcome(done, 1, 200, store.DeliverySucceeded))
	gone := f.queued(s.project, s.hook, t0, nil)
	f.must(f.s.CancelDelivery(f.ctx, gone.ID, "x"), "CancelDelivery")
	retry := f.queued(s.project, s.hook, t0, nil)
	o := f.outcome(retry, 1, 500, store.DeliveryPending) // due again in 10 s
	f.record(o)

	lease := f.now().Add(time.Minute)
	got := f.claim(lease, store.Claim{WebhookID: s.hook.ID, Limit: 10})
	check(t, "a claim when nothing is due", got[0], store.Claimed{WebhookID: s.hook.ID, NextDue: o.NextAttemptAt})

	f.clock.Advance(10*time.Second - time.Millisecond)
	got = f.claim(lease, store.Claim{WebhookID: s.hook.ID, Limit: 10})
	check(t, "a millisecond before the retry is due", len(got[0].Items), 0)
	f.clock.Advance(time.Millisecond)
	got = f.claim(lease, store.Claim{WebhookID: s.hook.ID, Limit: 10})
	want := f.delivery(retry.ID)
	want.LeaseUntil = nil
	check(t, "the retry once due, with its attempt counted", got[0],
		store.Claimed{WebhookID: s.hook.ID, Items: []store.QueueItem{item(want)}, NextDue: later.NextAttemptAt})
	check(t, "the delivery held since its publish", f.delivery(held.ID), held)

	// A held delivery is never claimed, however long past its lease (ReleaseLeases and
	// ReleaseHeld give it back).
	f.clock.Advance(24 * time.Hour)
	got = f.claim(f.now().Add(time.Minute), store.Claim{WebhookID: s.hook.ID, Limit: 10})
	check(t, "a day later", claimedIDs(got[0]), []string{later.ID})
}

func testQueuedWebhooks(t *testing.T, f *fixture) {
	s := f.scene()
	b, c, d := f.webhook(s.owner.ID, "b"), f.webhook(s.owner.ID, "c"), f.webhook(s.owner.ID, "d")
	queued := func() map[string]time.Time {
		t.Helper()
		got, err := f.s.QueuedWebhooks(f.ctx)
		f.must(err, "QueuedWebhooks")
		return got
	}
	check(t, "an empty queue", queued(), map[string]time.Time{})
	t0 := f.now()
	f.queued(s.project, s.hook, t0.Add(time.Hour), nil)
	f.queued(s.project, s.hook, t0.Add(time.Minute), nil)
	f.queued(s.project, b, t0.Add(-time.Minute), ptr(t0.Add(time.Minute))) // held: not queued
	f.queued(s.project, b, t0.Add(time.Second), nil)
	f.queued(s.project, c, t0, ptr(t0.Add(time.Minute)))
	done := f.queued(s.project, d, t0, nil)
	f.record(f.outcome(done, 1, 200, store.DeliverySucceeded))
	check(t, "the first due queued delivery of each webhook", queued(), map[string]time.Time{
		s.hook.ID: t0.Add(time.Minute), b.ID: t0.Add(time.Second)})
}

func testReleaseHeld(t *testing.T, f *fixture) {
	s := f.scene()
	t0 := f.now()
	lease := ptr(t0.Add(time.Minute))
	a, b, kept := f.queued(s.project, s.hook, t0, lease), f.queued(s.project, s.hook, t0, lease), f.queued(s.project, s.hook, t0, lease)
	done := f.queued(s.project, s.hook, t0, lease)
	f.record(f.outcome(done, 1, 200, store.DeliverySucceeded))
	succeeded := f.delivery(done.ID)

	checkErr(t, "ReleaseHeld of none", f.s.ReleaseHeld(f.ctx, nil), nil)
	f.must(f.s.ReleaseHeld(f.ctx, []string{a.ID, b.ID, done.ID, "dlv_missing"}), "ReleaseHeld")
	for _, d := range []store.Delivery{a, b} {
		want := d
		want.LeaseUntil = nil
		check(t, "a released delivery", f.delivery(d.ID), want)
	}
	check(t, "a delivery not released", f.delivery(kept.ID), kept)
	check(t, "a finished delivery", f.delivery(done.ID), succeeded)
	got := f.claim(f.now().Add(time.Minute), store.Claim{WebhookID: s.hook.ID, Limit: 10})
	check(t, "released deliveries are claimed again", claimedIDs(got[0]), []string{a.ID, b.ID})
}

func testReleaseLeases(t *testing.T, f *fixture) {
	s := f.scene()
	other := f.webhook(s.owner.ID, "other")
	t0 := f.now()
	a := f.queued(s.project, s.hook, t0, ptr(t0.Add(time.Hour)))
	b := f.queued(s.project, other, t0, nil)
	c := f.queued(s.project, s.hook, t0.Add(time.Minute), nil)
	f.claim(t0.Add(time.Hour), store.Claim{WebhookID: other.ID, Limit: 1})
	done := f.queued(s.project, s.hook, t0, ptr(t0.Add(time.Hour)))
	f.record(f.outcome(done, 1, 200, store.DeliverySucceeded))
	succeeded := f.delivery(done.ID)

	f.must(f.s.ReleaseLeases(f.ctx), "ReleaseLeases")
	for _, d := range []store.Delivery{a, b, c} {
		want := d
		want.LeaseUntil = nil
		check(t, "after ReleaseLeases", f.delivery(d.ID), want)
	}
	check(t, "a finished delivery after ReleaseLeases", f.delivery(done.ID), succeeded)
	queued, err := f.s.QueuedWebhooks(f.ctx)
	f.must(err, "QueuedWebhooks")
	check(t, "queued after ReleaseLeases", queued, map[string]time.Time{s.hook.ID: t0, other.ID: t0})
}

// A cancel outcome (the sender found the webhook off, gone or no longer subscribed) cancels
// a pending delivery with its reason and records no attempt; a finished one stays as it is.
func testCancelOutcome(t *testing.T, f *fixture) {
	s := f.scene()
	t0 := f.now()
	// Held for its second attempt.
	held := f.queued(s.project, s.hook, t0, ptr(t0.Add(time.Minute)))
	f.record(f.outcome(held, 1, 500, store.DeliveryPending))
	f.clock.Advance(10 * time.Second)
	f.claim(f.now().Add(time.Minute), store.Claim{WebhookID: s.hook.ID, Limit: 1})
	ok, failed := f.queued(s.project, s.hook, t0, nil), f.queued(s.project, s.hook, t0, nil)
	f.record(f.outcome(ok, 1, 200, store.DeliverySucceeded), f.outcome(failed, 1, 500, store.DeliveryFailed))
	finished := map[string]store.Delivery{ok.ID: f.delivery(ok.ID), failed.ID: f.delivery(failed.ID)}
	hook, hours := f.webhookNow(s.hook.ID), f.hours(s.hook.ID)

	f.clock.Advance(time.Minute)
	const reason = "Cancelled: the webhook was switched off or deleted."
	cancel := func(d store.Delivery) store.AttemptOutcome {
		return store.AttemptOutcome{Attempt: store.Attempt{DeliveryID: d.ID, WebhookID: d.WebhookID}, Cancel: reason}
	}
	want := f.delivery(held.ID)
	if want.LeaseUntil == nil || want.Attempts != 1 {
		t.Fatalf("set-up: %+v, want held after one attempt", want)
	}
	check(t, "switched off", f.record(cancel(held), cancel(ok), cancel(failed)), []string{})
	want.Status, want.NextAttemptAt, want.LeaseUntil, want.LastError, want.UpdatedAt = store.DeliveryCancelled, nil, nil, reason, f.now()
	check(t, "the cancelled delivery", f.delivery(held.ID), want)
	if n := len(f.attempts(held.ID)); n != 1 {
		t.Errorf("%d attempts after a cancel outcome, want the 1 made before", n)
	}
	for id, d := range finished {
		check(t, "a finished delivery after a late cancel outcome", f.delivery(id), d)
	}
	check(t, "the webhook", f.webhookNow(s.hook.ID), hook)
	check(t, "hourly figures", f.hours(s.hook.ID), hours)
}

// A requeue outcome (not sent, for a reason that was not the receiver's) puts a held delivery
// back in the queue, due when the outcome says, without counting an attempt.
func testRequeueOutcome(t *testing.T, f *fixture) {
	s := f.scene()
	t0 := f.now()
	d := f.queued(s.project, s.hook, t0, nil)
	f.claim(t0.Add(time.Minute), store.Claim{WebhookID: s.hook.ID, Limit: 1})
	done := f.queued(s.project, s.hook, t0, nil)
	f.record(f.outcome(done, 1, 200, store.DeliverySucceeded))
	succeeded := f.delivery(done.ID)
	hook := f.webhookNow(s.hook.ID)

	f.clock.Advance(time.Second)
	due := f.now().Add(5 * time.Second)
	requeue := func(d store.Delivery) store.AttemptOutcome {
		return store.AttemptOutcome{Attempt: store.Attempt{DeliveryID: d.ID, WebhookID: d.WebhookID}, Requeue: true, NextAttemptAt: &due}
	}
	check(t, "switched off", f.record(requeue(d), requeue(done)), []string{})
	got := f.delivery(d.ID)
	if got.Status != store.DeliveryPending || got.Attempts != 0 || !sameTime(got.NextAttemptAt, &due) || got.LeaseUntil != nil || got.LastError != "" {
		t.Errorf("requeued delivery = %+v; want pending, no attempt counted, due at %s, not held", got, due)
	}
	if n := len(f.attempts(d.ID)); n != 0 {
		t.Errorf("%d attempts stored for a requeue, want none", n)
	}
	check(t, "a finished delivery after a requeue outcome", f.delivery(done.ID), succeeded)
	hook.LastSuccessAt = f.webhookNow(s.hook.ID).LastSuccessAt
	check(t, "the webhook", f.webhookNow(s.hook.ID), hook)

	got2 := f.claim(f.now().Add(time.Minute), store.Claim{WebhookID: s.hook.ID, Limit: 1})
	check(t, "a claim before it is due again", got2[0], store.Claimed{WebhookID: s.hook.ID, NextDue: &due})
	f.clock.Advance(5 * time.Second)
	got2 = f.claim(f.now().Add(time.Minute), store.Claim{WebhookID: s.hook.ID, Limit: 1})
	check(t, "a claim once due again", claimedIDs(got2[0]), []string{d.ID})
}

func testLeaseLifecycle(t *testing.T, f *fixture) {
	s := f.scene()
	other := f.webhook(s.owner.ID, "other")
	lease := f.now().Add(time.Minute)
	pub := store.Publication{}
	for _, w := range []store.Webhook{s.hook, s.hook, s.hook, other} {
		ev := f.newEvent(s.project, "TODO_CREATED")
		d := f.newDelivery(ev, w.ID)
		d.LeaseUntil = &lease
		pub.Events, pub.Deliveries = append(pub.Events, ev), append(pub.Deliveries, d)
	}
	f.must(f.s.Publish(f.ctx, pub), "Publish")
	ds := pub.Deliveries
	for _, d := range ds {
		if got := f.delivery(d.ID); !sameTime(got.LeaseUntil, &lease) {
			t.Errorf("published delivery leased until %s, want %s", timeOf(got.LeaseUntil), lease)
		}
	}
	f.record(f.outcome(ds[0], 1, 500, store.DeliveryPending))
	f.must(f.s.CancelDelivery(f.ctx, ds[1].ID, "x"), "CancelDelivery")
	_, err := f.s.DisableWebhook(f.ctx, s.hook.ID, store.StatusHealthy, "off")
	f.must(err, "DisableWebhook")
	for i, d := range ds[:3] {
		if got := f.delivery(d.ID); got.LeaseUntil != nil {
			t.Errorf("delivery %d (%s) still leased after its attempt, cancel or switch-off", i, got.Status)
		}
	}
	if got := f.delivery(ds[3].ID); !sameTime(got.LeaseUntil, &lease) {
		t.Errorf("another webhook's delivery lost its lease: %+v", got)
	}
}

// In a group commit each publication has a savepoint: one whose idempotency key is taken is
// refused alone, leaves nothing behind, and the key keeps its first answer.
func testPublishGroupSavepoints(t *testing.T, f *fixture) {
	s := f.scene()
	keyed := func(key, response string) store.Publication {
		ev := f.newEvent(s.project, "TODO_CREATED")
		pub := store.Publication{Events: []store.Event{ev}, Deliveries: []store.Delivery{f.newDelivery(ev, s.hook.ID)},
			Missed: []store.MissedEvent{{WebhookID: s.hook.ID, EventID: ev.ID}}}
		if key != "" {
			pub.IdempotencyUserID, pub.IdempotencyKey, pub.RequestHash, pub.Response = s.owner.ID, key, "hash-"+response, []byte(response)
		}
		return pub
	}
	first := keyed("taken", "first")
	f.must(f.s.Publish(f.ctx, first), "Publish")

	var pubs []store.Publication
	for i, key := range []string{"fresh", "taken", "", "fresh", "other"} {
		pubs = append(pubs, keyed(key, fmt.Sprint(i)))
	}
	errs, err := f.s.PublishGroup(f.ctx, pubs)
	f.must(err, "PublishGroup (a taken key must not fail the group)")
	for i, want := range []error{nil, store.ErrConflict, nil, store.ErrConflict, nil} {
		checkErr(t, fmt.Sprintf("publication %d (key %q)", i, pubs[i].IdempotencyKey), errs[i], want)
		_, evErr := f.s.Event(f.ctx, pubs[i].Events[0].ID)
		_, dErr := f.s.Delivery(f.ctx, pubs[i].Deliveries[0].ID)
		by, _ := f.s.MissedBy(f.ctx, pubs[i].Events[0].ID)
		stored := want == nil
		if (evErr == nil) != stored || (dErr == nil) != stored || len(by) == 1 != stored {
			t.Errorf("publication %d (key %q): event %v, delivery %v, missed %v; want stored %v",
				i, pubs[i].IdempotencyKey, evErr, dErr, by, stored)
		}
	}
	since := f.clock.Now().Add(-time.Hour)
	for key, want := range map[string]string{"taken": "first", "fresh": "0", "other": "4"} {
		got, err := f.s.IdempotentResponse(f.ctx, s.owner.ID, key, "hash-"+want, since)
		if err != nil || string(got) != want {
			t.Errorf("key %q answers %q (err %v), want its first answer %q", key, got, err, want)
		}
	}
	events, _, _ := f.s.ListEvents(f.ctx, store.EventFilter{}, store.Page{})
	check(t, "events stored", len(events), 4)

	// A group whose publication fails for another reason stores nothing at all.
	bad := []store.Publication{keyed("", "a"), keyed("", "b")}
	bad[1].Events[0].ID = first.Events[0].ID
	if _, err := f.s.PublishGroup(f.ctx, bad); err == nil {
		t.Error("PublishGroup with an event id already stored succeeded")
	}
	_, err = f.s.Event(f.ctx, bad[0].Events[0].ID)
	checkErr(t, "the other publication of a failed group", err, store.ErrNotFound)
	errs, err = f.s.PublishGroup(f.ctx, nil)
	if err != nil || len(errs) != 0 {
		t.Errorf("PublishGroup of none = %v, %v", errs, err)
	}
}

func testEventsByID(t *testing.T, f *fixture) {
	s := f.scene()
	pub := store.Publication{}
	var want []string
	for range 450 { // more than one batch
		ev := f.newEvent(s.project, "TODO_CREATED")
		pub.Events = append(pub.Events, ev)
		want = append(want, ev.ID)
	}
	f.must(f.s.Publish(f.ctx, pub), "Publish")
	got, err := f.s.EventsByID(f.ctx, append(want, "evt_missing"))
	f.must(err, "EventsByID")
	if len(got) != len(want) {
		t.Errorf("EventsByID returned %d events, want %d", len(got), len(want))
	}
	for _, e := range pub.Events {
		if g, ok := got[e.ID]; !ok {
			t.Errorf("event %s missing", e.ID)
		} else if g.ID != e.ID || string(g.CurrentValue) != string(e.CurrentValue) || !g.CreatedAt.Equal(e.CreatedAt) {
			t.Errorf("event %s = %+v, want %+v", e.ID, g, e)
		}
	}
	stored, _ := f.s.Event(f.ctx, want[7])
	check(t, "an event as EventsByID reads it", got[want[7]], stored)
	got, err = f.s.EventsByID(f.ctx, nil)
	if err != nil || len(got) != 0 {
		t.Errorf("EventsByID of none = %v, %v", got, err)
	}
}
