package handlers_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"hookyard/store"
)

// recoveryListedNames are the webhook names a /webhooks page lists.
func recoveryListedNames(p page) []string {
	var out []string
	recoveryByTestID(p, "webhook-row").Each(func(_ int, row *goquery.Selection) {
		out = append(out, squash(row.Find("strong").First().Text()))
	})
	slices.Sort(out)
	return out
}

// Each state tile of the dashboard links to the list of exactly the webhooks it counts.
func TestRecoveryDashboardTilesMatchTheirLists(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	ok := newReceiver(t, http.StatusOK, "ok")
	bad := newReceiver(t, http.StatusInternalServerError, "down")
	f.createWebhook(t, f.miaToken, map[string]any{"name": "Working hook", "url": ok.URL, "events": []string{"TODO_CREATED"}, "projectIds": []string{}})
	busy := f.createWebhook(t, f.miaToken, map[string]any{"name": "Busy hook", "url": recoveryRetryLaterURL(t), "events": []string{"TODO_MOVED"}, "projectIds": []string{}})
	broken := f.createWebhook(t, f.miaToken, map[string]any{"name": "Broken hook", "url": bad.URL, "events": []string{"TODO_DELETED"}, "projectIds": []string{}})
	for _, typ := range []string{"TODO_CREATED", "TODO_MOVED", "TODO_DELETED"} {
		f.recoveryPublish(t, f.adminToken, typ, f.alpha.ID, nil)
	}
	f.recoveryWaitOff(t, broken.ID)
	recoveryWait(t, "the busy webhook has failed once", func() bool { return f.storedWebhook(t, busy.ID).ConsecutiveFailures == 1 })

	b := f.signedInAs(f.mia)
	p := b.get("/")
	for tile, want := range map[string][]string{
		"stat-healthy": {"Working hook"},
		"stat-failing": {"Busy hook"},
		"stat-off":     {"Broken hook"},
	} {
		if n := recoveryStat(p, tile); n != "1" {
			t.Errorf("%s shows %q, want 1", tile, n)
		}
		href, _ := recoveryByTestID(p, tile).Attr("href")
		if href == "" {
			t.Errorf("%s links nowhere", tile)
			continue
		}
		if got := recoveryListedNames(b.get(href)); !slices.Equal(got, want) {
			t.Errorf("the %s tile counts %v but links to %s, which lists %v", tile, want, href, got)
		}
	}
}

// The replay offer counts only what a replay would send: an event the webhook no longer
// listens to is neither offered nor offered again after "nothing to replay".
func TestRecoveryReplayOfferCountsOnlyWhatWouldBeSent(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, "ok")
	hook := f.createWebhook(t, f.miaToken, map[string]any{"name": "Narrowed", "url": rcv.URL,
		"events": []string{"TODO_CREATED", "TODO_MOVED"}, "projectIds": []string{}})
	f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+hook.ID+"/disable", nil, http.StatusOK)
	if p := f.recoveryPublish(t, f.adminToken, "TODO_MOVED", f.alpha.ID, nil); p.Deliveries != 0 {
		t.Fatalf("event for a switched-off webhook made %d deliveries", p.Deliveries)
	}
	// Mia stops listening to moves, then turns it back on without replay.
	f.call(t, f.miaToken, http.MethodPatch, "/api/v1/webhooks/"+hook.ID, map[string]any{"events": []string{"TODO_CREATED"}}, http.StatusOK)
	f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+hook.ID+"/enable", map[string]any{"replayMissed": false}, http.StatusOK)

	b := f.signedInAs(f.mia)
	p := b.post("/webhooks/"+hook.ID+"/replay", url.Values{"missed": {"1"}})
	wantPageStatus(t, p, http.StatusOK)
	replayed := recoveryByTestID(p, "replayed").Length() > 0
	if offer := recoveryText(p, "replay-offer"); offer != "" {
		t.Errorf("after Replay (sent anything: %v; flash %q) the page still offers: %q — pressing it can never send that event",
			replayed, flashText(p), offer)
	}
	got, _ := f.recoverySentinel(t, hook.ID, rcv, 0)
	if evs := recoveryEventRequests(got); len(evs) != 0 {
		t.Errorf("the receiver got an event it no longer listens to: %s", evs[0].Header.Get("X-Hookyard-Event"))
	}
}

// Replays pressed at once (a double click, two tabs) still send each missed event once. The
// race is timing-dependent, so the test tries several rounds.
func TestRecoveryConcurrentReplaysSendOnce(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, "ok")
	hook := f.createWebhook(t, f.miaToken, map[string]any{"name": "Double click", "url": rcv.URL, "events": []string{}, "projectIds": []string{}})
	b := f.signedInAs(f.mia)
	b.get("/webhooks/" + hook.ID) // the CSRF cookie
	form := url.Values{"missed": {"1"}, "_csrf": {b.csrfToken()}}.Encode()
	var all []string
	for round := range 8 {
		f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+hook.ID+"/disable", nil, http.StatusOK)
		var missed []string
		for range 2 {
			missed = append(missed, f.recoveryPublish(t, f.adminToken, "TODO_CREATED", f.alpha.ID, map[string]any{"round": round}).ID)
		}
		all = append(all, missed...)
		f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+hook.ID+"/enable", map[string]any{"replayMissed": false}, http.StatusOK)

		const clicks = 8
		var wg sync.WaitGroup
		start := make(chan struct{})
		statuses := make([]int, clicks)
		for i := range clicks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/webhooks/"+hook.ID+"/replay", strings.NewReader(form))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				<-start
				resp, err := b.client.Do(req)
				if err != nil {
					return
				}
				statuses[i] = resp.StatusCode
				resp.Body.Close()
			}()
		}
		close(start)
		wg.Wait()
		for i, s := range statuses {
			if s != http.StatusOK {
				t.Errorf("round %d, replay %d: status %d", round, i, s)
			}
		}
		// Replays store their deliveries before they answer: count them now.
		for _, id := range missed {
			if n := len(f.recoveryDeliveries(t, store.DeliveryFilter{EventID: id})); n != 1 {
				t.Fatalf("round %d: %d concurrent replays made %d deliveries of missed event %s, want 1", round, clicks, n, id)
			}
		}
		f.recoverySettled(t, hook.ID)
	}
	got, _ := f.recoverySentinel(t, hook.ID, rcv, 0)
	recoveryWantOnceEach(t, "after concurrent replays", recoveryCountByEvent(t, got), all...)
}

// On the webhook page, "Check the URL and turn back on" shows the health check's result in
// place: still off with the error, or on with the offer to replay what was missed.
func TestRecoveryWebhookPageReenable(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusInternalServerError, "down")
	hook, failed, missed := recoveryOffWithMissed(t, f, rcv)
	b := f.signedInAs(f.mia)
	p := b.get("/webhooks/" + hook.ID)
	if recoveryByTestID(p, "enable-webhook").Length() != 1 || recoveryByTestID(p, "replay-since").Length() != 0 {
		t.Errorf("a switched-off webhook's page: enable button %d, replay-since form %d; want the button and no replay",
			recoveryByTestID(p, "enable-webhook").Length(), recoveryByTestID(p, "replay-since").Length())
	}

	p = b.post("/webhooks/"+hook.ID+"/enable", nil)
	wantPageStatus(t, p, http.StatusOK)
	if res := recoveryText(p, "enable-result"); !strings.Contains(res, "Still off") || !strings.Contains(res, "HTTP 500") {
		t.Errorf("failed re-enable shows %q, want “Still off” with HTTP 500", res)
	}
	if f.storedWebhook(t, hook.ID).Enabled {
		t.Fatalf("switched on after a failed health check")
	}

	rcv.answer(http.StatusOK, "ok")
	sent := len(rcv.requests())
	p = b.post("/webhooks/"+hook.ID+"/enable", nil)
	wantPageStatus(t, p, http.StatusOK)
	if words := recoveryText(p, "state-words"); !strings.Contains(words, "health check passed") {
		t.Errorf("passing re-enable: the page says %q", words)
	}
	if recoveryByTestID(p, "enable-result").Length() != 0 || recoveryByTestID(p, "disabled-notice").Length() != 0 {
		t.Errorf("the page still says the webhook is off")
	}
	n := len(failed) + len(missed)
	if offer := recoveryText(p, "replay-offer"); !strings.Contains(offer, strconv.Itoa(n)+" events") {
		t.Errorf("replay offer %q, want %d events", offer, n)
	}
	if got, _ := f.recoverySentinel(t, hook.ID, rcv, sent); len(recoveryEventRequests(got)) != 0 {
		t.Errorf("re-enabling from the page (without replay) sent %d events", len(recoveryEventRequests(got)))
	}
}
