package delivery_test

import (
	"testing"
	"time"

	"hookyard/delivery"
	"hookyard/store"
)

// A webhook paced at 20 per second gets its requests evenly spaced, 50 ms apart, as its
// receiver measures them, however many wait; the waiting ones are not failures: each is
// delivered at its first attempt. Another webhook's requests are not held up meanwhile.
func TestEnginePacesAWebhooksRequests(t *testing.T) {
	w := newWorld(t)
	paced, free := newHookServer(t, nil), newHookServer(t, nil)
	rate := 20.0
	h := w.hook("paced", paced.URL, func(h *store.Webhook) { h.RateLimitPerSecond = &rate; h.Events = []string{"TODO_CREATED"} })
	w.hook("free", free.URL, func(h *store.Webhook) { h.Events = []string{"TODO_MOVED"} })
	e := w.start(engineOpts{})
	const n = 12
	in := make([]delivery.EventInput, n)
	for i := range in {
		in[i] = w.ev("TODO_CREATED")
	}
	pubs := w.publish(e, in...)
	w.publish(e, w.ev("TODO_MOVED"), w.ev("TODO_MOVED"), w.ev("TODO_MOVED"))
	waitUntil(t, "the unpaced webhook's 3 requests", func() bool { return free.count() == 3 })
	if got := paced.count(); got >= n {
		t.Errorf("the paced webhook already had all %d requests when the unpaced one had its 3", got)
	}
	waitUntil(t, "the paced webhook's requests", func() bool { return paced.count() == n })

	pace := time.Second / time.Duration(rate)
	hits := paced.requests()
	for i := 1; i < len(hits); i++ {
		// Network and scheduling jitter move one arrival by a few ms; a gap under half the
		// pace means two requests started together.
		if gap := hits[i].at.Sub(hits[i-1].at); gap < pace/2 {
			t.Errorf("requests %d and %d arrived %v apart, want about %v", i, i+1, gap, pace)
		}
	}
	if span, least := hits[n-1].at.Sub(hits[0].at), time.Duration(n-1)*pace*9/10; span < least {
		t.Errorf("%d requests arrived within %v, want at least %v at 20 per second", n, span, least)
	}
	// Waiting is not failing: each is delivered at its first attempt.
	for _, p := range pubs {
		w.waitStatus(w.deliveryOf(p.ID, h.ID).ID, store.DeliverySucceeded, 1)
	}
	if h := w.webhook(h.ID); h.ConsecutiveFailures != 0 || !h.Enabled {
		t.Errorf("the paced webhook shows %d failures, enabled %t", h.ConsecutiveFailures, h.Enabled)
	}
}
