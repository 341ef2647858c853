package store

import (
	"encoding/json"
	"reflect"
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

// A webhook's filter is stored as given, read back by every way of loading webhooks, changed
// or removed by UpdateWebhook, and left alone by changes that do not name it.
func TestWebhookFilterRoundTrip(t *testing.T) {
	w := newDeliveryWorld(t)
	ctx := t.Context()
	f := &PayloadFilter{Match: "any", Conditions: []FilterCondition{
		{Path: "currentValue.status", Op: "in", Value: json.RawMessage(`["Done","Closed"]`)},
		{Path: "currentValue.status", Op: "changed"},
	}}
	h := Webhook{OwnerID: w.owner.ID, Name: "Filtered", URL: "http://127.0.0.1:9/f", Secret: "whsec_x", Filter: f}
	if err := w.s.CreateWebhook(ctx, &h); err != nil {
		t.Fatal(err)
	}
	check := func(what string, want *PayloadFilter) {
		t.Helper()
		got, err := w.s.Webhook(ctx, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		listed, _, err := w.s.ListWebhooks(ctx, WebhookFilter{OwnerID: w.owner.ID}, Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var inList *PayloadFilter
		for _, l := range listed {
			if l.ID == h.ID {
				inList = l.Filter
			}
		}
		for _, g := range []*PayloadFilter{got.Filter, inList} {
			if !reflect.DeepEqual(g, want) {
				t.Errorf("%s: filter %+v, want %+v", what, g, want)
			}
		}
	}
	check("created", f)
	name := "Renamed"
	if _, err := w.s.UpdateWebhook(ctx, h.ID, WebhookChanges{Name: &name}); err != nil {
		t.Fatal(err)
	}
	check("after a rename", f)
	g := &PayloadFilter{Match: "all", Conditions: []FilterCondition{{Path: "event", Op: "eq", Value: json.RawMessage(`"TODO_MOVED"`)}}}
	if got, err := w.s.UpdateWebhook(ctx, h.ID, WebhookChanges{Filter: Setting[*PayloadFilter]{Set: true, To: g}}); err != nil || !reflect.DeepEqual(got.Filter, g) {
		t.Fatalf("UpdateWebhook answered %+v, %v", got.Filter, err)
	}
	check("changed", g)
	if _, err := w.s.UpdateWebhook(ctx, h.ID, WebhookChanges{Filter: Setting[*PayloadFilter]{Set: true}}); err != nil {
		t.Fatal(err)
	}
	check("removed", nil)
	if n := countRows(t, w.s, "webhooks", "filter IS NULL AND id = ?", h.ID); n != 1 {
		t.Errorf("a removed filter is stored as %d NULL rows, want 1", n)
	}
	if plain, err := w.s.Webhook(ctx, w.hook.ID); err != nil || plain.Filter != nil {
		t.Errorf("a webhook made without a filter reads back with %+v (%v)", plain.Filter, err)
	}
}

// A webhook switched back on after its health check counts the check: as its latest success,
// in the hour's figures, and as the check its page names; the notice of the switch-off is
// closed. A second check replaces the first.
func TestEnableAfterHealthCheck(t *testing.T) {
	w := newDeliveryWorld(t)
	ctx := t.Context()
	out := w.finished(w.publish(w.hook.ID, w.clock.Peek()), DeliveryFailed)
	out.DisableReason = "5 attempts failed for TODO_CREATED: HTTP 500 Internal Server Error"
	if off := w.record(out); len(off) != 1 {
		t.Fatalf("RecordAttempts switched off %v, want the webhook", off)
	}
	if notes, err := w.s.UnreadNotifications(ctx, w.owner.ID); err != nil || len(notes) != 1 {
		t.Fatalf("notices after the switch-off: %v (%v), want 1", notes, err)
	}
	if c, err := w.s.LastHealthCheck(ctx, w.hook.ID); err != nil || c != nil {
		t.Fatalf("LastHealthCheck before any: %+v, %v; want none", c, err)
	}
	passed := w.clock.Peek().Truncate(time.Millisecond)
	on, err := w.s.EnableAfterHealthCheck(ctx, w.hook.ID, HealthCheck{PassedAt: passed, StatusCode: 204, Duration: 12 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !on.Enabled || on.ConsecutiveFailures != 0 || on.LastSuccessAt == nil || !on.LastSuccessAt.Equal(passed) {
		t.Errorf("after the health check: enabled %v, failures %d, last success %v; want on, 0, %v", on.Enabled, on.ConsecutiveFailures, on.LastSuccessAt, passed)
	}
	c, err := w.s.LastHealthCheck(ctx, w.hook.ID)
	if err != nil || c == nil || !c.PassedAt.Equal(passed) || c.StatusCode != 204 || c.Duration != 12*time.Millisecond {
		t.Errorf("LastHealthCheck = %+v, %v; want passed at %v with 204 in 12 ms", c, err, passed)
	}
	hours, err := w.s.WebhookHours(ctx, w.hook.ID, passed.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	attempts, failures := 0, 0
	for _, h := range hours {
		attempts, failures = attempts+h.Attempts, failures+h.Failures
	}
	if attempts != 2 || failures != 1 {
		t.Errorf("hourly figures: %d attempts, %d failures; want the failed attempt and the passed check", attempts, failures)
	}
	if notes, err := w.s.UnreadNotifications(ctx, w.owner.ID); err != nil || len(notes) != 0 {
		t.Errorf("notices once back on: %v (%v), want none", notes, err)
	}

	later := passed.Add(time.Hour)
	if _, err := w.s.EnableAfterHealthCheck(ctx, w.hook.ID, HealthCheck{PassedAt: later, StatusCode: 200, Duration: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if c, err := w.s.LastHealthCheck(ctx, w.hook.ID); err != nil || c == nil || !c.PassedAt.Equal(later) || c.StatusCode != 200 {
		t.Errorf("LastHealthCheck after a second check = %+v, %v; want the later one", c, err)
	}
}
