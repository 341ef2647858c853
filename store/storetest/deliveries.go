package storetest

import (
	"fmt"
	"testing"
	"time"

	"hookyard/store"
)

var deliveryCases = []testCase{
	{"StoredAsPublished", testDeliveryStored},
	{"ListFilters", testListDeliveriesFilters},
	{"Cancel", testCancelDelivery},
	{"AddForResend", testAddDeliveries},
	{"PendingStats", testPendingStats},
	{"HandlingOfSomeWebhooks", testHandlingOf},
}

func testDeliveryStored(t *testing.T, f *fixture) {
	s := f.scene()
	ev := f.newEvent(s.project, "TODO_CREATED")
	now := f.newDelivery(ev, s.hook.ID)
	later := f.newDelivery(ev, f.webhook(s.owner.ID, "later").ID)
	due := f.now().Add(90 * time.Second)
	later.NextAttemptAt = &due
	f.must(f.s.Publish(f.ctx, store.Publication{Events: []store.Event{ev}, Deliveries: []store.Delivery{now, later}}), "Publish")
	for _, want := range []store.Delivery{now, later} {
		got, err := f.s.Delivery(f.ctx, want.ID)
		f.must(err, "Delivery")
		check(t, "Delivery", got, want)
	}
	_, err := f.s.Delivery(f.ctx, "dlv_missing")
	checkErr(t, "Delivery(unknown)", err, store.ErrNotFound)
	if a, err := f.s.Attempts(f.ctx, now.ID); err != nil || len(a) != 0 {
		t.Errorf("Attempts of a new delivery = %+v, %v; want none", a, err)
	}
}

func testListDeliveriesFilters(t *testing.T, f *fixture) {
	s := f.scene()
	b := f.webhook(s.owner.ID, "b")
	e1, d1 := f.publish(s.project, "TODO_CREATED", s.hook, b)
	e2, d2 := f.publish(s.project, "TODO_MOVED", s.hook, b)
	f.record(f.outcome(d1[0], 1, 200, store.DeliverySucceeded), f.outcome(d2[1], 1, 500, store.DeliveryFailed))
	label := map[string]string{d1[0].ID: "a1", d1[1].ID: "b1", d2[0].ID: "a2", d2[1].ID: "b2"}
	for _, tc := range []struct {
		filter store.DeliveryFilter
		want   []string
	}{
		{store.DeliveryFilter{}, []string{"b2", "a2", "b1", "a1"}},
		{store.DeliveryFilter{WebhookID: s.hook.ID}, []string{"a2", "a1"}},
		{store.DeliveryFilter{EventID: e1.ID}, []string{"b1", "a1"}},
		{store.DeliveryFilter{Status: store.DeliveryPending}, []string{"a2", "b1"}},
		{store.DeliveryFilter{Status: store.DeliverySucceeded}, []string{"a1"}},
		{store.DeliveryFilter{Status: store.DeliveryFailed}, []string{"b2"}},
		{store.DeliveryFilter{EventType: "TODO_MOVED"}, []string{"b2", "a2"}},
		{store.DeliveryFilter{WebhookID: b.ID, EventID: e2.ID}, []string{"b2"}},
		{store.DeliveryFilter{WebhookID: b.ID, Status: store.DeliverySucceeded}, []string{}},
		{store.DeliveryFilter{WebhookID: s.hook.ID, EventType: "TODO_CREATED", Status: store.DeliverySucceeded}, []string{"a1"}},
		{store.DeliveryFilter{WebhookID: "wh_missing"}, []string{}},
	} {
		got, next, err := f.s.ListDeliveries(f.ctx, tc.filter, store.Page{})
		f.must(err, "ListDeliveries")
		if next != "" {
			t.Errorf("%+v: next cursor %q for a short list", tc.filter, next)
		}
		labels := []string{}
		for _, d := range got {
			labels = append(labels, label[d.ID])
		}
		check(t, fmt.Sprintf("ListDeliveries(%+v), newest first", tc.filter), labels, tc.want)
	}
	got, _, _ := f.s.ListDeliveries(f.ctx, store.DeliveryFilter{WebhookID: b.ID}, store.Page{})
	check(t, "listed deliveries", got, []store.Delivery{f.delivery(d2[1].ID), f.delivery(d1[1].ID)})
}

func testCancelDelivery(t *testing.T, f *fixture) {
	s := f.scene()
	_, ds := f.publish(s.project, "TODO_CREATED", s.hook)
	_, done := f.publish(s.project, "TODO_MOVED", s.hook)
	_, other := f.publish(s.project, "TODO_DELETED", s.hook)
	f.record(f.outcome(done[0], 1, 200, store.DeliverySucceeded))
	succeeded := f.delivery(done[0].ID)

	f.clock.Advance(time.Minute)
	f.must(f.s.CancelDelivery(f.ctx, ds[0].ID, "Cancelled: the webhook was deleted."), "CancelDelivery")
	want := ds[0]
	want.Status, want.NextAttemptAt, want.LastError, want.UpdatedAt = store.DeliveryCancelled, nil, "Cancelled: the webhook was deleted.", f.now()
	check(t, "cancelled delivery", f.delivery(ds[0].ID), want)

	f.clock.Advance(time.Minute)
	f.must(f.s.CancelDelivery(f.ctx, ds[0].ID, "again"), "CancelDelivery again")
	check(t, "cancelling twice", f.delivery(ds[0].ID), want)
	f.must(f.s.CancelDelivery(f.ctx, done[0].ID, "too late"), "CancelDelivery of a finished delivery")
	check(t, "a finished delivery after CancelDelivery", f.delivery(done[0].ID), succeeded)
	check(t, "another pending delivery", f.delivery(other[0].ID), other[0])
	checkErr(t, "CancelDelivery(unknown)", f.s.CancelDelivery(f.ctx, "dlv_missing", "x"), nil)
}

func testAddDeliveries(t *testing.T, f *fixture) {
	s := f.scene()
	b := f.webhook(s.owner.ID, "b")
	ev, ds := f.publish(s.project, "TODO_CREATED", s.hook)
	f.record(f.outcome(ds[0], 1, 500, store.DeliveryFailed))
	f.clock.Advance(time.Hour)
	resend := f.newDelivery(ev, s.hook.ID)
	resend.ResendOf = ds[0].ID
	replay := f.newDelivery(ev, b.ID)
	f.must(f.s.AddDeliveries(f.ctx, []store.Delivery{resend, replay}), "AddDeliveries")
	check(t, "the resend", f.delivery(resend.ID), resend)
	check(t, "the new delivery", f.delivery(replay.ID), replay)
	if d := f.delivery(ds[0].ID); d.Status != store.DeliveryFailed || d.Attempts != 1 {
		t.Errorf("the original after a resend = %+v, want failed after one attempt", d)
	}
	checkErr(t, "AddDeliveries of none", f.s.AddDeliveries(f.ctx, nil), nil)
	if err := f.s.AddDeliveries(f.ctx, []store.Delivery{resend}); err == nil {
		t.Error("AddDeliveries stored a delivery id twice")
	}
}

func testPendingStats(t *testing.T, f *fixture) {
	s := f.scene()
	bob := f.user("bob@example.com", "Bob", store.RoleMember)
	bobs := f.webhook(bob.ID, "bobs")
	stats := func(owner string, wantN int, wantDue *time.Time) {
		t.Helper()
		n, due, err := f.s.PendingStats(f.ctx, owner)
		f.must(err, "PendingStats")
		if n != wantN || !sameTime(due, wantDue) {
			t.Errorf("PendingStats(%q) = %d, oldest due %s; want %d, %s", owner, n, timeOf(due), wantN, timeOf(wantDue))
		}
	}
	stats("", 0, nil)
	first := f.now()
	_, d1 := f.publish(s.project, "TODO_CREATED", s.hook)
	f.clock.Advance(time.Second)
	_, d2 := f.publish(s.project, "TODO_CREATED", s.hook, bobs)
	f.clock.Advance(time.Second)
	stats("", 3, &first)
	stats(s.owner.ID, 2, &first)
	stats(bob.ID, 1, ptr(first.Add(time.Second)))
	stats("usr_missing", 0, nil)

	// Finished deliveries do not count; a retry due later is pending but not overdue.
	f.record(f.outcome(d1[0], 1, 200, store.DeliverySucceeded), f.outcome(d2[0], 1, 500, store.DeliveryPending))
	stats(s.owner.ID, 1, nil)
	stats("", 2, ptr(first.Add(time.Second)))
	f.must(f.s.CancelDelivery(f.ctx, d2[1].ID, "x"), "CancelDelivery")
	stats(bob.ID, 0, nil)

	// Time passes: the retry is due, and late, too.
	retry := f.delivery(d2[0].ID).NextAttemptAt
	f.clock.Advance(retry.Sub(f.now()))
	stats(s.owner.ID, 1, retry)
}

// HandlingOf answers for the webhooks asked about only: each one's newest delivery of the
// event (a resend replaces the first) and whether it kept the event as missed.
func testHandlingOf(t *testing.T, f *fixture) {
	s := f.scene()
	b, c, d := f.webhook(s.owner.ID, "b"), f.webhook(s.owner.ID, "c"), f.webhook(s.owner.ID, "d")
	ev := f.newEvent(s.project, "TODO_CREATED")
	da, db := f.newDelivery(ev, s.hook.ID), f.newDelivery(ev, b.ID)
	f.must(f.s.Publish(f.ctx, store.Publication{Events: []store.Event{ev}, Deliveries: []store.Delivery{da, db},
		Missed: []store.MissedEvent{{WebhookID: c.ID, EventID: ev.ID}}}), "Publish")
	f.record(f.outcome(db, 1, 500, store.DeliveryFailed))
	f.clock.Advance(time.Minute)
	resend := f.newDelivery(ev, b.ID)
	resend.ResendOf = db.ID
	f.must(f.s.AddDeliveries(f.ctx, []store.Delivery{resend}), "AddDeliveries")
	f.publish(s.project, "TODO_CREATED", s.hook, b, c, d) // another event

	handling := func(hooks ...string) store.EventHandling {
		t.Helper()
		h, err := f.s.HandlingOf(f.ctx, ev.ID, hooks)
		f.must(err, "HandlingOf")
		return h
	}
	check(t, "HandlingOf four webhooks", handling(s.hook.ID, b.ID, c.ID, d.ID, "wh_missing"), store.EventHandling{
		Latest: map[string]store.Delivery{s.hook.ID: f.delivery(da.ID), b.ID: f.delivery(resend.ID)},
		Missed: map[string]bool{c.ID: true}})
	check(t, "HandlingOf one webhook", handling(b.ID), store.EventHandling{
		Latest: map[string]store.Delivery{b.ID: f.delivery(resend.ID)}, Missed: map[string]bool{}})
	check(t, "HandlingOf none", handling(), store.EventHandling{Latest: map[string]store.Delivery{}, Missed: map[string]bool{}})
	h, err := f.s.HandlingOf(f.ctx, "evt_missing", []string{s.hook.ID})
	f.must(err, "HandlingOf an unknown event")
	check(t, "HandlingOf an unknown event", h, store.EventHandling{Latest: map[string]store.Delivery{}, Missed: map[string]bool{}})
}
