package delivery_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"hookyard/delivery"
	"hookyard/store"
)

// A webhook whose receiver hangs never has more than PerWebhook requests in flight, and does
// not delay a healthy webhook (SPEC §2 Isolation).
func TestEnginePerWebhookLimitIsolatesAHangingReceiver(t *testing.T) {
	w := newWorld(t)
	hanging := newHookServer(t, nil)
	hanging.answer = func(_ http.ResponseWriter, r *http.Request, _ int) { hanging.hang(r) }
	healthy := newHookServer(t, nil)
	w.hook("hanging", hanging.URL+"/hook", nil)
	w.hook("healthy", healthy.URL+"/hook", nil)
	e := w.start(engineOpts{cfg: delivery.Config{RetrySchedule: slowRetries, PerWebhook: 2, RequestTimeout: time.Minute},
		clientTimeout: time.Minute})

	published := map[string]time.Time{}
	for i := range 20 {
		at := time.Now()
		pub := w.publish(e, w.ev("TODO_CREATED"))[0]
		if pub.Deliveries != 2 {
			t.Fatalf("event %d: Deliveries = %d, want 2", i, pub.Deliveries)
		}
		published[pub.ID] = at
		if i == 1 {
			waitUntil(t, "two hanging requests", func() bool { a, _ := hanging.concurrency(); return a == 2 })
		}
	}
	waitUntil(t, "20 healthy deliveries", func() bool { return healthy.count() == 20 })
	arrived := map[string]time.Time{}
	for _, h := range healthy.requests() {
		arrived[h.eventID()] = h.at
	}
	var worst time.Duration
	for id, at := range published {
		got, ok := arrived[id]
		if !ok {
			t.Errorf("healthy receiver never got %s", id)
			continue
		}
		worst = max(worst, got.Sub(at))
	}
	t.Logf("slowest healthy delivery: %v after publish", worst)
	if worst > time.Second {
		t.Errorf("a healthy delivery arrived %v after publish while another webhook hangs, want well under 1s", worst)
	}
	active, most := hanging.concurrency()
	if active != 2 || most != 2 || hanging.count() != 2 {
		t.Errorf("hanging receiver: %d in flight now, at most %d, %d requests in all; want 2, 2, 2", active, most, hanging.count())
	}
	hanging.unblock()
}

// Ten endpoints that never answer must not starve a healthy one under the default limits.
func TestEngineTenHangingEndpointsDoNotStarveAHealthyOne(t *testing.T) {
	w := newWorld(t)
	dead := newHookServer(t, nil)
	dead.answer = func(_ http.ResponseWriter, r *http.Request, _ int) { dead.hang(r) }
	healthy := newHookServer(t, nil)
	for i := range 10 {
		w.hook(fmt.Sprintf("dead-%d", i), fmt.Sprintf("%s/dead/%d", dead.URL, i), nil)
	}
	w.hook("healthy", healthy.URL+"/hook", nil)
	e := w.start(engineOpts{cfg: delivery.Config{RetrySchedule: slowRetries, RequestTimeout: time.Minute},
		clientTimeout: time.Minute})

	published := map[string]time.Time{}
	for range 20 {
		at := time.Now()
		pub := w.publish(e, w.ev("TODO_CREATED"))[0]
		if pub.Deliveries != 11 {
			t.Fatalf("Deliveries = %d, want 11", pub.Deliveries)
		}
		published[pub.ID] = at
	}
	waitUntil(t, "20 healthy deliveries", func() bool { return healthy.count() == 20 })
	var worst time.Duration
	for _, h := range healthy.requests() {
		worst = max(worst, h.at.Sub(published[h.eventID()]))
	}
	t.Logf("slowest healthy delivery: %v after publish", worst)
	if worst > time.Second {
		t.Errorf("a healthy delivery arrived %v after publish beside ten hanging endpoints, want well under 1s", worst)
	}
	waitUntil(t, "80 hanging requests (8 per dead endpoint)", func() bool { a, _ := dead.concurrency(); return a == 80 })
	perPath := map[string]int{}
	for _, h := range dead.requests() {
		perPath[h.path]++
	}
	for p, n := range perPath {
		if n != 8 {
			t.Errorf("%s got %d requests in flight, want the default limit 8", p, n)
		}
	}
	dead.unblock()
}

// While a webhook's requests fail, it gets one request at a time; successes let the limit
// grow back.
func TestEnginePerWebhookLimitDropsToOneWhileFailing(t *testing.T) {
	w := newWorld(t)
	var mu sync.Mutex
	failing := true
	rcv := newHookServer(t, func(rw http.ResponseWriter, _ *http.Request, _ int) {
		time.Sleep(40 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		if failing {
			rw.WriteHeader(http.StatusInternalServerError)
		}
	})
	h := w.hook("flaky", rcv.URL+"/hook", nil)
	e := w.start(engineOpts{cfg: delivery.Config{RetrySchedule: slowRetries, PerWebhook: 4}})

	in := make([]delivery.EventInput, 12)
	for i := range in {
		in[i] = w.ev("TODO_CREATED")
	}
	// All twelve are queued at once: four go out together; once the first has failed, no
	// new request starts until the webhook has none in flight.
	pubs := w.publish(e, in...)
	for _, p := range pubs {
		w.waitStatus(w.deliveryOf(p.ID, h.ID).ID, store.DeliveryPending, 1)
	}
	hits := rcv.requests()
	if len(hits) != 12 {
		t.Fatalf("receiver got %d requests, want 12", len(hits))
	}
	if _, most := rcv.concurrency(); most != 4 {
		t.Errorf("at most %d requests in flight at the start, want PerWebhook = 4", most)
	}
	for i, h := range hits[4:] {
		if h.inFlight != 1 {
			t.Errorf("request %d arrived with %d in flight after failures, want 1", i+5, h.inFlight)
		}
	}

	// The receiver recovers: each success lets one more request in flight, up to 4.
	mu.Lock()
	failing = false
	mu.Unlock()
	more := w.publish(e, in...)
	for _, p := range more {
		w.waitStatus(w.deliveryOf(p.ID, h.ID).ID, store.DeliverySucceeded, 1)
	}
	hits = rcv.requests()[12:]
	if hits[0].inFlight != 1 {
		t.Errorf("first request after the failures arrived with %d in flight, want 1", hits[0].inFlight)
	}
	grown := 0
	for _, h := range hits {
		grown = max(grown, h.inFlight)
	}
	if grown < 2 || grown > 4 {
		t.Errorf("after successes, at most %d requests were in flight; want the limit to grow back (2..4)", grown)
	}
}

// The global cap bounds requests in flight across all webhooks.
func TestEngineWorkersCapRequestsInFlight(t *testing.T) {
	w := newWorld(t)
	rcv := newHookServer(t, nil)
	rcv.answer = func(_ http.ResponseWriter, r *http.Request, _ int) { rcv.hang(r) }
	for i := range 3 {
		w.hook(fmt.Sprintf("slow-%d", i), fmt.Sprintf("%s/slow/%d", rcv.URL, i), nil)
	}
	e := w.start(engineOpts{cfg: delivery.Config{RetrySchedule: slowRetries, Workers: 5, PerWebhook: 4, RequestTimeout: time.Minute},
		clientTimeout: time.Minute})
	for range 6 {
		w.publish(e, w.ev("TODO_CREATED"))
	}
	waitUntil(t, "five requests in flight", func() bool { a, _ := rcv.concurrency(); return a == 5 })
	// Nothing more may start while five hang; give a sixth the time it would need.
	time.Sleep(50 * time.Millisecond)
	if active, most := rcv.concurrency(); active != 5 || most != 5 || rcv.count() != 5 {
		t.Errorf("with Workers 5: %d in flight, at most %d, %d requests; want 5, 5, 5", active, most, rcv.count())
	}
	rcv.unblock()
}

// After one failure a webhook gets one request at a time, and each success lets exactly one
// more in: at no moment does the receiver have more requests in flight than 1 + the
// requests it has finished since the failure (nor more than PerWebhook). A limit that only
// halves on the failure, or jumps back to PerWebhook after one success, breaks that at once.
func TestEnginePerWebhookLimitRecoversOneSuccessAtATime(t *testing.T) {
	w := newWorld(t)
	const perWebhook = 8
	rcv := newHookServer(t, func(rw http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			rw.WriteHeader(http.StatusInternalServerError)
			return
		}
		time.Sleep(50 * time.Millisecond) // long enough for requests let in together to overlap
	})
	h := w.hook("recovering", rcv.URL+"/hook", nil)
	e := w.start(engineOpts{cfg: delivery.Config{RetrySchedule: slowRetries, PerWebhook: perWebhook}})
	failed := w.publish(e, w.ev("TODO_CREATED"))[0]
	w.waitStatus(w.deliveryOf(failed.ID, h.ID).ID, store.DeliveryPending, 1)

	in := make([]delivery.EventInput, perWebhook)
	for i := range in {
		in[i] = w.ev("TODO_MOVED")
	}
	for _, p := range w.publish(e, in...) {
		w.waitStatus(w.deliveryOf(p.ID, h.ID).ID, store.DeliverySucceeded, 1)
	}
	after := rcv.requests()[1:]
	if len(after) != perWebhook {
		t.Fatalf("receiver got %d requests after the failure, want %d", len(after), perWebhook)
	}
	for i, hit := range after {
		// Everything that arrived before this request and is not in flight beside it has
		// finished: each of those successes may have raised the limit by one.
		finished := i - (hit.inFlight - 1)
		if allowed := min(perWebhook, 1+finished); hit.inFlight > allowed {
			t.Errorf("request %d after the failure arrived with %d in flight, %d finished since the failure: "+
				"want at most %d (1 + one per success)", i+1, hit.inFlight, finished, allowed)
		}
	}
}
