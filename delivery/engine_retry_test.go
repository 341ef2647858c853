package delivery_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"hookyard/delivery"
	"hookyard/store"
)

// retryTimes is what a receiver saw of one attempt: when it arrived, when the receiver
// answered, and when the delivery was due for it (its next_attempt_at while it was sent).
type retryTimes struct {
	arrived, answered time.Time
	due               *time.Time
	dueErr            error
}

// failingRetries publishes one event to a receiver that answers every attempt 500 after
// taking hold, with the given retry schedule, and returns what the receiver saw of each
// attempt and the attempts as stored, once the delivery has failed for good.
func failingRetries(t *testing.T, hold time.Duration, schedule []time.Duration) ([]retryTimes, []store.Attempt) {
	t.Helper()
	w := newWorld(t)
	var mu sync.Mutex
	var seen []retryTimes
	rcv := newHookServer(t, func(rw http.ResponseWriter, r *http.Request, _ int) {
		got := retryTimes{arrived: time.Now()}
		d, err := w.st.Delivery(context.Background(), r.Header.Get("webhook-id"))
		got.due, got.dueErr = d.NextAttemptAt, err
		time.Sleep(hold)
		got.answered = time.Now()
		mu.Lock()
		seen = append(seen, got)
		mu.Unlock()
		rw.WriteHeader(http.StatusInternalServerError)
	})
	h := w.hook("failing", rcv.URL+"/hook", nil)
	e := w.start(engineOpts{cfg: delivery.Config{RetrySchedule: schedule}})
	pub := w.publish(e, w.ev("TODO_CREATED"))[0]
	d := w.deliveryOf(pub.ID, h.ID)
	attempts := len(schedule) + 1
	var total time.Duration
	for _, s := range schedule {
		total += s*11/10 + hold
	}
	deadline := time.Now().Add(total + pollTimeout)
	for w.delivery(d.ID).Status != store.DeliveryFailed {
		if time.Now().After(deadline) {
			t.Fatalf("delivery still %s after %d of %d attempts", w.delivery(d.ID).Status, rcv.count(), attempts)
		}
		time.Sleep(pollInterval)
	}
	mu.Lock()
	defer mu.Unlock()
	stored := w.attempts(d.ID)
	if len(seen) != attempts || len(stored) != attempts {
		t.Fatalf("receiver saw %d attempts, %d stored; want %d", len(seen), len(stored), attempts)
	}
	for i, s := range seen {
		if s.dueErr != nil || s.due == nil {
			t.Fatalf("attempt %d: the delivery had no due time while it was sent (err %v)", i+1, s.dueErr)
		}
	}
	return seen, stored
}

// msSlack covers the millisecond precision of stored times.
const msSlack = 2 * time.Millisecond

// Between attempts a delivery waits the delay of the attempt's own slot of the schedule: the
// due time of attempt n+1, as stored, is slot n (±10 %) after attempt n ended, and the
// receiver never sees it sooner. The slots differ (100, 300, 900 ms), so a delay taken
// from a neighbouring slot is off by a factor of three.
func TestEngineWaitsEachRetrysOwnSlotAtTheReceiver(t *testing.T) {
	seen, stored := failingRetries(t, 0, distinctSlots)
	for i, slot := range distinctSlots {
		prev, next := stored[i], seen[i+1]
		ended := prev.StartedAt.Add(prev.Duration)
		if wait := next.due.Sub(ended); wait < slot*9/10-msSlack || wait > slot*11/10+msSlack {
			t.Errorf("attempt %d was due %v after attempt %d ended, want slot %d of %v: %v ± 10 %%",
				i+2, wait, i+1, i+1, distinctSlots, slot)
		}
		if gap := next.arrived.Sub(seen[i].answered); gap < slot*9/10-msSlack {
			t.Errorf("attempt %d reached the receiver %v after it answered attempt %d, want at least %v (%v - 10 %%)",
				i+2, gap, i+1, slot*9/10, slot)
		}
	}
}

// The delay before a retry counts from the end of the failed attempt, not its start: a
// receiver that takes 300 ms to answer 500 still gets the next attempt only a full delay
// (100 ms here) after it answered, never straight away.
func TestEngineCountsTheRetryDelayFromTheEndOfTheAttempt(t *testing.T) {
	const hold = 300 * time.Millisecond
	schedule := []time.Duration{100 * time.Millisecond, 100 * time.Millisecond}
	seen, stored := failingRetries(t, hold, schedule)
	for i, slot := range schedule {
		if d := stored[i].Duration; d < hold {
			t.Fatalf("attempt %d took %v as stored, want at least the receiver's %v", i+1, d, hold)
		}
		ended := stored[i].StartedAt.Add(stored[i].Duration)
		if wait := seen[i+1].due.Sub(ended); wait < slot*9/10-msSlack {
			t.Errorf("attempt %d was due %v after attempt %d ended, want at least %v", i+2, wait, i+1, slot*9/10)
		}
		if gap := seen[i+1].arrived.Sub(seen[i].answered); gap < slot*9/10-msSlack {
			t.Errorf("attempt %d arrived %v after the receiver answered attempt %d (which took %v), want at least %v",
				i+2, gap, i+1, hold, slot*9/10)
		}
	}
}
