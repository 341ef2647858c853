package store

import (
	"slices"
	"testing"
	"time"
)

// After a rotation the old secret signs beside the new one for the grace period it was
// given (24 h from the dashboard and API), and from its end on only the new one signs.
func TestRotatedOutSecretStopsSigningAfterItsGracePeriod(t *testing.T) {
	w := newDeliveryWorld(t)
	ctx := t.Context()
	old := w.hook.Secret
	if got := w.hook.SigningSecrets(clockStart); !slices.Equal(got, []string{old}) {
		t.Fatalf("before any rotation: signing secrets %v, want only the secret", got)
	}
	rotatedAt := w.clock.Peek()
	const fresh = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
	if _, err := w.s.RotateSecret(ctx, w.hook.ID, fresh, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	h, err := w.s.Webhook(ctx, w.hook.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		after time.Duration
		want  []string
	}{
		{0, []string{fresh, old}},
		{time.Hour, []string{fresh, old}},
		{24*time.Hour - time.Millisecond, []string{fresh, old}},
		{24 * time.Hour, []string{fresh}},
		{25 * time.Hour, []string{fresh}},
		{30 * 24 * time.Hour, []string{fresh}},
	} {
		if got := h.SigningSecrets(rotatedAt.Add(c.after)); !slices.Equal(got, c.want) {
			t.Errorf("%v after the rotation: signing secrets %v, want %v", c.after, got, c.want)
		}
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
