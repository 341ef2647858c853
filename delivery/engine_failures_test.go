package delivery_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"hookyard/delivery"
	"hookyard/store"
)

// Each way a receiver can fail is stored as one failed attempt with its status and a
// plain-language error, and leaves the delivery pending for its next attempt (SPEC §2
// Success, Retries).
func TestEngineRecordsFailureModes(t *testing.T) {
	cases := []struct {
		name    string
		timeout time.Duration
		// setup returns the webhook URL and the expected status and error of attempt 1.
		setup func(t *testing.T) (url string, code int, wantErr string)
	}{
		{
			name: "HTTP 500",
			setup: func(t *testing.T) (string, int, string) {
				rcv := newHookServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
					w.WriteHeader(http.StatusInternalServerError)
					fmt.Fprint(w, "database is down")
				})
				return rcv.URL + "/hook", 500, "HTTP 500 Internal Server Error"
			},
		},
		{
			name:    "timeout",
			timeout: 150 * time.Millisecond,
			setup: func(t *testing.T) (string, int, string) {
				rcv := newHookServer(t, nil)
				rcv.answer = func(w http.ResponseWriter, r *http.Request, _ int) { rcv.hang(r) }
				return rcv.URL + "/hook", 0, "No answer within 150ms: the request timed out."
			},
		},
		{
			name: "connection refused",
			setup: func(t *testing.T) (string, int, string) {
				u, addr := closedPortURL(t)
				return u, 0, "Connection refused: nothing is accepting connections at " + addr + "."
			},
		},
		{
			name: "302 redirect is not followed",
			setup: func(t *testing.T) (string, int, string) {
				target := newHookServer(t, nil)
				t.Cleanup(func() {
					if n := target.count(); n != 0 {
						t.Errorf("redirect target got %d requests, want 0", n)
					}
				})
				rcv := newHookServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
					w.Header().Set("Location", target.URL+"/moved")
					w.WriteHeader(http.StatusFound)
				})
				return rcv.URL + "/hook", 302, "HTTP 302: the receiver answered with a redirect to " + target.URL +
					"/moved. Redirects are not followed; use the final URL."
			},
		},
		{
			name: "308 redirect is not followed",
			setup: func(t *testing.T) (string, int, string) {
				target := newHookServer(t, nil)
				t.Cleanup(func() {
					if n := target.count(); n != 0 {
						t.Errorf("redirect target got %d requests, want 0", n)
					}
				})
				rcv := newHookServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
					w.Header().Set("Location", target.URL+"/moved")
					w.WriteHeader(http.StatusPermanentRedirect)
				})
				return rcv.URL + "/hook", 308, "HTTP 308: the receiver answered with a redirect to " + target.URL +
					"/moved. Redirects are not followed; use the final URL."
			},
		},
		{
			name: "HTTP 404",
			setup: func(t *testing.T) (string, int, string) {
				rcv := newHookServer(t, status(http.StatusNotFound))
				return rcv.URL + "/hook", 404, "HTTP 404 Not Found"
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			url, code, wantErr := tc.setup(t)
			h := w.hook("failing", url, nil)
			e := w.start(engineOpts{cfg: delivery.Config{RetrySchedule: slowRetries}, clientTimeout: tc.timeout})
			before := time.Now()
			pub := w.publish(e, w.ev("TODO_CREATED"))
			if pub[0].Deliveries != 1 {
				t.Fatalf("Deliveries = %d, want 1", pub[0].Deliveries)
			}
			d := w.deliveryOf(pub[0].ID, h.ID)
			d = w.waitStatus(d.ID, store.DeliveryPending, 1)
			if d.LastStatusCode != code || d.LastError != wantErr {
				t.Errorf("delivery last status %d error %q, want %d %q", d.LastStatusCode, d.LastError, code, wantErr)
			}
			if d.NextAttemptAt == nil {
				t.Fatalf("pending delivery has no next attempt time")
			}
			// The first retry waits one minute ±10 %.
			if wait := d.NextAttemptAt.Sub(before); wait < 53*time.Second || wait > 67*time.Second {
				t.Errorf("next attempt in %v, want about 1m (±10%%)", wait)
			}
			as := w.attempts(d.ID)
			if len(as) != 1 {
				t.Fatalf("%d attempts stored, want 1", len(as))
			}
			a := as[0]
			if a.Number != 1 || a.OK || a.StatusCode != code || a.Error != wantErr {
				t.Errorf("attempt = number %d ok %v status %d error %q; want 1 false %d %q",
					a.Number, a.OK, a.StatusCode, a.Error, code, wantErr)
			}
			if got := a.RequestHeaders.Get("webhook-id"); got != d.ID {
				t.Errorf("stored request webhook-id = %q, want %q", got, d.ID)
			}
			if a.StartedAt.Before(before.Truncate(time.Millisecond)) || a.StartedAt.After(time.Now()) {
				t.Errorf("attempt started at %v, outside the test's run", a.StartedAt)
			}
			if code == 500 && a.ResponseBody != "database is down" {
				t.Errorf("stored response body %q, want %q", a.ResponseBody, "database is down")
			}
			got := w.webhook(h.ID)
			if !got.Enabled || got.Status != store.StatusHealthy || got.ConsecutiveFailures != 1 || got.LastError != wantErr {
				t.Errorf("webhook enabled %v status %s consecutive failures %d last error %q; want true HEALTHY 1 %q",
					got.Enabled, got.Status, got.ConsecutiveFailures, got.LastError, wantErr)
			}
		})
	}
}

// 410 Gone switches the webhook off at once, fails the delivery after its one attempt, and
// cancels the webhook's other pending deliveries (SPEC §2 Retries).
func TestEngine410DisablesWebhookAtOnce(t *testing.T) {
	w := newWorld(t)
	rcv := newHookServer(t, status(http.StatusGone))
	h := w.hook("gone", rcv.URL+"/hook", func(h *store.Webhook) { h.Events = []string{"TODO_CREATED"} })
	e := w.start(engineOpts{})

	// Another pending delivery of the webhook, not due for an hour.
	other := w.publish(e, w.ev("TODO_MOVED"))[0] // not subscribed: only stores the event
	later := time.Now().Add(time.Hour)
	waiting := store.Delivery{ID: w.st.NextID("dlv"), EventID: other.ID, WebhookID: h.ID, EventType: "TODO_MOVED",
		CreatedAt: time.Now(), NextAttemptAt: &later}
	if err := w.st.AddDeliveries(w.ctx, []store.Delivery{waiting}); err != nil {
		t.Fatal(err)
	}

	before := time.Now()
	pub := w.publish(e, w.ev("TODO_CREATED"))[0]
	d := w.deliveryOf(pub.ID, h.ID)
	d = w.waitStatus(d.ID, store.DeliveryFailed, 1)
	if d.LastStatusCode != 410 || d.LastError != "HTTP 410 Gone" || d.NextAttemptAt != nil {
		t.Errorf("delivery: last status %d error %q next %v; want 410, %q, nil", d.LastStatusCode, d.LastError, d.NextAttemptAt, "HTTP 410 Gone")
	}
	got := w.webhook(h.ID)
	if got.Enabled || got.Status != store.StatusUnhealthy || got.DisabledAt == nil || !strings.Contains(got.DisabledReason, "410") {
		t.Errorf("webhook enabled %v status %s disabledAt %v reason %q; want false UNHEALTHY set, mentioning 410",
			got.Enabled, got.Status, got.DisabledAt, got.DisabledReason)
	}
	if got.DisabledAt != nil && got.DisabledAt.Before(before.Truncate(time.Millisecond)) {
		t.Errorf("disabledAt %v is before the publish at %v", got.DisabledAt, before)
	}
	if c := w.delivery(waiting.ID); c.Status != store.DeliveryCancelled || c.Attempts != 0 {
		t.Errorf("other pending delivery: status %s attempts %d, want cancelled 0", c.Status, c.Attempts)
	}
	if n := rcv.count(); n != 1 {
		t.Errorf("receiver got %d requests, want 1", n)
	}
	if as := w.attempts(d.ID); len(as) != 1 || as[0].StatusCode != 410 || as[0].OK {
		t.Errorf("attempts = %+v, want one failed 410", as)
	}
}

// After a 410 the engine must not send the webhook's queued deliveries: "410 Gone disables
// the webhook at once". With one request in flight at a time, the receiver must see exactly
// one request however many events were queued, even when the database takes a moment to
// record the switch-off (here: another connection holds SQLite's write lock for 300 ms, as a
// retention batch or a large publish can).
func TestEngine410StopsQueuedRequests(t *testing.T) {
	w := newWorld(t)
	rcv := newHookServer(t, nil)
	rcv.answer = func(rw http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			release := w.holdWriteLock()
			time.AfterFunc(300*time.Millisecond, release)
		}
		rw.WriteHeader(http.StatusGone)
	}
	h := w.hook("gone", rcv.URL+"/hook", nil)
	e := w.start(engineOpts{cfg: delivery.Config{RetrySchedule: fastRetries, PerWebhook: 1}})
	in := make([]delivery.EventInput, 10)
	for i := range in {
		in[i] = w.ev("TODO_CREATED")
	}
	pubs := w.publish(e, in...)
	waitUntil(t, "the webhook to be switched off", func() bool { return !w.webhook(h.ID).Enabled })
	// Every delivery ends: one failed, the rest cancelled.
	waitUntil(t, "all deliveries to finish", func() bool {
		for _, p := range pubs {
			if w.deliveryOf(p.ID, h.ID).Status == store.DeliveryPending {
				return false
			}
		}
		return true
	})
	e.stop(time.Second)
	failed, cancelled := 0, 0
	for _, p := range pubs {
		d := w.deliveryOf(p.ID, h.ID)
		switch d.Status {
		case store.DeliveryFailed:
			failed++
		case store.DeliveryCancelled:
			cancelled++
		}
		// A delivery's stored attempts must agree with its attempt count.
		if n := len(w.attempts(d.ID)); n != d.Attempts {
			t.Errorf("%s delivery %s says %d attempts but has %d stored", d.Status, d.ID, d.Attempts, n)
		}
	}
	if n := rcv.count(); n != 1 || failed != 1 || cancelled != 9 {
		t.Errorf("after a 410 with PerWebhook 1: receiver got %d requests, %d deliveries failed, %d cancelled; want 1, 1, 9",
			n, failed, cancelled)
	}
}

// Retry-After on a 429 pushes the next attempt back: with a 10 ms schedule, only the
// header can explain a one-second wait.
func TestEngineHonoursRetryAfter(t *testing.T) {
	for _, code := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			w := newWorld(t)
			rcv := newHookServer(t, func(rw http.ResponseWriter, _ *http.Request, n int) {
				if n == 1 {
					rw.Header().Set("Retry-After", "1")
					rw.WriteHeader(code)
					return
				}
				rw.WriteHeader(http.StatusNoContent)
			})
			h := w.hook("busy", rcv.URL+"/hook", nil)
			e := w.start(engineOpts{})
			pub := w.publish(e, w.ev("TODO_CREATED"))[0]
			d := w.deliveryOf(pub.ID, h.ID)
			d = w.waitStatus(d.ID, store.DeliverySucceeded, 2)
			as := w.attempts(d.ID)
			if len(as) != 2 {
				t.Fatalf("%d attempts, want 2", len(as))
			}
			if as[0].StatusCode != code || as[0].OK || as[1].StatusCode != 204 || !as[1].OK {
				t.Errorf("attempts: %d ok=%v, %d ok=%v; want %d false, 204 true", as[0].StatusCode, as[0].OK, as[1].StatusCode, as[1].OK, code)
			}
			if gap := as[1].StartedAt.Sub(as[0].StartedAt); gap < 900*time.Millisecond {
				t.Errorf("second attempt %v after the first, want ≥ 900ms (Retry-After: 1)", gap)
			}
			hits := rcv.requests()
			if len(hits) != 2 {
				t.Fatalf("receiver got %d requests, want 2", len(hits))
			}
			if gap := hits[1].at.Sub(hits[0].at); gap < 900*time.Millisecond {
				t.Errorf("receiver saw the retry %v after the first request, want ≥ 900ms", gap)
			}
			if hits[1].attempt() != 2 {
				t.Errorf("retry carries X-Hookyard-Attempt %d, want 2", hits[1].attempt())
			}
		})
	}
}

// A receiver's answer is kept up to 16 KiB, flagged as truncated; a 2xx is still a success.
func TestEngineTruncatesLargeResponses(t *testing.T) {
	cases := []struct {
		code   int
		size   int
		ok     bool
		status store.DeliveryStatus
		trunc  bool
	}{
		{200, 64 << 10, true, store.DeliverySucceeded, true},
		{200, 16 << 10, true, store.DeliverySucceeded, false},
		{200, 16<<10 + 1, true, store.DeliverySucceeded, true},
		{500, 20 << 10, false, store.DeliveryPending, true},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d_%dB", tc.code, tc.size), func(t *testing.T) {
			w := newWorld(t)
			body := strings.Repeat("0123456789abcdef", tc.size/16+1)[:tc.size]
			rcv := newHookServer(t, func(rw http.ResponseWriter, _ *http.Request, _ int) {
				rw.WriteHeader(tc.code)
				fmt.Fprint(rw, body)
			})
			h := w.hook("big", rcv.URL+"/hook", nil)
			e := w.start(engineOpts{cfg: delivery.Config{RetrySchedule: slowRetries}})
			pub := w.publish(e, w.ev("TODO_CREATED"))[0]
			d := w.waitStatus(w.deliveryOf(pub.ID, h.ID).ID, tc.status, 1)
			as := w.attempts(d.ID)
			if len(as) != 1 {
				t.Fatalf("%d attempts, want 1", len(as))
			}
			want := body[:min(len(body), 16384)]
			if as[0].ResponseBody != want || as[0].Truncated != tc.trunc || as[0].OK != tc.ok || as[0].StatusCode != tc.code {
				t.Errorf("stored body %d bytes (matches: %v), truncated %v, ok %v, status %d; want %d bytes, %v, %v, %d",
					len(as[0].ResponseBody), as[0].ResponseBody == want, as[0].Truncated, as[0].OK, as[0].StatusCode,
					len(want), tc.trunc, tc.ok, tc.code)
			}
		})
	}
}
