package storetest

import (
	"sync"
	"testing"
	"time"

	"hookyard/store"
)

var replayCases = []testCase{
	{"WhatReplayFinds", testReplayWork},
	{"ReplayMissedSendsOnceAndForgetsMissed", testReplayMissed},
	{"ReplayEverythingSince", testReplayAll},
	{"ConcurrentReplaysSendEachEventOnce", testReplayConcurrent},
}

// replayScene is a webhook's history around a moment since, labelled by what happened:
//
//	before since:  old-failed (failed), old-missed (missed), late-failed (made, still pending)
//	from since on: succeeded, failed, cancelled, missed, resent-ok (failed, resend succeeded),
//	               resent-pending (failed, resend pending), late-failed fails,
//	               other-failed and other-missed (another webhook's)
type replayScene struct {
	scene
	other store.Webhook
	since time.Time
	label map[string]string // event id → label
	id    map[string]string // label → event id
}

func (f *fixture) replayScene() replayScene {
	f.t.Helper()
	rs := replayScene{scene: f.scene(), label: map[string]string{}, id: map[string]string{}}
	rs.other = f.webhook(rs.owner.ID, "other")
	name := func(label string, ev store.Event) {
		rs.label[ev.ID], rs.id[label] = label, ev.ID
	}
	fail := func(d store.Delivery, status store.DeliveryStatus) { f.record(f.outcome(d, 1, 500, status)) }
	p, w := rs.project, rs.hook

	ev, ds := f.publish(p, "TODO_CREATED", w)
	name("old-failed", ev)
	fail(ds[0], store.DeliveryFailed)
	name("old-missed", f.missed(p, "TODO_CREATED", w))
	ev, late := f.publish(p, "TODO_CREATED", w)
	name("late-failed", ev)

	f.clock.Advance(time.Hour)
	rs.since = f.now() // the next rows are made exactly at since: it is included
	ev, ds = f.publish(p, "TODO_CREATED", w)
	name("succeeded", ev)
	f.record(f.outcome(ds[0], 1, 200, store.DeliverySucceeded))
	ev, ds = f.publish(p, "TODO_MOVED", w)
	name("failed", ev)
	fail(ds[0], store.DeliveryFailed)
	ev, ds = f.publish(p, "TODO_DELETED", w)
	name("cancelled", ev)
	f.must(f.s.CancelDelivery(f.ctx, ds[0].ID, "x"), "CancelDelivery")
	name("missed", f.missed(p, "TODO_CREATED", w, rs.other))
	for _, label := range []string{"resent-ok", "resent-pending"} {
		ev, ds = f.publish(p, "TODO_CREATED", w)
		name(label, ev)
		fail(ds[0], store.DeliveryFailed)
		resend := f.newDelivery(ev, w.ID)
		resend.ResendOf = ds[0].ID
		f.must(f.s.AddDeliveries(f.ctx, []store.Delivery{resend}), "AddDeliveries")
		if label == "resent-ok" {
			f.record(f.outcome(resend, 1, 200, store.DeliverySucceeded))
		}
	}
	fail(late[0], store.DeliveryFailed)
	ev, ds = f.publish(p, "TODO_CREATED", rs.other)
	name("other-failed", ev)
	fail(ds[0], store.DeliveryFailed)
	name("other-missed", f.missed(p, "TODO_CREATED", rs.other))
	f.clock.Advance(time.Minute)
	return rs
}

func (rs replayScene) labels(events []store.Event) []string {
	out := []string{}
	for _, e := range events {
		out = append(out, rs.label[e.ID])
	}
	return out
}

func testReplayWork(t *testing.T, f *fixture) {
	rs := f.replayScene()
	for _, tc := range []struct {
		name       string
		webhook    string
		since      time.Time
		missedOnly bool
		want       []string // oldest first, once each
	}{
		{"missed since", rs.hook.ID, rs.since, true, []string{"late-failed", "failed", "cancelled", "missed"}},
		{"everything since", rs.hook.ID, rs.since, false,
			[]string{"succeeded", "failed", "cancelled", "missed", "resent-ok", "resent-pending"}},
		{"missed since the start", rs.hook.ID, time.Time{}, true, []string{"old-failed", "old-missed", "late-failed", "failed", "cancelled", "missed"}},
		{"everything since the start", rs.hook.ID, time.Time{}, false, []string{"old-failed", "old-missed", "late-failed",
			"succeeded", "failed", "cancelled", "missed", "resent-ok", "resent-pending"}},
		{"a millisecond after since", rs.hook.ID, rs.since.Add(time.Millisecond), false, []string{}},
		{"another webhook, missed", rs.other.ID, rs.since, true, []string{"missed", "other-failed", "other-missed"}},
		{"unknown webhook", "wh_missing", time.Time{}, false, []string{}},
	} {
		got, err := f.s.ReplayWork(f.ctx, tc.webhook, tc.since, tc.missedOnly)
		f.must(err, "ReplayWork")
		check(t, "ReplayWork "+tc.name, rs.labels(got), tc.want)
	}
	got, _ := f.s.ReplayWork(f.ctx, rs.hook.ID, rs.since, true)
	stored, _ := f.s.Event(f.ctx, rs.id["missed"])
	check(t, "a replayed event as stored", got[3], stored)
}

func testReplayMissed(t *testing.T, f *fixture) {
	rs := f.replayScene()
	keep := func(ev store.Event) bool { return rs.label[ev.ID] != "cancelled" } // no longer received
	made := map[string]store.Delivery{}
	newDelivery := func(ev store.Event) store.Delivery {
		d := f.newDelivery(ev, rs.hook.ID)
		made[ev.ID] = d
		return d
	}
	work, err := f.s.Replay(f.ctx, rs.hook.ID, rs.since, true, keep, newDelivery)
	f.must(err, "Replay")
	var labels []string
	for _, w := range work {
		labels = append(labels, rs.label[w.Event.ID])
		stored, _ := f.s.Event(f.ctx, w.Event.ID)
		check(t, "work event", w.Event, stored)
		check(t, "work delivery", w.Delivery, made[w.Event.ID])
		check(t, "stored delivery", f.delivery(w.Delivery.ID), made[w.Event.ID])
	}
	check(t, "replayed", labels, []string{"late-failed", "failed", "missed"})

	// The missed record is forgotten (this webhook's only); what is now pending is not missed.
	by, _ := f.s.MissedBy(f.ctx, rs.id["missed"])
	check(t, "MissedBy after the replay", by, map[string]bool{rs.other.ID: true})
	got, _ := f.s.ReplayWork(f.ctx, rs.hook.ID, rs.since, true)
	check(t, "ReplayWork after the replay", rs.labels(got), []string{"cancelled"})
	work, err = f.s.Replay(f.ctx, rs.hook.ID, rs.since, true, keep, newDelivery)
	f.must(err, "Replay again")
	if len(work) != 0 {
		t.Errorf("a second replay sent %d events again", len(work))
	}
	// Everything a replay looked at loses its missed record, kept or not.
	old := rs.id["old-missed"]
	_, err = f.s.Replay(f.ctx, rs.hook.ID, time.Time{}, true, func(store.Event) bool { return false }, newDelivery)
	f.must(err, "Replay keeping nothing")
	by, _ = f.s.MissedBy(f.ctx, old)
	check(t, "MissedBy of an event the replay did not keep", by, map[string]bool{})
	if _, ok := made[old]; ok {
		t.Error("a delivery was made for an event the replay did not keep")
	}
}

func testReplayAll(t *testing.T, f *fixture) {
	rs := f.replayScene()
	work, err := f.s.Replay(f.ctx, rs.hook.ID, rs.since, false, func(store.Event) bool { return true },
		func(ev store.Event) store.Delivery { return f.newDelivery(ev, rs.hook.ID) })
	f.must(err, "Replay")
	var events []store.Event
	for _, w := range work {
		events = append(events, w.Event)
		if d := f.delivery(w.Delivery.ID); d.Status != store.DeliveryPending || d.EventID != w.Event.ID {
			t.Errorf("replayed delivery = %+v, want pending for %s", d, w.Event.ID)
		}
	}
	check(t, "replayed", rs.labels(events), []string{"succeeded", "failed", "cancelled", "missed", "resent-ok", "resent-pending"})
	by, _ := f.s.MissedBy(f.ctx, rs.id["missed"])
	check(t, "MissedBy after the replay", by, map[string]bool{rs.other.ID: true})
}

func testReplayConcurrent(t *testing.T, f *fixture) {
	s := f.scene()
	const events, replays = 30, 4
	for range events {
		f.missed(s.project, "TODO_CREATED", s.hook)
	}
	var mu sync.Mutex
	sent := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, replays)
	for range replays {
		wg.Go(func() {
			work, err := f.s.Replay(f.ctx, s.hook.ID, time.Time{}, true, func(store.Event) bool { return true },
				func(ev store.Event) store.Delivery {
					mu.Lock()
					defer mu.Unlock()
					return f.newDelivery(ev, s.hook.ID)
				})
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, w := range work {
				sent[w.Event.ID]++
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Replay: %v", err)
	}
	if len(sent) != events {
		t.Errorf("%d events replayed, want %d", len(sent), events)
	}
	for id, n := range sent {
		if n != 1 {
			t.Errorf("event %s replayed %d times, want once", id, n)
		}
	}
	pending, _, err := f.s.ListDeliveries(f.ctx, store.DeliveryFilter{WebhookID: s.hook.ID}, store.Page{})
	f.must(err, "ListDeliveries")
	if len(pending) != events {
		t.Errorf("%d deliveries stored, want %d", len(pending), events)
	}
}
