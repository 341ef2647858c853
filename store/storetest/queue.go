package storetest

import (
	"testing"
	"time"

	"hookyard/store"
)

// queueCases pin the claim-and-lease part of the delivery queue. They are the only tests that
// use PendingDeliveries, ClaimDelivery, ReleaseLeases or a delivery's LeaseUntil, so the
// group can be rewritten with the queue without touching the rest of the suite.
var queueCases = []testCase{
	{"PendingDeliveriesOldestFirstWithTheirEvents", testPendingDeliveries},
	{"ClaimOnlyWhatIsPending", testClaimDelivery},
	{"ReleaseLeases", testReleaseLeases},
	{"LeaseFromPublishEndsWithTheAttempt", testLeaseLifecycle},
}

func testPendingDeliveries(t *testing.T, f *fixture) {
	s := f.scene()
	b := f.webhook(s.owner.ID, "b")
	e1, d1 := f.publish(s.project, "TODO_CREATED", s.hook, b)
	e2, d2 := f.publish(s.project, "TODO_MOVED", s.hook)
	_, d3 := f.publish(s.project, "TODO_DELETED", b)
	f.record(f.outcome(d1[0], 1, 200, store.DeliverySucceeded))
	f.must(f.s.CancelDelivery(f.ctx, d3[0].ID, "x"), "CancelDelivery")
	f.record(f.outcome(d2[0], 1, 500, store.DeliveryPending)) // a retry is pending too

	pending := func(after string, limit int) []store.PendingWork {
		t.Helper()
		w, err := f.s.PendingDeliveries(f.ctx, after, limit)
		f.must(err, "PendingDeliveries")
		return w
	}
	all := pending("", 10)
	check(t, "pending work", all, []store.PendingWork{
		{Delivery: f.delivery(d1[1].ID), Event: e1},
		{Delivery: f.delivery(d2[0].ID), Event: e2},
	})
	check(t, "after the first", pending(d1[1].ID, 10), all[1:])
	check(t, "limit 1", pending("", 1), all[:1])
	check(t, "after the last", len(pending(d2[0].ID, 10)), 0)
}

func testClaimDelivery(t *testing.T, f *fixture) {
	s := f.scene()
	_, ds := f.publish(s.project, "TODO_CREATED", s.hook)
	_, done := f.publish(s.project, "TODO_MOVED", s.hook)
	_, gone := f.publish(s.project, "TODO_DELETED", s.hook)
	f.record(f.outcome(done[0], 1, 200, store.DeliverySucceeded))
	f.must(f.s.CancelDelivery(f.ctx, gone[0].ID, "x"), "CancelDelivery")
	until := f.clock.Now().Add(30*time.Second + 250*time.Microsecond)
	for _, tc := range []struct {
		name string
		id   string
		want bool
	}{
		{"pending", ds[0].ID, true},
		{"pending again", ds[0].ID, true},
		{"succeeded", done[0].ID, false},
		{"cancelled", gone[0].ID, false},
		{"unknown", "dlv_missing", false},
	} {
		ok, err := f.s.ClaimDelivery(f.ctx, tc.id, until)
		if err != nil || ok != tc.want {
			t.Errorf("ClaimDelivery(%s) = %v, %v; want %v", tc.name, ok, err, tc.want)
		}
	}
	if d := f.delivery(ds[0].ID); !sameTime(d.LeaseUntil, ptr(ms(until))) || d.Status != store.DeliveryPending {
		t.Errorf("claimed delivery leased until %s (%s), want %s and still pending", timeOf(d.LeaseUntil), d.Status, ms(until))
	}
	for _, id := range []string{done[0].ID, gone[0].ID} {
		if d := f.delivery(id); d.LeaseUntil != nil {
			t.Errorf("a finished delivery was leased: %+v", d)
		}
	}
}

func testReleaseLeases(t *testing.T, f *fixture) {
	s := f.scene()
	_, a := f.publish(s.project, "TODO_CREATED", s.hook)
	_, b := f.publish(s.project, "TODO_MOVED", s.hook)
	_, c := f.publish(s.project, "TODO_DELETED", s.hook)
	until := f.now().Add(time.Minute)
	for _, d := range []store.Delivery{a[0], b[0]} {
		if ok, err := f.s.ClaimDelivery(f.ctx, d.ID, until); err != nil || !ok {
			t.Fatalf("ClaimDelivery = %v, %v", ok, err)
		}
	}
	f.must(f.s.ReleaseLeases(f.ctx), "ReleaseLeases")
	for _, d := range []store.Delivery{a[0], b[0], c[0]} {
		if got := f.delivery(d.ID); got.LeaseUntil != nil || got.Status != store.DeliveryPending {
			t.Errorf("after ReleaseLeases: %+v, want pending without a lease", got)
		}
	}
	all, err := f.s.PendingDeliveries(f.ctx, "", 10)
	f.must(err, "PendingDeliveries")
	if len(all) != 3 {
		t.Errorf("%d pending after ReleaseLeases, want 3", len(all))
	}
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
