package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// receiver is a webhook endpoint for the whole-program tests: it answers 200 after a random
// pause between minDelay and maxDelay (none for a fast receiver), and records every arrival
// by event and webhook with when it came and when its answer went out.
type receiver struct {
	minDelay, maxDelay time.Duration
	released           chan struct{} // closed by release: pauses end at once
	releaseOnce        sync.Once

	mu       sync.Mutex
	arrivals map[[2]string][]*arrival // {event id, webhook id} → each arrival, in order
	count    int
}

// arrival is one request that reached the receiver.
type arrival struct {
	messageID string // the webhook-id header: the delivery's id
	attempt   int    // X-Hookyard-Attempt
	arrived   time.Time
	answered  time.Time // when the answer was flushed to the socket; zero until then
}

// newSlowReceiver answers after a random pause in [minDelay, maxDelay).
func newSlowReceiver(minDelay, maxDelay time.Duration) *receiver {
	return &receiver{minDelay: minDelay, maxDelay: maxDelay, released: make(chan struct{}),
		arrivals: map[[2]string][]*arrival{}}
}

// newFastReceiver answers at once.
func newFastReceiver() *receiver { return newSlowReceiver(0, 0) }

// release makes the receiver answer at once from now on, including requests it is pausing.
func (s *receiver) release() { s.releaseOnce.Do(func() { close(s.released) }) }

func (s *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var p struct {
		ID      string `json:"id"`
		Webhook struct {
			ID string `json:"id"`
		} `json:"webhook"`
	}
	if err != nil || json.Unmarshal(body, &p) != nil || p.ID == "" || p.Webhook.ID == "" {
		http.Error(w, "not a Hookyard payload", http.StatusBadRequest)
		return
	}
	n, _ := strconv.Atoi(r.Header.Get("X-Hookyard-Attempt"))
	a := &arrival{messageID: r.Header.Get("webhook-id"), attempt: n, arrived: time.Now()}
	s.mu.Lock()
	key := [2]string{p.ID, p.Webhook.ID}
	s.arrivals[key] = append(s.arrivals[key], a)
	s.count++
	s.mu.Unlock()
	pause := s.minDelay
	if s.maxDelay > s.minDelay {
		pause += rand.N(s.maxDelay - s.minDelay)
	}
	if pause > 0 {
		select {
		case <-time.After(pause):
		case <-s.released:
		}
	}
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	s.mu.Lock()
	a.answered = time.Now()
	s.mu.Unlock()
}

// received is how many requests have arrived in all.
func (s *receiver) received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// missing lists "event→webhook" pairs that have not arrived yet.
func (s *receiver) missing(events, hooks []string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, e := range events {
		for _, h := range hooks {
			if len(s.arrivals[[2]string{e, h}]) == 0 {
				out = append(out, e+"→"+h)
			}
		}
	}
	return out
}

// duplicates counts extra arrivals, and describes any whose webhook-id differs from the first.
func (s *receiver) duplicates() (int, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	var mismatched []string
	for k, as := range s.arrivals {
		n += len(as) - 1
		for _, a := range as[1:] {
			if a.messageID != as[0].messageID {
				mismatched = append(mismatched, fmt.Sprintf("%s→%s: %q then %q", k[0], k[1], as[0].messageID, a.messageID))
			}
		}
	}
	return n, mismatched
}

// sentAttempt names one attempt of one delivery.
type sentAttempt struct {
	deliveryID string
	number     int
}

// answeredBefore lists the attempts whose answer went out before t, with when.
func (s *receiver) answeredBefore(t time.Time) map[sentAttempt]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[sentAttempt]time.Time{}
	for _, as := range s.arrivals {
		for _, a := range as {
			if !a.answered.IsZero() && a.answered.Before(t) {
				out[sentAttempt{a.messageID, a.attempt}] = a.answered
			}
		}
	}
	return out
}

// arrivedSince lists the attempts that arrived at or after t.
func (s *receiver) arrivedSince(t time.Time) map[sentAttempt]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[sentAttempt]bool{}
	for _, as := range s.arrivals {
		for _, a := range as {
			if !a.arrived.Before(t) {
				out[sentAttempt{a.messageID, a.attempt}] = true
			}
		}
	}
	return out
}

// at describes the receiver at one moment: requests it had received and not answered yet,
// and answers it sent in the window before it.
func (s *receiver) at(t time.Time, window time.Duration) (inFlight, answeredInWindow int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, as := range s.arrivals {
		for _, a := range as {
			if a.arrived.After(t) {
				continue
			}
			if a.answered.IsZero() || a.answered.After(t) {
				inFlight++
			} else if a.answered.After(t.Add(-window)) {
				answeredInWindow++
			}
		}
	}
	return inFlight, answeredInWindow
}
