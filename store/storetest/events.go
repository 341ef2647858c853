package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"hookyard/store"
)

var eventCases = []testCase{
	{"PublishAndRead", testPublishAndRead},
	{"PublishIsAllOrNothing", testPublishAtomic},
	{"PublishSkipsDeletedWebhooks", testPublishSkipsDeletedWebhooks},
	{"ListFilters", testListEventsFilters},
	{"MissedRecords", testMissedRecords},
}

var idempotencyCases = []testCase{
	{"FirstAnswerIsRepeated", testIdempotencyConflict},
	{"ResponseSince", testIdempotentResponseSince},
	{"KeyFreeAfterTheWindow", testIdempotencyWindow},
	{"KeyReusedWithAnotherRequest", testIdempotencyRequestHash},
}

func testPublishAndRead(t *testing.T, f *fixture) {
	s := f.scene()
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	at := f.clock.Now().In(zone) // sub-millisecond, not UTC
	values := []struct{ prev, cur string }{
		{"", `{"b": 2,  "a": [1, 2.50, "x"], "u": "\u00e9"}`}, // kept byte for byte, as published
		{"null", `"text"`},
		{`{}`, `[]`},
		{`0`, `null`},
	}
	pub := store.Publication{}
	var want []store.Event
	for i, v := range values {
		ev := store.Event{ID: f.s.NextID("evt"), Type: "TODO_CREATED", OrganizationID: s.org.ID, ProjectID: s.project.ID,
			PublisherID: s.owner.ID, CreatedAt: at.Add(time.Duration(i) * time.Millisecond)}
		if v.prev != "" {
			ev.PreviousValue = json.RawMessage(v.prev)
		}
		ev.CurrentValue = json.RawMessage(v.cur)
		pub.Events = append(pub.Events, ev)
		stored := ev
		stored.CreatedAt = ms(ev.CreatedAt)
		if v.prev == "" {
			stored.PreviousValue = json.RawMessage("null")
		}
		want = append(want, stored)
	}
	f.must(f.s.Publish(f.ctx, pub), "Publish")
	for i, w := range want {
		got, err := f.s.Event(f.ctx, w.ID)
		f.must(err, "Event")
		check(t, "Event "+values[i].cur, got, w)
		if string(got.CurrentValue) != values[i].cur {
			t.Errorf("current value %s, want %s byte for byte", got.CurrentValue, values[i].cur)
		}
	}
	_, err := f.s.Event(f.ctx, "evt_missing")
	checkErr(t, "Event(unknown)", err, store.ErrNotFound)
	// A publication without events or deliveries is no error.
	checkErr(t, "empty Publish", f.s.Publish(f.ctx, store.Publication{}), nil)
}

func testPublishAtomic(t *testing.T, f *fixture) {
	s := f.scene()
	first, _ := f.publish(s.project, "TODO_CREATED", s.hook)
	fresh := f.newEvent(s.project, "TODO_MOVED")
	dup := f.newEvent(s.project, "TODO_DELETED")
	dup.ID = first.ID // the second event cannot be stored
	pub := store.Publication{Events: []store.Event{fresh, dup},
		Deliveries:        []store.Delivery{f.newDelivery(fresh, s.hook.ID)},
		Missed:            []store.MissedEvent{{WebhookID: s.hook.ID, EventID: fresh.ID}},
		IdempotencyUserID: s.owner.ID, IdempotencyKey: "k1", Response: []byte(`{"id": "x"}`)}
	if err := f.s.Publish(f.ctx, pub); err == nil {
		t.Fatal("Publish with an event id already stored succeeded")
	}
	_, err := f.s.Event(f.ctx, fresh.ID)
	checkErr(t, "the other event of the failed publication", err, store.ErrNotFound)
	_, err = f.s.Delivery(f.ctx, pub.Deliveries[0].ID)
	checkErr(t, "the delivery of the failed publication", err, store.ErrNotFound)
	by, _ := f.s.MissedBy(f.ctx, fresh.ID)
	check(t, "missed records of the failed publication", by, map[string]bool{})
	_, err = f.s.IdempotentResponse(f.ctx, s.owner.ID, "k1", "", time.Time{})
	checkErr(t, "the key of the failed publication", err, store.ErrNotFound)
	if got, _ := f.s.Event(f.ctx, first.ID); got.Type != "TODO_CREATED" {
		t.Errorf("the event already stored became %+v", got)
	}
}

// A publish whose cached view still has a webhook deleted a moment ago stores the event and
// the other deliveries, and skips that webhook's, instead of failing.
func testPublishSkipsDeletedWebhooks(t *testing.T, f *fixture) {
	s := f.scene()
	gone := f.webhook(s.owner.ID, "gone")
	f.must(f.s.DeleteWebhook(f.ctx, gone.ID), "DeleteWebhook")
	ev := f.newEvent(s.project, "TODO_CREATED")
	live, dead := f.newDelivery(ev, s.hook.ID), f.newDelivery(ev, gone.ID)
	pub := store.Publication{Events: []store.Event{ev}, Deliveries: []store.Delivery{live, dead},
		Missed: []store.MissedEvent{{WebhookID: gone.ID, EventID: ev.ID}}}
	f.must(f.s.Publish(f.ctx, pub), "publish with a just-deleted webhook")
	if _, err := f.s.Event(f.ctx, ev.ID); err != nil {
		t.Errorf("the event: %v", err)
	}
	check(t, "the live webhook's delivery", f.delivery(live.ID), live)
	_, err := f.s.Delivery(f.ctx, dead.ID)
	checkErr(t, "the deleted webhook's delivery", err, store.ErrNotFound)
	by, _ := f.s.MissedBy(f.ctx, ev.ID)
	check(t, "missed records", by, map[string]bool{})
	// The same for resends and replays.
	again := f.newDelivery(ev, gone.ID)
	checkErr(t, "AddDeliveries for a deleted webhook", f.s.AddDeliveries(f.ctx, []store.Delivery{again}), nil)
	_, err = f.s.Delivery(f.ctx, again.ID)
	checkErr(t, "a resend to a deleted webhook", err, store.ErrNotFound)
}

func testListEventsFilters(t *testing.T, f *fixture) {
	ada := f.user("ada@example.com", "Ada", store.RoleMember)
	loner := f.user("bob@example.com", "Bob", store.RoleMember)
	acme, globex := f.org("Acme"), f.org("Globex")
	web, app, bill := f.project(acme.ID, "Web"), f.project(acme.ID, "App"), f.project(globex.ID, "Billing")
	f.member(acme.ID, ada.ID)
	name := map[string]string{}
	for _, e := range []struct {
		label string
		p     store.Project
		typ   string
	}{
		{"web-created", web, "TODO_CREATED"}, {"app-created", app, "TODO_CREATED"}, {"bill-created", bill, "TODO_CREATED"},
		{"web-moved", web, "TODO_MOVED"}, {"bill-moved", bill, "TODO_MOVED"},
	} {
		ev, _ := f.publish(e.p, e.typ)
		name[ev.ID] = e.label
		f.clock.Advance(time.Millisecond)
	}
	for _, tc := range []struct {
		filter store.EventFilter
		want   []string
	}{
		{store.EventFilter{}, []string{"bill-moved", "web-moved", "bill-created", "app-created", "web-created"}},
		{store.EventFilter{Type: "TODO_MOVED"}, []string{"bill-moved", "web-moved"}},
		{store.EventFilter{ProjectID: web.ID}, []string{"web-moved", "web-created"}},
		{store.EventFilter{MemberID: ada.ID}, []string{"web-moved", "app-created", "web-created"}},
		{store.EventFilter{MemberID: ada.ID, ProjectID: bill.ID}, []string{}},
		{store.EventFilter{MemberID: ada.ID, Type: "TODO_CREATED"}, []string{"app-created", "web-created"}},
		{store.EventFilter{Type: "TODO_CREATED", ProjectID: bill.ID}, []string{"bill-created"}},
		{store.EventFilter{MemberID: loner.ID}, []string{}},
		{store.EventFilter{Type: "TODO_DELETED"}, []string{}},
	} {
		got, next, err := f.s.ListEvents(f.ctx, tc.filter, store.Page{})
		f.must(err, "ListEvents")
		if next != "" {
			t.Errorf("%+v: next cursor %q for a short list", tc.filter, next)
		}
		labels := []string{}
		for _, e := range got {
			labels = append(labels, name[e.ID])
		}
		check(t, "ListEvents (newest first)", labels, tc.want)
	}
	// Listed events are the events as stored.
	got, _, _ := f.s.ListEvents(f.ctx, store.EventFilter{ProjectID: app.ID}, store.Page{})
	stored, _ := f.s.Event(f.ctx, got[0].ID)
	check(t, "listed event", got, []store.Event{stored})
}

func testMissedRecords(t *testing.T, f *fixture) {
	s := f.scene()
	b, c := f.webhook(s.owner.ID, "b"), f.webhook(s.owner.ID, "c")
	ev := f.newEvent(s.project, "TODO_CREATED")
	pub := store.Publication{Events: []store.Event{ev}, Missed: []store.MissedEvent{
		{WebhookID: s.hook.ID, EventID: ev.ID}, {WebhookID: b.ID, EventID: ev.ID},
		{WebhookID: s.hook.ID, EventID: ev.ID}, // twice in one publication: kept once, no error
	}}
	f.must(f.s.Publish(f.ctx, pub), "Publish")
	other := f.missed(s.project, "TODO_MOVED", c)
	by, err := f.s.MissedBy(f.ctx, ev.ID)
	f.must(err, "MissedBy")
	check(t, "MissedBy", by, map[string]bool{s.hook.ID: true, b.ID: true})
	by, _ = f.s.MissedBy(f.ctx, other.ID)
	check(t, "MissedBy the other event", by, map[string]bool{c.ID: true})
	by, err = f.s.MissedBy(f.ctx, "evt_missing")
	f.must(err, "MissedBy(unknown)")
	check(t, "MissedBy(unknown)", by, map[string]bool{})
}

func testIdempotencyConflict(t *testing.T, f *fixture) {
	s := f.scene()
	bob := f.user("bob@example.com", "Bob", store.RoleMember)
	keyed := func(userID, key, response string) (store.Publication, error) {
		ev := f.newEvent(s.project, "TODO_CREATED")
		pub := store.Publication{Events: []store.Event{ev}, Deliveries: []store.Delivery{f.newDelivery(ev, s.hook.ID)},
			IdempotencyUserID: userID, IdempotencyKey: key, Response: []byte(response)}
		return pub, f.s.Publish(f.ctx, pub)
	}
	first, err := keyed(s.owner.ID, "key-1", `{"id": "first"}`)
	f.must(err, "first keyed Publish")
	f.clock.Advance(time.Hour)
	second, err := keyed(s.owner.ID, "key-1", `{"id": "second"}`)
	checkErr(t, "the same key again within the window", err, store.ErrConflict)
	_, err = f.s.Event(f.ctx, second.Events[0].ID)
	checkErr(t, "the refused publication's event", err, store.ErrNotFound)
	_, err = f.s.Delivery(f.ctx, second.Deliveries[0].ID)
	checkErr(t, "the refused publication's delivery", err, store.ErrNotFound)
	if _, err := f.s.Event(f.ctx, first.Events[0].ID); err != nil {
		t.Errorf("the first publication's event: %v", err)
	}
	resp, err := f.s.IdempotentResponse(f.ctx, s.owner.ID, "key-1", "", f.clock.Now().Add(-store.IdempotencyWindow))
	f.must(err, "IdempotentResponse")
	check(t, "IdempotentResponse", string(resp), `{"id": "first"}`)

	// Keys belong to a user; another key is another request.
	_, err = keyed(bob.ID, "key-1", `{"id": "bob"}`)
	checkErr(t, "another user's same key", err, nil)
	_, err = keyed(s.owner.ID, "key-2", `{"id": "two"}`)
	checkErr(t, "another key", err, nil)
	resp, _ = f.s.IdempotentResponse(f.ctx, bob.ID, "key-1", "", time.Time{})
	check(t, "Bob's answer", string(resp), `{"id": "bob"}`)
	resp, _ = f.s.IdempotentResponse(f.ctx, s.owner.ID, "key-1", "", time.Time{})
	check(t, "the owner's answer after Bob used the key", string(resp), `{"id": "first"}`)
	// Publishing without a key stores nothing to repeat.
	_, err = keyed(s.owner.ID, "", "")
	checkErr(t, "Publish without a key", err, nil)
	_, err = f.s.IdempotentResponse(f.ctx, s.owner.ID, "", "", time.Time{})
	checkErr(t, "IdempotentResponse for no key", err, store.ErrNotFound)
}

func testIdempotentResponseSince(t *testing.T, f *fixture) {
	s := f.scene()
	made := f.now()
	ev := f.newEvent(s.project, "TODO_CREATED")
	f.must(f.s.Publish(f.ctx, store.Publication{Events: []store.Event{ev}, IdempotencyUserID: s.owner.ID,
		IdempotencyKey: "k", Response: []byte("answer")}), "Publish")
	for _, tc := range []struct {
		since time.Time
		err   error
	}{
		{made.Add(-time.Hour), nil},
		{made, nil},
		{made.Add(time.Millisecond), store.ErrNotFound},
	} {
		resp, err := f.s.IdempotentResponse(f.ctx, s.owner.ID, "k", "", tc.since)
		checkErr(t, "IdempotentResponse since "+tc.since.Format(time.RFC3339Nano), err, tc.err)
		if err == nil && string(resp) != "answer" {
			t.Errorf("answer %q, want %q", resp, "answer")
		}
	}
	_, err := f.s.IdempotentResponse(f.ctx, "usr_other", "k", "", time.Time{})
	checkErr(t, "another user's key", err, store.ErrNotFound)
}

func testIdempotencyWindow(t *testing.T, f *fixture) {
	s := f.scene()
	publish := func(response string) error {
		ev := f.newEvent(s.project, "TODO_CREATED")
		return f.s.Publish(f.ctx, store.Publication{Events: []store.Event{ev}, IdempotencyUserID: s.owner.ID,
			IdempotencyKey: "k", Response: []byte(response)})
	}
	f.must(publish("first"), "first Publish")
	f.clock.Advance(store.IdempotencyWindow)
	checkErr(t, "the key at the end of its window", publish("too soon"), store.ErrConflict)
	f.clock.Advance(time.Millisecond)
	checkErr(t, "the key after its window", publish("second"), nil)
	resp, err := f.s.IdempotentResponse(f.ctx, s.owner.ID, "k", "", f.clock.Now().Add(-store.IdempotencyWindow))
	f.must(err, "IdempotentResponse")
	check(t, "the answer after the key was used again", string(resp), "second")
	checkErr(t, "the renewed key at once", publish("third"), store.ErrConflict)
}

// The answer is repeated only for the same request (its hash); the key used with another
// request is ErrKeyReused. A key stored without a hash (before requests were hashed) answers
// any request.
func testIdempotencyRequestHash(t *testing.T, f *fixture) {
	s := f.scene()
	for key, hash := range map[string]string{"hashed": "sha256-of-the-body", "old": ""} {
		ev := f.newEvent(s.project, "TODO_CREATED")
		f.must(f.s.Publish(f.ctx, store.Publication{Events: []store.Event{ev}, IdempotencyUserID: s.owner.ID,
			IdempotencyKey: key, RequestHash: hash, Response: []byte("answer " + key)}), "Publish")
	}
	since := f.clock.Now().Add(-time.Hour)
	for _, tc := range []struct {
		key, hash, want string
		err             error
	}{
		{"hashed", "sha256-of-the-body", "answer hashed", nil},
		{"hashed", "sha256-of-another-body", "", store.ErrKeyReused},
		{"hashed", "", "", store.ErrKeyReused},
		{"old", "anything", "answer old", nil},
		{"old", "", "answer old", nil},
		{"unknown", "sha256-of-the-body", "", store.ErrNotFound},
	} {
		got, err := f.s.IdempotentResponse(f.ctx, s.owner.ID, tc.key, tc.hash, since)
		checkErr(t, "IdempotentResponse("+tc.key+", "+tc.hash+")", err, tc.err)
		check(t, "answer to ("+tc.key+", "+tc.hash+")", string(got), tc.want)
	}
}
