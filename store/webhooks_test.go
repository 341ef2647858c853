package store

import (
	"encoding/json"
	"reflect"
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
