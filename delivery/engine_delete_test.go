package delivery_test

import (
	"net/http"
	"testing"
	"time"

	"hookyard/store"
)

// Deleting a webhook while one of its requests is in flight must not cost other webhooks
// their results: the engine stores attempt outcomes in batches, and an outcome for a
// delivery that no longer exists must not make the whole batch fail.
func TestEngineDeletingAWebhookMidRequestKeepsOthersResults(t *testing.T) {
	w := newWorld(t)
	gates := map[string]chan struct{}{"/a": make(chan struct{}), "/b": make(chan struct{}), "/c": make(chan struct{})}
	rcv := newHookServer(t, func(_ http.ResponseWriter, r *http.Request, _ int) {
		select {
		case <-gates[r.URL.Path]:
		case <-r.Context().Done():
		}
	})
	a := w.hook("a", rcv.URL+"/a", func(h *store.Webhook) { h.Events = []string{"TODO_CREATED"} })
	b := w.hook("b", rcv.URL+"/b", func(h *store.Webhook) { h.Events = []string{"TODO_MOVED"} })
	c := w.hook("c", rcv.URL+"/c", func(h *store.Webhook) { h.Events = []string{"TODO_DELETED"} })
	logs := &logSink{}
	e := w.start(engineOpts{logs: logs})
	pubs := w.publish(e, w.ev("TODO_CREATED"), w.ev("TODO_MOVED"), w.ev("TODO_DELETED"))
	waitUntil(t, "three requests in flight", func() bool { n, _ := rcv.concurrency(); return n == 3 })
	dB := w.deliveryOf(pubs[1].ID, b.ID)
	dC := w.deliveryOf(pubs[2].ID, c.ID)

	if err := w.st.DeleteWebhook(w.ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	// Keep the writer busy with c's result while a's and b's arrive, so they are stored
	// together (as they would be under load).
	release := w.holdWriteLock()
	close(gates["/c"])
	time.Sleep(50 * time.Millisecond)
	close(gates["/a"])
	close(gates["/b"])
	waitUntil(t, "all answers", func() bool { n, _ := rcv.concurrency(); return n == 0 })
	time.Sleep(100 * time.Millisecond)
	release()

	w.waitStatus(dC.ID, store.DeliverySucceeded, 1)
	waitUntil(t, "b's result to be stored or dropped", func() bool {
		return w.delivery(dB.ID).Status != store.DeliveryPending || len(logs.errors()) > 0
	})
	got := w.delivery(dB.ID)
	if got.Status != store.DeliverySucceeded || got.Attempts != 1 || len(w.attempts(dB.ID)) != 1 {
		t.Errorf("b's delivery, answered 200 by its receiver: %s after %d attempts, %d stored; want succeeded, 1, 1",
			got.Status, got.Attempts, len(w.attempts(dB.ID)))
		for _, l := range logs.errors() {
			t.Log(l)
		}
	}
}
