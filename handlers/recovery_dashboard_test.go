package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"hookyard/store"
)

// recoveryStat is the figure of a dashboard stat tile.
func recoveryStat(p page, id string) string {
	return squash(recoveryByTestID(p, id).Find(".n").Text())
}

// recoveryStats are the figures of the webhook-state tiles: working, failing, switched off.
func recoveryStats(p page) [3]string {
	return [3]string{recoveryStat(p, "stat-healthy"), recoveryStat(p, "stat-failing"), recoveryStat(p, "stat-off")}
}

// The dashboard counts webhooks by state, attempts and success over 24 hours, p95 and the
// backlog — a member's own webhooks, an admin's all — and lists switched-off ones with their
// reason; the owner gets a notice that only they can dismiss.
func TestRecoveryDashboard(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate, roomyLogins)
	ok := newReceiver(t, http.StatusOK, "ok")
	bad := newReceiver(t, http.StatusInternalServerError, "down")
	working := f.createWebhook(t, f.miaToken, map[string]any{"name": "Working hook", "url": ok.URL, "events": []string{"TODO_CREATED"}, "projectIds": []string{}})
	busy := f.createWebhook(t, f.miaToken, map[string]any{"name": "Busy hook", "url": recoveryRetryLaterURL(t), "events": []string{"TODO_MOVED"}, "projectIds": []string{}})
	broken := f.createWebhook(t, f.miaToken, map[string]any{"name": "Broken hook", "url": bad.URL, "events": []string{"TODO_DELETED"}, "projectIds": []string{}})
	f.createWebhook(t, f.ottoToken, map[string]any{"name": "Otto's hook", "url": ok.URL, "events": []string{"TODO_CREATED"}, "projectIds": []string{}})

	for _, typ := range []string{"TODO_CREATED", "TODO_MOVED", "TODO_DELETED"} {
		if p := f.recoveryPublish(t, f.adminToken, typ, f.alpha.ID, map[string]any{"title": typ}); p.Deliveries != 1 {
			t.Fatalf("%s: %d deliveries, want 1", typ, p.Deliveries)
		}
	}
	f.recoverySettled(t, working.ID)
	off := f.recoveryWaitOff(t, broken.ID)
	recoveryWait(t, "the busy webhook's first attempt is recorded", func() bool {
		w := f.storedWebhook(t, busy.ID)
		return w.ConsecutiveFailures == 1
	})
	// The stored reason (and the API's disabledReason) names the type for developers; pages
	// name it for people.
	if stored := "5 attempts failed for TODO_DELETED: HTTP 500"; !strings.Contains(off.DisabledReason, stored) {
		t.Fatalf("switched off because %q, want %q", off.DisabledReason, stored)
	}

	mia := f.signedInAs(f.mia)
	p := mia.get("/")
	wantPageStatus(t, p, http.StatusOK)
	if got := recoveryStats(p); got != [3]string{"1", "1", "1"} {
		t.Errorf("Mia's dashboard: working/failing/off %v, want 1/1/1", got)
	}
	// 7 attempts (1 succeeded, 1 asked to retry later, 5 failed): 1 in 7 succeeded.
	if rate, all := recoveryStat(p, "stat-rate"), recoveryText(p, "stat-rate"); rate != "14%" || !strings.Contains(all, "7 attempts") {
		t.Errorf("Mia's success rate %q (%q), want 14%% of 7 attempts", rate, all)
	}
	if p95 := recoveryStat(p, "stat-p95"); !regexp.MustCompile(`^\d+(\.\d+)? m?s$`).MatchString(p95) {
		t.Errorf("Mia's p95 %q, want a duration", p95)
	}
	if n := recoveryStat(p, "stat-pending"); n != "1" {
		t.Errorf("Mia's backlog %q, want 1 (the delivery waiting for its retry)", n)
	}
	wantReason := "5 attempts failed for “Record deleted”: HTTP 500"
	items := recoveryByTestID(p, "attention-item")
	if items.Length() != 1 {
		t.Fatalf("Mia's needs-attention list has %d items, want 1: %q", items.Length(), recoveryText(p, "attention"))
	}
	if id, _ := items.Attr("id"); id != "attention-"+broken.ID || !strings.Contains(squash(items.Text()), "Broken hook") {
		t.Errorf("attention item %s %q, want the broken webhook", id, squash(items.Text()))
	}
	if reason := squash(items.Find(`[data-testid="disabled-reason"]`).Text()); !strings.Contains(reason, wantReason) {
		t.Errorf("attention reason %q, want %q", reason, wantReason)
	}
	if btn := squash(items.Find(`[data-testid="reenable"]`).Text()); !strings.HasPrefix(btn, "Turn back on") {
		t.Errorf("attention item has no Re-enable button (%q)", btn)
	}
	// The switch-off is told once: by Needs attention, not again by a notice.
	if notices := recoveryByTestID(p, "notice"); notices.Length() != 0 {
		t.Errorf("Mia sees the switch-off twice: besides Needs attention, notices %q", squash(notices.Text()))
	}
	if txt := squash(items.Text()); !strings.Contains(txt, "Switched off just now") {
		t.Errorf("attention item %q does not say when it was switched off", txt)
	}

	admin := f.signedInAs(f.admin)
	p = admin.get("/")
	if got := recoveryStats(p); got != [3]string{"2", "1", "1"} {
		t.Errorf("admin's dashboard: working/failing/off %v, want 2/1/1 (every webhook)", got)
	}
	if rate, all := recoveryStat(p, "stat-rate"), recoveryText(p, "stat-rate"); rate != "14%" || !strings.Contains(all, "7 attempts") {
		t.Errorf("admin's success rate %q (%q), want 14%% of 7 attempts", rate, all)
	}
	if n := recoveryStat(p, "stat-pending"); n != "1" {
		t.Errorf("admin's backlog %q, want 1", n)
	}
	if n := recoveryByTestID(p, "attention-item").Length(); n != 1 {
		t.Errorf("admin's needs-attention list has %d items, want 1", n)
	}
	if n := recoveryByTestID(p, "notice").Length(); n != 0 {
		t.Errorf("the admin sees %d notices about Mia's webhook, want 0 (the owner is told)", n)
	}

	otto := f.signedInAs(f.otto)
	p = otto.get("/")
	if got := recoveryStats(p); got != [3]string{"1", "0", "0"} {
		t.Errorf("Otto's dashboard: working/failing/off %v, want 1/0/0 (his own webhook only)", got)
	}
	if rate, all := recoveryStat(p, "stat-rate"), recoveryText(p, "stat-rate"); rate != "—" || !strings.Contains(all, "0 attempts") {
		t.Errorf("Otto's success rate %q (%q), want — of 0 attempts", rate, all)
	}
	if n := recoveryStat(p, "stat-pending"); n != "0" {
		t.Errorf("Otto's backlog %q, want 0", n)
	}
	if recoveryByTestID(p, "attention-item").Length() != 0 || recoveryByTestID(p, "all-good").Length() != 1 {
		t.Errorf("Otto's needs-attention list: %q, want “nothing”", recoveryText(p, "attention"))
	}
	if strings.Contains(p.Body, "Broken hook") || recoveryByTestID(p, "notice").Length() != 0 {
		t.Errorf("Otto's dashboard shows Mia's webhook or notice")
	}
	// The notice stays stored (unread) while the webhook is off; Otto cannot dismiss it.
	notes, err := f.store.UnreadNotifications(t.Context(), f.mia.ID)
	if err != nil || len(notes) != 1 || notes[0].WebhookID != broken.ID {
		t.Fatalf("Mia's unread notices %+v (%v), want the one about Broken hook", notes, err)
	}
	action := "/notifications/" + notes[0].ID + "/dismiss"
	wantPageStatus(t, otto.post(action, nil), http.StatusNotFound)
	wantSeeOther(t, mia.post(action, nil), "/")
	wantPageStatus(t, mia.post(action, nil), http.StatusNotFound)
	if recoveryByTestID(mia.get("/"), "attention-item").Length() != 1 {
		t.Errorf("dismissing the notice removed the webhook from “needs attention”")
	}

	// Someone with no webhooks is offered to create the first one.
	nina := f.signedInAs(f.member("nina@example.com", "Nina New"))
	p = nina.get("/")
	first := recoveryByTestID(p, "first-webhook")
	if first.Length() != 1 {
		t.Fatalf("no first-webhook panel for someone without webhooks")
	}
	// A link to the builder, or a button that makes one pointed at the request inspector.
	offered := first.Find("a, button").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return squash(s.Text()) == "Create your first webhook"
	})
	if offered.Length() != 1 {
		t.Errorf("first-webhook panel %q has no “Create your first webhook” link or button", squash(first.Text()))
	}
	if recoveryByTestID(p, "stat-healthy").Length() != 0 {
		t.Errorf("empty dashboard shows stats")
	}
}

// From the dashboard, Re-enable answers with just the list item: "Still off" while the URL
// fails, "Back on" once it answers, and then the missed events are sent once each.
func TestRecoveryDashboardReenableInPlace(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusInternalServerError, "down")
	hook := f.createWebhook(t, f.miaToken, map[string]any{"name": "Broken hook", "url": rcv.URL, "events": []string{}, "projectIds": []string{}})
	first := f.recoveryPublish(t, f.adminToken, "TODO_CREATED", f.alpha.ID, map[string]any{"n": 0})
	f.recoveryWaitOff(t, hook.ID)
	var missed []string
	for i := range 2 {
		missed = append(missed, f.recoveryPublish(t, f.adminToken, "TODO_MOVED", f.alpha.ID, map[string]any{"n": i + 1}).ID)
	}

	b := f.signedInAs(f.mia)
	p := b.get("/")
	if btn := squash(recoveryByTestID(p, "reenable").Text()); btn != "Turn back on and send 3 missed" {
		t.Errorf("Turn back on button %q, want “Turn back on and send 3 missed”", btn)
	}
	path := "/webhooks/" + hook.ID + "/enable"
	form := url.Values{"view": {"attention"}, "replay": {"1"}}

	// Without the CSRF token nothing happens.
	sent := len(rcv.requests())
	wantPageStatus(t, b.postRaw(path, form), http.StatusForbidden)
	if n := len(rcv.recoverySince(sent)); n != 0 {
		t.Errorf("a re-enable without CSRF token sent %d requests", n)
	}

	fragment := func(p page) {
		t.Helper()
		wantPageStatus(t, p, http.StatusOK)
		body := strings.TrimSpace(p.Body)
		if !strings.HasPrefix(body, `<li id="attention-`+hook.ID+`"`) || !strings.HasSuffix(body, "</li>") || strings.Count(body, "<li") != 1 {
			t.Fatalf("re-enable from the dashboard answered more than the list item:\n%s", body)
		}
		for _, s := range []string{"<html", "<main", "<nav", "<body"} {
			if strings.Contains(body, s) {
				t.Errorf("fragment contains %s", s)
			}
		}
	}

	// Still failing: still off, with the reason shown in place.
	p = b.post(path, form)
	fragment(p)
	if res := recoveryText(p, "reenable-result"); !strings.Contains(res, "Still off") || !strings.Contains(res, "500") {
		t.Errorf("result %q, want “Still off” with the HTTP status", res)
	}
	if recoveryByTestID(p, "reenable").Length() != 1 {
		t.Errorf("the Re-enable button is gone after a failed attempt")
	}
	if w := f.storedWebhook(t, hook.ID); w.Enabled {
		t.Errorf("the webhook was switched on though its health check failed")
	}
	got := rcv.recoverySince(sent)
	if len(got) != 1 || recoveryHealthChecks(got) != 1 {
		t.Errorf("a failed re-enable sent %d requests (%d health checks), want just the health check", len(got), recoveryHealthChecks(got))
	}

	// Answering again: back on, healthy, and the missed events go out once each.
	rcv.answer(http.StatusOK, "ok")
	sent = len(rcv.requests())
	p = b.post(path, form)
	fragment(p)
	if res := recoveryText(p, "reenable-result"); !strings.Contains(res, "Back on") || !strings.Contains(res, "3 missed events are being sent") {
		t.Errorf("result %q, want “Back on” with 3 missed events being sent", res)
	}
	if recoveryByTestID(p, "reenable").Length() != 0 || recoveryByTestID(p, "disabled-reason").Length() != 0 {
		t.Errorf("the item still offers Re-enable or shows a reason after coming back on")
	}
	if w := f.storedWebhook(t, hook.ID); !w.Enabled || w.Status != store.StatusHealthy {
		t.Errorf("after Back on: enabled %v status %s", w.Enabled, w.Status)
	}
	all := append([]string{first.ID}, missed...)
	recoveryWait(t, "the missed events arrive", func() bool { return len(recoveryCountByEvent(t, rcv.recoverySince(sent))) >= len(all) })
	got, _ = f.recoverySentinel(t, hook.ID, rcv, sent)
	recoveryWantOnceEach(t, "after Re-enable from the dashboard", recoveryCountByEvent(t, got), all...)

	p = b.get("/")
	if recoveryByTestID(p, "attention-item").Length() != 0 || recoveryStat(p, "stat-off") != "0" {
		t.Errorf("after Back on the dashboard still lists the webhook as off: %v", recoveryStats(p))
	}
	// What the switch-off notice told is over: it is closed, not left to go stale.
	if notes, err := f.store.UnreadNotifications(t.Context(), f.mia.ID); err != nil || len(notes) != 0 {
		t.Errorf("after Back on Mia still has unread notices %+v (%v)", notes, err)
	}
	if txt := squash(p.Doc.Find("main").Text()); strings.Contains(strings.ToLower(txt), "switched off:") {
		t.Errorf("after Back on the dashboard still says it was switched off: %q", txt)
	}
}

// A webhook switched back on after a passing health check is working again: the dashboard
// counts it as working, and its page's health agrees with itself — the check counts as the
// latest success, its page says when it passed, and the error it overcame is not shown as news.
func TestRecoveryReenabledWebhookCountsAsWorking(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusInternalServerError, "down")
	hook := f.createWebhook(t, f.miaToken, map[string]any{"name": "Broken hook", "url": rcv.URL, "events": []string{}, "projectIds": []string{}})
	f.recoveryPublish(t, f.adminToken, "TODO_CREATED", f.alpha.ID, nil)
	f.recoveryWaitOff(t, hook.ID)
	rcv.answer(http.StatusOK, "ok")
	f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+hook.ID+"/enable", map[string]any{"replayMissed": false}, http.StatusOK)

	b := f.signedInAs(f.mia)
	p := b.get("/")
	if got := recoveryStats(p); got != [3]string{"1", "0", "0"} {
		t.Errorf("dashboard after a passing re-enable: working/failing/off %v, want 1/0/0", got)
	}
	p = b.get("/webhooks/" + hook.ID)
	if words := recoveryText(p, "state-words"); !strings.HasPrefix(words, "Back on: the health check passed just now (HTTP 200).") {
		t.Errorf("webhook page after a passing re-enable says %q, want “Back on: the health check passed just now (HTTP 200).”", words)
	}
	if n := recoveryText(p, "consecutive"); n != "0" {
		t.Errorf("failures in a row after a passing health check: %s, want 0", n)
	}
	// Five failed attempts and the passed check.
	if rate := recoveryText(p, "rate-24h"); rate != "17%" {
		t.Errorf("success in 24 h after a passing health check: %s, want 17%% (1 of 6)", rate)
	}
	if last := recoveryText(p, "last-success"); last == "Never" || !strings.HasSuffix(last, "(the health check)") {
		t.Errorf("last success after a passing health check: %q, want its time, marked as the health check", last)
	}
	if recoveryByTestID(p, "last-error").Length() != 0 {
		t.Errorf("after a passing health check the page still shows the last error %q as news", recoveryText(p, "last-error"))
	}

	// The next delivery that succeeds is the latest success.
	f.recoveryPublish(t, f.adminToken, "TODO_MOVED", f.alpha.ID, nil)
	recoveryWait(t, "the delivery to succeed", func() bool {
		return f.storedWebhook(t, hook.ID).LastSuccessAt.After(*f.storedWebhook(t, hook.ID).LastFailureAt) &&
			len(f.recoveryDeliveries(t, store.DeliveryFilter{WebhookID: hook.ID, Status: store.DeliverySucceeded})) == 1
	})
	p = b.get("/webhooks/" + hook.ID)
	if words := recoveryText(p, "state-words"); words != "On and working." {
		t.Errorf("after a delivery succeeded the page says %q, want “On and working.”", words)
	}
	if last := recoveryText(p, "last-success"); strings.Contains(last, "health check") {
		t.Errorf("after a delivery succeeded the last success reads %q, still the health check", last)
	}
}
