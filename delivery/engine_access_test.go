package delivery_test

import (
	"net/http"
	"testing"

	"hookyard/delivery"
	"hookyard/store"
)

// Access is checked again at every attempt, not only at publish: a member's webhook whose
// first attempt failed gets no retry once the member has left the organisation; the
// delivery is cancelled with a plain reason and the webhook stays on.
func TestEngineCancelsARetryOnceTheOwnerLostAccess(t *testing.T) {
	w := newWorld(t)
	mia := w.user("mia@example.com", store.RoleMember, w.org.ID)
	firstArrived, failFirst := make(chan struct{}), make(chan struct{})
	rcv := newHookServer(t, func(rw http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			close(firstArrived)
			<-failFirst
		}
		rw.WriteHeader(http.StatusInternalServerError)
	})
	h := w.hook("mia's", rcv.URL+"/hook", func(h *store.Webhook) { h.OwnerID = mia.ID })
	e := w.start(engineOpts{cfg: delivery.Config{RetrySchedule: fastRetries}})
	pub := w.publish(e, w.ev("TODO_CREATED"))[0]
	if pub.Deliveries != 1 {
		t.Fatalf("Deliveries = %d, want 1 (Mia is a member)", pub.Deliveries)
	}
	<-firstArrived
	// Mia leaves while her first attempt is in flight; it fails, and its retry is due 10 ms later.
	if err := w.st.RemoveMember(w.ctx, w.org.ID, mia.ID); err != nil {
		t.Fatal(err)
	}
	close(failFirst)

	id := w.deliveryOf(pub.ID, h.ID).ID
	waitUntil(t, "the delivery to be settled", func() bool { return w.delivery(id).Status != store.DeliveryPending })
	d := w.delivery(id)
	const reason = "Cancelled: the webhook no longer receives this event (its choices or its owner's access changed)."
	if d.Status != store.DeliveryCancelled || d.LastError != reason {
		t.Errorf("delivery after the owner left: %s, %q; want cancelled, %q", d.Status, d.LastError, reason)
	}
	// Cancelled is final: nothing of this delivery can still be on its way.
	if n := rcv.count(); n != 1 || d.Attempts != 1 || len(w.attempts(id)) != 1 {
		t.Errorf("receiver got %d requests, %d attempts counted, %d stored; want only the first attempt", n, d.Attempts, len(w.attempts(id)))
	}
	if hk := w.webhook(h.ID); !hk.Enabled {
		t.Errorf("the webhook was switched off (%q); a lost access cancels deliveries, it does not switch the webhook off", hk.DisabledReason)
	}
}
