package delivery_test

import (
	"net/http"
	"testing"
	"time"

	"hookyard/store"
)

// A switch-off decided in memory (a 410) that the store then does not carry out — here the
// person turned the webhook off and on while the request was in flight — must not keep
// cancelling the webhook's later deliveries.
func TestEngineForgetsASwitchOffThatDidNotHappen(t *testing.T) {
	w := newWorld(t)
	var srv *hookServer
	srv = newHookServer(t, func(rw http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			srv.hang(r)
			rw.WriteHeader(http.StatusGone)
			return
		}
		rw.WriteHeader(http.StatusOK)
	})
	h := w.hook("flaky", srv.URL, nil)
	e := w.start(engineOpts{})
	first := w.publish(e, w.ev("TODO_CREATED"))[0]
	waitUntil(t, "the first request in flight", func() bool { return srv.count() == 1 })

	// Off and on again while it hangs: the first delivery is cancelled.
	if _, err := w.st.DisableWebhook(w.ctx, h.ID, store.StatusHealthy, "paused"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // distinct millisecond for the switch-off
	if _, err := w.st.EnableWebhook(w.ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	srv.unblock() // now the 410 arrives for a delivery that is no longer pending
	waitUntil(t, "the 410 to be recorded", func() bool { return len(w.attempts(w.deliveryOf(first.ID, h.ID).ID)) == 1 })

	if got := w.webhook(h.ID); !got.Enabled {
		t.Fatalf("the webhook was switched off by a 410 for a cancelled delivery: %+v", got)
	}
	second := w.publish(e, w.ev("TODO_CREATED"))[0]
	d := w.waitStatus(w.deliveryOf(second.ID, h.ID).ID, store.DeliverySucceeded, 1)
	if d.Status != store.DeliverySucceeded {
		t.Fatalf("the next delivery ended %s (%s), want succeeded", d.Status, d.LastError)
	}
}
