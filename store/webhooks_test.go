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
