package storetest

import (
	"net/http"
	"testing"
	"time"

	"hookyard/store"
)

var attemptCases = []testCase{
	{"Success", testAttemptSuccess},
	{"FailuresThenSuccess", testAttemptRetries},
	{"LastAttemptFails", testAttemptExhausted},
	{"StoredAsSent", testAttemptFields},
	{"SwitchOffCancelsPendingAndLeavesANotice", testAttemptSwitchOff},
	{"SwitchOffTwiceInOneBatch", testAttemptSwitchOffOnce},
	{"OutcomeForACancelledDeliveryKeepsOnlyTheAttempt", testAttemptAfterCancel},
	{"OutcomeForADeletedDeliveryIsDropped", testAttemptAfterDelete},
}

// histogram counts the given durations.
func histogram(ds ...time.Duration) store.Histogram {
	h := make(store.Histogram, len(store.LatencyBuckets)+1)
	for _, d := range ds {
		h.Add(d)
	}
	return h
}

func (f *fixture) hours(webhookID string) []store.HourStats {
	f.t.Helper()
	h, err := f.s.WebhookHours(f.ctx, webhookID, time.Time{})
	f.must(err, "WebhookHours")
	return h
}

func (f *fixture) attempts(deliveryID string) []store.Attempt {
	f.t.Helper()
	a, err := f.s.Attempts(f.ctx, deliveryID)
	f.must(err, "Attempts")
	return a
}

func testAttemptSuccess(t *testing.T, f *fixture) {
	s := f.scene()
	_, ds := f.publish(s.project, "TODO_CREATED", s.hook)
	f.clock.Advance(time.Second)
	o := f.outcome(ds[0], 1, 200, store.DeliverySucceeded)
	if off := f.record(o); len(off) != 0 {
		t.Errorf("RecordAttempts switched off %v", off)
	}
	want := ds[0]
	want.Status, want.Attempts, want.NextAttemptAt, want.LastStatusCode, want.UpdatedAt = store.DeliverySucceeded, 1, nil, 200, f.now()
	check(t, "delivery", f.delivery(ds[0].ID), want)
	w := f.webhookNow(s.hook.ID)
	if w.ConsecutiveFailures != 0 || !sameTime(w.LastSuccessAt, &o.Attempt.StartedAt) || w.LastFailureAt != nil || !w.Enabled {
		t.Errorf("webhook health = %d failures, last success %s, last failure %s; want 0, %s, none",
			w.ConsecutiveFailures, timeOf(w.LastSuccessAt), timeOf(w.LastFailureAt), o.Attempt.StartedAt)
	}
	check(t, "hourly figures", f.hours(s.hook.ID), []store.HourStats{{Hour: f.now().Truncate(time.Hour),
		Attempts: 1, Succeeded: 1, Latency: histogram(3 * time.Millisecond)}})
	if a := f.attempts(ds[0].ID); len(a) != 1 || !a[0].OK || a[0].Number != 1 {
		t.Errorf("attempts = %+v, want the one OK attempt", a)
	}
}

func testAttemptRetries(t *testing.T, f *fixture) {
	s := f.scene()
	_, ds := f.publish(s.project, "TODO_CREATED", s.hook)
	d := ds[0]
	for i, code := range []int{500, 503} {
		f.clock.Advance(10 * time.Second)
		o := f.outcome(d, i+1, code, store.DeliveryPending)
		f.record(o)
		want := d
		want.Attempts, want.NextAttemptAt, want.LastStatusCode, want.LastError, want.UpdatedAt = i+1, o.NextAttemptAt, code, o.Attempt.Error, f.now()
		check(t, "delivery after a failed attempt", f.delivery(d.ID), want)
		w := f.webhookNow(s.hook.ID)
		if w.ConsecutiveFailures != i+1 || !sameTime(w.LastFailureAt, ptr(f.now())) || w.LastError != o.Attempt.Error || w.LastSuccessAt != nil {
			t.Errorf("webhook after %d failures: %d failures, last failure %s (%q), last success %s",
				i+1, w.ConsecutiveFailures, timeOf(w.LastFailureAt), w.LastError, timeOf(w.LastSuccessAt))
		}
	}
	f.clock.Advance(time.Minute)
	f.record(f.outcome(d, 3, 204, store.DeliverySucceeded))
	if got := f.delivery(d.ID); got.Status != store.DeliverySucceeded || got.Attempts != 3 || got.NextAttemptAt != nil ||
		got.LastStatusCode != 204 || got.LastError != "" {
		t.Errorf("delivery after the third attempt = %+v, want succeeded after 3 with 204", got)
	}
	if w := f.webhookNow(s.hook.ID); w.ConsecutiveFailures != 0 || !sameTime(w.LastSuccessAt, ptr(f.now())) {
		t.Errorf("a success did not end the failure streak: %d failures, last success %s", w.ConsecutiveFailures, timeOf(w.LastSuccessAt))
	}
	var numbers, codes []int
	for _, a := range f.attempts(d.ID) {
		numbers, codes = append(numbers, a.Number), append(codes, a.StatusCode)
	}
	check(t, "attempt numbers", numbers, []int{1, 2, 3})
	check(t, "attempt answers", codes, []int{500, 503, 204})
	check(t, "hourly figures", f.hours(s.hook.ID), []store.HourStats{{Hour: clockStart.Truncate(time.Hour),
		Attempts: 3, Failures: 2, Succeeded: 1, Latency: histogram(3*time.Millisecond, 3*time.Millisecond, 3*time.Millisecond)}})
}

func testAttemptExhausted(t *testing.T, f *fixture) {
	s := f.scene()
	_, ds := f.publish(s.project, "TODO_CREATED", s.hook)
	f.record(f.outcome(ds[0], 5, 500, store.DeliveryFailed))
	want := ds[0]
	want.Status, want.Attempts, want.NextAttemptAt, want.LastStatusCode, want.LastError, want.UpdatedAt =
		store.DeliveryFailed, 5, nil, 500, "HTTP 500", f.now()
	check(t, "delivery", f.delivery(ds[0].ID), want)
	if w := f.webhookNow(s.hook.ID); !w.Enabled || w.ConsecutiveFailures != 1 {
		t.Errorf("webhook = %+v; without a reason to switch off it stays on", w)
	}
	check(t, "hourly figures", f.hours(s.hook.ID), []store.HourStats{{Hour: f.now().Truncate(time.Hour),
		Attempts: 1, Failures: 1, Failed: 1, Latency: histogram(3 * time.Millisecond)}})
}

func testAttemptFields(t *testing.T, f *fixture) {
	s := f.scene()
	_, ds := f.publish(s.project, "TODO_CREATED", s.hook, f.webhook(s.owner.ID, "other"))
	full := f.outcome(ds[0], 1, 500, store.DeliveryPending)
	full.Attempt.StartedAt = f.clock.Now().Add(250 * time.Microsecond) // kept to the millisecond
	full.Attempt.Duration = 1234567 * time.Nanosecond                  // kept to the microsecond
	full.Attempt.RequestHeaders = http.Header{"Content-Type": {"application/json"}, "X-Many": {"b", "a"}}
	full.Attempt.ResponseHeaders = http.Header{"Retry-After": {"10"}, "Set-Cookie": {"x=1", "y=2"}}
	full.Attempt.ResponseBody = "not utf-8: \xff\xfe and a NUL \x00 end"
	full.Attempt.Truncated = true
	full.Attempt.HeadersTruncated = true
	full.Attempt.Error = "The receiver answered HTTP 500."
	bare := f.outcome(ds[1], 1, 0, store.DeliveryPending)
	bare.Attempt.RequestHeaders, bare.Attempt.ResponseHeaders, bare.Attempt.ResponseBody = nil, nil, ""
	bare.Attempt.Error = "connection refused"
	f.record(full, bare)

	got := f.attempts(ds[0].ID)
	if len(got) != 1 {
		t.Fatalf("attempts = %+v, want one", got)
	}
	if got[0].ID == 0 {
		t.Error("attempt has no id")
	}
	want := full.Attempt
	want.ID, want.StartedAt, want.Duration, want.DurationMs = got[0].ID, ms(full.Attempt.StartedAt), 1234*time.Microsecond, 1.234
	check(t, "attempt", got[0], want)

	got = f.attempts(ds[1].ID)
	if len(got) != 1 || got[0].StatusCode != 0 || got[0].Error != "connection refused" || got[0].OK ||
		len(got[0].RequestHeaders) != 0 || len(got[0].ResponseHeaders) != 0 || got[0].ResponseBody != "" {
		t.Errorf("attempt without an answer = %+v", got)
	}
	if got[0].ID == want.ID {
		t.Errorf("two attempts share the id %d", got[0].ID)
	}
}

func testAttemptSwitchOff(t *testing.T, f *fixture) {
	s := f.scene()
	other := f.webhook(s.owner.ID, "other")
	_, done := f.publish(s.project, "TODO_CREATED", s.hook)
	f.record(f.outcome(done[0], 1, 200, store.DeliverySucceeded))
	succeeded := f.delivery(done[0].ID)
	_, ds := f.publish(s.project, "TODO_MOVED", s.hook, other)
	_, more := f.publish(s.project, "TODO_DELETED", s.hook)
	failing := ds[0]

	f.clock.Advance(time.Hour)
	before := f.s.Changes()
	o := f.outcome(failing, 5, 500, store.DeliveryFailed)
	o.DisableReason = "5 attempts failed for TODO_MOVED: HTTP 500"
	check(t, "switched off", f.record(o), []string{s.hook.ID})
	if f.s.Changes() <= before {
		t.Error("a switch-off did not count as a change")
	}
	w := f.webhookNow(s.hook.ID)
	if w.Enabled || w.Status != store.StatusUnhealthy || w.DisabledReason != o.DisableReason ||
		!sameTime(w.DisabledAt, ptr(f.now())) || !sameTime(w.LastDisabledAt, ptr(f.now())) || !w.UpdatedAt.Equal(f.now()) {
		t.Errorf("webhook = %+v; want off, UNHEALTHY, with the reason, disabled now", w)
	}
	if d := f.delivery(failing.ID); d.Status != store.DeliveryFailed || d.Attempts != 5 || d.LastError != "HTTP 500" {
		t.Errorf("the delivery that failed = %+v; want failed after 5 attempts", d)
	}
	want := more[0]
	want.Status, want.NextAttemptAt, want.LastError, want.UpdatedAt = store.DeliveryCancelled, nil, switchedOffText, f.now()
	check(t, "the webhook's other pending delivery", f.delivery(more[0].ID), want)
	check(t, "its finished delivery", f.delivery(done[0].ID), succeeded)
	check(t, "another webhook's pending delivery", f.delivery(ds[1].ID), ds[1])
	if w := f.webhookNow(other.ID); !w.Enabled {
		t.Error("another webhook was switched off")
	}
	notes, _ := f.s.UnreadNotifications(f.ctx, s.owner.ID)
	if len(notes) != 1 || notes[0].WebhookID != s.hook.ID || notes[0].Text != "Your webhook “main” was switched off: "+o.DisableReason {
		t.Errorf("notices = %+v, want one saying the webhook was switched off and why", notes)
	}
	hours := f.hours(s.hook.ID)
	if len(hours) != 2 || hours[1].Failed != 1 || hours[1].Attempts != 1 {
		t.Errorf("hourly figures = %+v, want this hour's failed delivery counted", hours)
	}

	// A late result asking to switch off what is already off changes nothing.
	late := f.outcome(more[0], 1, 410, store.DeliveryFailed)
	late.DisableReason = "410 Gone"
	check(t, "switched off again", f.record(late), []string{})
	if n, _ := f.s.UnreadNotifications(f.ctx, s.owner.ID); len(n) != 1 {
		t.Errorf("%d notices after a late result, want 1", len(n))
	}
}

func testAttemptSwitchOffOnce(t *testing.T, f *fixture) {
	s := f.scene()
	_, a := f.publish(s.project, "TODO_CREATED", s.hook)
	_, b := f.publish(s.project, "TODO_MOVED", s.hook)
	oa, ob := f.outcome(a[0], 5, 500, store.DeliveryFailed), f.outcome(b[0], 5, 500, store.DeliveryFailed)
	oa.DisableReason, ob.DisableReason = "first", "second"
	check(t, "switched off", f.record(oa, ob), []string{s.hook.ID})
	if w := f.webhookNow(s.hook.ID); w.DisabledReason != "first" {
		t.Errorf("reason %q, want the first outcome's", w.DisabledReason)
	}
	// The second delivery was cancelled by the first switch-off; its attempt is kept.
	if d := f.delivery(b[0].ID); d.Status != store.DeliveryCancelled || d.Attempts != 5 {
		t.Errorf("second delivery = %+v, want cancelled with its 5 attempts counted", d)
	}
	if n := len(f.attempts(b[0].ID)); n != 1 {
		t.Errorf("second delivery has %d attempts stored, want 1", n)
	}
	if n, _ := f.s.UnreadNotifications(f.ctx, s.owner.ID); len(n) != 1 {
		t.Errorf("%d notices, want 1", len(n))
	}
}

func testAttemptAfterCancel(t *testing.T, f *fixture) {
	s := f.scene()
	_, ds := f.publish(s.project, "TODO_CREATED", s.hook)
	d := ds[0]
	f.record(f.outcome(d, 1, 500, store.DeliveryPending))
	f.clock.Advance(time.Minute)
	f.must(f.s.CancelDelivery(f.ctx, d.ID, "Cancelled by a person."), "CancelDelivery")
	cancelled, hook, hours := f.delivery(d.ID), f.webhookNow(s.hook.ID), f.hours(s.hook.ID)

	// The second attempt was in flight; its result arrives after the cancel.
	f.clock.Advance(time.Minute)
	late := f.outcome(d, 2, 500, store.DeliveryFailed)
	late.DisableReason = "2 attempts failed"
	check(t, "switched off", f.record(late), []string{})
	want := cancelled
	want.Attempts = 2
	check(t, "the cancelled delivery", f.delivery(d.ID), want)
	if a := f.attempts(d.ID); len(a) != 2 || a[1].Number != 2 || a[1].StatusCode != 500 {
		t.Errorf("attempts = %+v, want both, the late one kept", a)
	}
	check(t, "the webhook", f.webhookNow(s.hook.ID), hook)
	check(t, "hourly figures", f.hours(s.hook.ID), hours)
	if n, _ := f.s.UnreadNotifications(f.ctx, s.owner.ID); len(n) != 0 {
		t.Errorf("notices = %+v, want none", n)
	}

	// An older result arriving last does not lower the count.
	f.record(f.outcome(d, 1, 200, store.DeliverySucceeded))
	check(t, "the cancelled delivery after an older result", f.delivery(d.ID), want)
}

func testAttemptAfterDelete(t *testing.T, f *fixture) {
	s := f.scene()
	gone := f.webhook(s.owner.ID, "gone")
	_, ds := f.publish(s.project, "TODO_CREATED", gone, s.hook)
	f.must(f.s.DeleteWebhook(f.ctx, gone.ID), "DeleteWebhook")
	lost := f.outcome(ds[0], 1, 500, store.DeliveryFailed)
	lost.DisableReason = "x"
	check(t, "switched off", f.record(lost, f.outcome(ds[1], 1, 200, store.DeliverySucceeded)), []string{})
	if a := f.attempts(ds[0].ID); len(a) != 0 {
		t.Errorf("attempts of a deleted delivery = %+v", a)
	}
	if d := f.delivery(ds[1].ID); d.Status != store.DeliverySucceeded {
		t.Errorf("the other outcome in the batch: %+v, want succeeded", d)
	}
}
