package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"hookyard/store"
)

// Helpers of the health, logs and recovery tests (recovery_*_test.go): publishing, waiting
// on the real delivery engine with a deadline, and counting what reached a receiver.

// recoveryWait polls cond until it holds, failing t after ten seconds.
func recoveryWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recoveryPublished is the 202 answer to POST /api/v1/events.
type recoveryPublished struct {
	ID         string `json:"id"`
	Deliveries int    `json:"deliveries"`
}

// recoveryPublish publishes one event through the API as the token's user.
func (a *testApp) recoveryPublish(t *testing.T, token, event, projectID string, current any) recoveryPublished {
	t.Helper()
	body := map[string]any{"event": event, "projectId": projectID, "previousValue": nil, "currentValue": current}
	r := a.call(t, token, http.MethodPost, "/api/v1/events", body, http.StatusAccepted)
	p := decode[recoveryPublished](t, r)
	if !strings.HasPrefix(p.ID, "evt_") {
		t.Fatalf("publish answered id %q\n%s", p.ID, r.Body)
	}
	return p
}

// recoveryDeliveries is every stored delivery matching f, newest first.
func (a *testApp) recoveryDeliveries(t *testing.T, f store.DeliveryFilter) []store.Delivery {
	t.Helper()
	var all []store.Delivery
	p := store.Page{Limit: 500}
	for {
		ds, next, err := a.store.ListDeliveries(t.Context(), f, p)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ds...)
		if next == "" {
			return all
		}
		p.Cursor = next
	}
}

// recoverySettled waits until the webhook has no pending delivery left.
func (a *testApp) recoverySettled(t *testing.T, webhookID string) []store.Delivery {
	t.Helper()
	var ds []store.Delivery
	recoveryWait(t, "webhook "+webhookID+" has no pending delivery", func() bool {
		ds = a.recoveryDeliveries(t, store.DeliveryFilter{WebhookID: webhookID})
		for _, d := range ds {
			if d.Status == store.DeliveryPending {
				return false
			}
		}
		return true
	})
	return ds
}

// recoveryWaitOff waits until the engine has switched the webhook off, then until nothing of
// it is pending any more, and returns it.
func (a *testApp) recoveryWaitOff(t *testing.T, webhookID string) store.Webhook {
	t.Helper()
	recoveryWait(t, "webhook "+webhookID+" is switched off", func() bool { return !a.storedWebhook(t, webhookID).Enabled })
	a.recoverySettled(t, webhookID)
	return a.storedWebhook(t, webhookID)
}

// recoverySentinel publishes a later event that the webhook receives (TODO_CREATED in Alpha)
// and waits until it has reached rcv and nothing of the webhook is pending. Deliveries to one
// webhook go out in the order they were stored, so once this later event is in, nothing
// stored before it is still on its way: a check that nothing more arrived is conclusive
// without a fixed wait. It returns what rcv got after its first n requests, without the
// sentinel, and the sentinel's event id.
func (f *apiFixture) recoverySentinel(t *testing.T, webhookID string, rcv *receiver, n int) ([]received, string) {
	t.Helper()
	s := f.recoveryPublish(t, f.adminToken, "TODO_CREATED", f.alpha.ID, map[string]any{"title": "sentinel"})
	if len(f.recoveryDeliveries(t, store.DeliveryFilter{EventID: s.ID, WebhookID: webhookID})) != 1 {
		t.Fatalf("the sentinel event %s made no delivery to webhook %s", s.ID, webhookID)
	}
	recoveryWait(t, "the sentinel event reaches the receiver", func() bool {
		return recoveryCountByEvent(t, rcv.recoverySince(n))[s.ID] > 0
	})
	f.recoverySettled(t, webhookID)
	var out []received
	for _, r := range rcv.recoverySince(n) {
		if r.Header.Get("X-Hookyard-Event") == "WEBHOOK_HEALTH_CHECK" || recoveryEventID(t, r) != s.ID {
			out = append(out, r)
		}
	}
	return out, s.ID
}

// recoveryEventID is the payload "id" of an event request.
func recoveryEventID(t *testing.T, r received) string {
	t.Helper()
	var p struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("request body is not JSON: %v\n%s", err, r.Body)
	}
	return p.ID
}

// recoveryEventRequests are the requests of a receiver that carried events (not health checks).
func recoveryEventRequests(reqs []received) []received {
	var out []received
	for _, r := range reqs {
		if r.Header.Get("X-Hookyard-Event") != "WEBHOOK_HEALTH_CHECK" {
			out = append(out, r)
		}
	}
	return out
}

// recoveryHealthChecks counts the health-check requests among reqs.
func recoveryHealthChecks(reqs []received) int {
	return len(reqs) - len(recoveryEventRequests(reqs))
}

// recoveryCountByEvent counts the event requests per payload "id".
func recoveryCountByEvent(t *testing.T, reqs []received) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, r := range recoveryEventRequests(reqs) {
		out[recoveryEventID(t, r)]++
	}
	return out
}

// recoverySince are the requests a receiver got after the first n.
func (r *receiver) recoverySince(n int) []received {
	all := r.requests()
	if n > len(all) {
		return nil
	}
	return all[n:]
}

// recoveryWantOnceEach fails unless counts holds exactly the given event ids, once each.
func recoveryWantOnceEach(t *testing.T, what string, counts map[string]int, ids ...string) {
	t.Helper()
	want := map[string]int{}
	for _, id := range ids {
		want[id] = 1
	}
	if fmt.Sprint(recoverySortedCounts(counts)) != fmt.Sprint(recoverySortedCounts(want)) {
		t.Errorf("%s: receiver got %v (event id → times), want each of %v exactly once", what, recoverySortedCounts(counts), ids)
	}
}

func recoverySortedCounts(m map[string]int) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s×%d", k, v))
	}
	sort.Strings(out)
	return out
}

// recoveryRetryLaterURL answers every request 503 with Retry-After of an hour, so the webhook
// stays switched on, failing, with its delivery pending.
func recoveryRetryLaterURL(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/busy"
}

// recoveryByTestID returns the elements with that data-testid.
func recoveryByTestID(p page, id string) *goquery.Selection {
	return p.Doc.Find(`[data-testid="` + id + `"]`)
}

// recoveryText is the squashed text of the elements with that data-testid.
func recoveryText(p page, id string) string {
	return squash(recoveryByTestID(p, id).Text())
}

// recoveryLogLinks are the delivery ids the log rows of a page link to, in order.
func recoveryLogLinks(p page) []string {
	var out []string
	recoveryByTestID(p, "log-row").Each(func(_ int, row *goquery.Selection) {
		href, _ := row.Find(`a[href^="/deliveries/"]`).First().Attr("href")
		out = append(out, strings.TrimPrefix(href, "/deliveries/"))
	})
	return out
}
