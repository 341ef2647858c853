package delivery_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"hookyard/delivery"
	"hookyard/store"
)

// orderedReceiver records, in arrival order, the number n of each event's currentValue and
// the attempt, failing the attempts fail says to fail.
type orderedReceiver struct {
	*hookServer
	mu   sync.Mutex
	seen []string // "n#attempt"
	fail func(n, attempt int) bool
}

func newOrderedReceiver(t *testing.T, fail func(n, attempt int) bool) *orderedReceiver {
	r := &orderedReceiver{fail: fail}
	r.hookServer = newHookServer(t, func(w http.ResponseWriter, req *http.Request, k int) {
		h := r.hookServer.requests()[k-1]
		var p struct {
			CurrentValue struct{ N int } `json:"currentValue"`
		}
		_ = json.Unmarshal(h.body, &p)
		r.mu.Lock()
		r.seen = append(r.seen, fmt.Sprintf("%d#%d", p.CurrentValue.N, h.attempt()))
		failing := r.fail(p.CurrentValue.N, h.attempt())
		r.mu.Unlock()
		if failing {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	return r
}

func (r *orderedReceiver) sequence() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

func numbered(w *world, from, to int) []delivery.EventInput {
	var in []delivery.EventInput
	for n := from; n <= to; n++ {
		ev := w.ev("TODO_MOVED")
		ev.CurrentValue = json.RawMessage(fmt.Sprintf(`{"n": %d}`, n))
		in = append(in, ev)
	}
	return in
}

// An ordered webhook gets one request at a time, in publish order; when one delivery fails,
// the later ones wait for its retry and then follow it, still in order.
func TestEngineOrderedWaitsForARetry(t *testing.T) {
	w := newWorld(t)
	rcv := newOrderedReceiver(t, func(n, attempt int) bool { return n == 2 && attempt == 1 })
	other := newHookServer(t, nil)
	h := w.hook("ordered", rcv.URL, func(h *store.Webhook) { h.Ordered = true })
	w.hook("unordered", other.URL, nil)
	e := w.start(engineOpts{cfg: delivery.Config{RetrySchedule: []time.Duration{300 * time.Millisecond, time.Minute, time.Minute, time.Minute}}})
	w.publish(e, numbered(w, 1, 4)...)
	for _, ev := range numbered(w, 5, 7) {
		w.publish(e, ev) // one publish each
	}
	// While the second waits for its retry, the unordered webhook gets everything at once.
	waitUntil(t, "the unordered webhook's 7 requests", func() bool { return other.count() == 7 })
	if got := rcv.sequence(); len(got) > 2 {
		t.Errorf("the ordered webhook went on before the retry was due: %v", got)
	}
	want := []string{"1#1", "2#1", "2#2", "3#1", "4#1", "5#1", "6#1", "7#1"}
	waitUntil(t, "all of the ordered webhook's requests", func() bool { return len(rcv.sequence()) >= len(want) })
	if got := rcv.sequence(); !slices.Equal(got, want) {
		t.Errorf("the ordered webhook got %v, want %v", got, want)
	}
	if _, most := rcv.concurrency(); most != 1 {
		t.Errorf("the ordered webhook had %d requests in flight at once, want 1", most)
	}
	// Waiting for an earlier retry did not count against the later ones: all are delivered,
	// one attempt each but the one that failed once.
	var ds []store.Delivery
	waitUntil(t, "every delivery to be stored as delivered", func() bool {
		var err error
		ds, _, err = w.st.ListDeliveries(w.ctx, store.DeliveryFilter{WebhookID: h.ID}, store.Page{Limit: 50})
		return err == nil && len(ds) == 7 && !slices.ContainsFunc(ds, func(d store.Delivery) bool { return d.Status != store.DeliverySucceeded })
	})
	attempts := 0
	for _, d := range ds {
		attempts += d.Attempts
	}
	if attempts != 8 {
		t.Errorf("%d attempts in all, want 8", attempts)
	}
}

// When an ordered webhook is switched off while deliveries wait behind one that keeps
// failing, those held back are kept as missed, and replaying what it missed sends them
// again in publish order, after the failed one.
func TestEngineOrderedSwitchOffKeepsHeldBackAsMissed(t *testing.T) {
	w := newWorld(t)
	var broken sync.Mutex
	failing := true
	rcv := newOrderedReceiver(t, func(n, _ int) bool {
		broken.Lock()
		defer broken.Unlock()
		return failing && n == 2
	})
	h := w.hook("ordered", rcv.URL, func(h *store.Webhook) { h.Ordered = true })
	e := w.start(engineOpts{})
	pubs := w.publish(e, numbered(w, 1, 5)...)
	waitUntil(t, "the webhook to be switched off", func() bool { return !w.webhook(h.ID).Enabled })
	if got, want := rcv.sequence(), []string{"1#1", "2#1", "2#2", "2#3", "2#4", "2#5"}; !slices.Equal(got, want) {
		t.Errorf("before the switch-off the receiver got %v, want %v", got, want)
	}
	missed, err := w.st.MissedBy(w.ctx, pubs[3].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !missed[h.ID] {
		t.Errorf("the fourth event, held back, is not kept as missed")
	}
	for _, p := range pubs[2:] {
		if ds := w.deliveriesOf(p.ID); len(ds) != 0 {
			t.Errorf("held-back event %s still has deliveries %+v", p.ID, ds)
		}
	}
	if d := w.deliveryOf(pubs[1].ID, h.ID); d.Status != store.DeliveryFailed {
		t.Errorf("the failing delivery is %s, want failed", d.Status)
	}

	broken.Lock()
	failing = false
	broken.Unlock()
	off := w.webhook(h.ID)
	if _, err := w.st.EnableWebhook(w.ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	work, err := w.st.Replay(w.ctx, h.ID, *off.LastDisabledAt, true, func(store.Event) bool { return true },
		func(ev store.Event) store.Delivery {
			now := time.Now().UTC().Truncate(time.Millisecond)
			return store.Delivery{ID: w.st.NextID("dlv"), EventID: ev.ID, WebhookID: h.ID, EventType: ev.Type,
				Status: store.DeliveryPending, CreatedAt: now, UpdatedAt: now, NextAttemptAt: &now}
		})
	if err != nil || len(work) != 4 {
		t.Fatalf("replay of what was missed: %d deliveries, %v; want 4 (the failed one and the three held back)", len(work), err)
	}
	e.Enqueue(work)
	want := []string{"1#1", "2#1", "2#2", "2#3", "2#4", "2#5", "2#1", "3#1", "4#1", "5#1"}
	waitUntil(t, "the replayed requests", func() bool { return len(rcv.sequence()) >= len(want) })
	if got := rcv.sequence(); !slices.Equal(got, want) {
		t.Errorf("the receiver got %v, want %v", got, want)
	}
}
