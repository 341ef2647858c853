package handlers_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"hookyard/store"
)

// recoveryPollsWhileVisible fails unless the log body refreshes itself every 5 seconds and
// only while the tab is visible: with htmx's trigger filter, or with the data-poll-visible
// marker that app.js honours.
func recoveryPollsWhileVisible(t *testing.T, body *goquery.Selection) {
	t.Helper()
	trig, ok := body.Attr("hx-trigger")
	if !ok {
		t.Errorf("the first page of the log does not refresh itself (no hx-trigger)")
		return
	}
	_, marked := body.Attr("data-poll-visible")
	if trig != "every 5s [document.visibilityState === 'visible']" && !(trig == "every 5s" && marked) {
		t.Errorf("the log refreshes with hx-trigger %q (data-poll-visible %v); want every 5s, only while the tab is visible", trig, marked)
	}
	if get, _ := body.Attr("hx-get"); !strings.Contains(get, "/log") {
		t.Errorf("the log refreshes from %q, want the log fragment", get)
	}
}

// The health panel says how a webhook is doing in words and figures, with an accessible
// SVG chart of attempts per hour and the same summary in text.
func TestRecoveryWebhookHealthPanel(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, "ok")
	hook := f.createWebhook(t, f.miaToken, map[string]any{"name": "Health", "url": rcv.URL, "events": []string{}, "projectIds": []string{}})
	b := f.signedInAs(f.mia)

	p := b.get("/webhooks/" + hook.ID)
	wantPageStatus(t, p, http.StatusOK)
	if recoveryByTestID(p, "health").Length() != 1 {
		t.Fatalf("no health panel")
	}
	if got := recoveryText(p, "rate-24h"); got != "—" {
		t.Errorf("a new webhook's 24 h rate %q, want —", got)
	}
	if got := recoveryText(p, "chart-summary"); got != "No attempts in the last 24 hours." {
		t.Errorf("a new webhook's chart summary %q", got)
	}

	for i := range 3 {
		f.recoveryPublish(t, f.adminToken, "TODO_CREATED", f.alpha.ID, map[string]any{"n": i})
	}
	f.recoverySettled(t, hook.ID)
	p = b.get("/webhooks/" + hook.ID)
	for id, want := range map[string]string{"state-words": "On and working.", "rate-24h": "100%", "rate-7d": "100%", "consecutive": "0"} {
		if got := recoveryText(p, id); got != want {
			t.Errorf("working webhook: %s %q, want %q", id, got, want)
		}
	}
	if recoveryByTestID(p, "last-error").Length() != 0 {
		t.Errorf("a webhook that never failed shows a last error %q", recoveryText(p, "last-error"))
	}
	if got := recoveryText(p, "chart-summary"); !strings.HasPrefix(got, "3 attempts in the last 24 hours: 3 succeeded, 0 failed.") {
		t.Errorf("chart summary %q", got)
	}

	rcv.answer(http.StatusInternalServerError, "down")
	f.recoveryPublish(t, f.adminToken, "TODO_MOVED", f.alpha.ID, nil)
	off := f.recoveryWaitOff(t, hook.ID)
	p = b.get("/webhooks/" + hook.ID)
	wantOneOffMessage(t, p)
	if want := strings.Replace(off.DisabledReason, "TODO_MOVED", "“Record moved to another list”", 1); !strings.Contains(recoveryText(p, "disabled-notice"), want) {
		t.Errorf("disabled notice %q does not give the reason %q", recoveryText(p, "disabled-notice"), want)
	}
	rate := fmt.Sprintf("%.0f%%", 3.0/8*100)
	for id, want := range map[string]string{"rate-24h": rate, "rate-7d": rate, "consecutive": "5"} {
		if got := recoveryText(p, id); got != want {
			t.Errorf("after 3 successes and 5 failures: %s %q, want %q", id, got, want)
		}
	}
	if got := recoveryText(p, "last-error"); !strings.Contains(got, "HTTP 500") {
		t.Errorf("last error %q, want HTTP 500", got)
	}

	chart := recoveryByTestID(p, "health-chart")
	svg := chart.Find("svg")
	if svg.Length() != 1 {
		t.Fatalf("the chart has %d <svg>", svg.Length())
	}
	title, desc := squash(svg.ChildrenFiltered("title").Text()), squash(svg.ChildrenFiltered("desc").Text())
	summary := recoveryText(p, "chart-summary")
	if title == "" {
		t.Errorf("the chart's <svg> has no <title>")
	}
	if !strings.HasPrefix(summary, "8 attempts in the last 24 hours: 3 succeeded, 5 failed.") {
		t.Errorf("chart summary %q, want 8 attempts: 3 succeeded, 5 failed", summary)
	}
	if desc != summary {
		t.Errorf("the chart's <desc> %q differs from its text summary %q", desc, summary)
	}
	if role, _ := svg.Attr("role"); role != "img" {
		t.Errorf("svg role %q, want img", role)
	}
	if svg.Find("rect.ok").Length() == 0 || svg.Find("rect.bad").Length() == 0 {
		t.Errorf("the chart has no bars for successes and failures")
	}
}

// The delivery log lists deliveries newest first, filters by status and event on the page and
// in the fragment the page refreshes itself with, and pages by keyset without overlap.
func TestRecoveryDeliveryLog(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, "ok")
	hook := f.createWebhook(t, f.miaToken, map[string]any{"name": "Busy log", "url": rcv.URL, "events": []string{}, "projectIds": []string{}})
	for i := range 30 {
		typ := "TODO_CREATED"
		if i%10 == 5 {
			typ = "TODO_MOVED"
		}
		f.recoveryPublish(t, f.adminToken, typ, f.alpha.ID, map[string]any{"n": i})
	}
	f.recoverySettled(t, hook.ID)
	rcv.answer(http.StatusInternalServerError, "down")
	f.recoveryPublish(t, f.adminToken, "TODO_DELETED", f.alpha.ID, nil)
	f.recoveryWaitOff(t, hook.ID)
	all := ids(f.recoveryDeliveries(t, store.DeliveryFilter{WebhookID: hook.ID}), func(d store.Delivery) string { return d.ID })
	if len(all) != 31 {
		t.Fatalf("%d deliveries, want 31", len(all))
	}
	b := f.signedInAs(f.mia)
	base := "/webhooks/" + hook.ID

	// First page: the newest 25, the failed one on top, polling, a link to older ones.
	p := b.get(base)
	wantPageStatus(t, p, http.StatusOK)
	if recoveryByTestID(p, "delivery-log").Length() != 1 {
		t.Fatalf("no delivery log on the webhook page")
	}
	page1 := recoveryLogLinks(p)
	if !slices.Equal(page1, all[:25]) {
		t.Fatalf("first page of the log %v,\nwant the newest 25 %v", page1, all[:25])
	}
	if first := squash(recoveryByTestID(p, "log-row").First().Text()); !strings.Contains(first, "Failed") || !strings.Contains(first, "Record deleted") {
		t.Errorf("newest row %q, want the failed “Record deleted” delivery", first)
	}
	recoveryPollsWhileVisible(t, p.Doc.Find("#log-body"))
	older, ok := recoveryByTestID(p, "older").Attr("href")
	if !ok || !strings.Contains(older, "cursor=") {
		t.Fatalf("no link to older deliveries (href %q)", older)
	}

	// Second page: the other 6, no overlap, no polling, a way back.
	p = b.get(strings.TrimSuffix(older, "#delivery-log"))
	wantPageStatus(t, p, http.StatusOK)
	page2 := recoveryLogLinks(p)
	if !slices.Equal(page2, all[25:]) {
		t.Errorf("second page %v, want %v", page2, all[25:])
	}
	for _, id := range page2 {
		if slices.Contains(page1, id) {
			t.Errorf("delivery %s is on both pages", id)
		}
	}
	if recoveryByTestID(p, "older").Length() != 0 {
		t.Errorf("the last page links to older deliveries")
	}
	if _, polls := p.Doc.Find("#log-body").Attr("hx-trigger"); polls {
		t.Errorf("an older page of the log refreshes itself")
	}

	// Filters on the page.
	rows := func(p page) int { return recoveryByTestID(p, "log-row").Length() }
	p = b.get(base + "?status=failed")
	if got := recoveryLogLinks(p); !slices.Equal(got, all[:1]) {
		t.Errorf("?status=failed lists %v, want %v", got, all[:1])
	}
	if v, _ := p.Doc.Find("#log-status option[selected]").Attr("value"); v != "failed" {
		t.Errorf("the status filter shows %q, want failed", v)
	}
	p = b.get(base + "?event=TODO_MOVED")
	if n := rows(p); n != 3 {
		t.Errorf("?event=TODO_MOVED lists %d rows, want 3", n)
	}
	for _, row := range textsOf(recoveryByTestID(p, "log-row")) {
		if !strings.Contains(row, "Record moved to another list") {
			t.Errorf("?event=TODO_MOVED lists %q", squash(row))
		}
	}
	p = b.get(base + "?status=succeeded")
	if n := rows(p); n != 25 || recoveryByTestID(p, "older").Length() != 1 {
		t.Errorf("?status=succeeded: %d rows and %d older links, want 25 and 1", n, recoveryByTestID(p, "older").Length())
	}
	older, _ = recoveryByTestID(p, "older").Attr("href")
	if !strings.Contains(older, "status=succeeded") {
		t.Errorf("the older link %q drops the filter", older)
	}
	if p = b.get(strings.TrimSuffix(older, "#delivery-log")); rows(p) != 5 {
		t.Errorf("second page of ?status=succeeded has %d rows, want 5", rows(p))
	}
	p = b.get(base + "?status=succeeded&event=TODO_DELETED")
	if rows(p) != 0 || !strings.Contains(recoveryText(p, "empty-log"), "No deliveries match") {
		t.Errorf("no match: %d rows, message %q", rows(p), recoveryText(p, "empty-log"))
	}

	// The fragment: only #log-body, filtered, polling on the first page only.
	fragment := func(path string) page {
		t.Helper()
		p := b.get(path)
		wantPageStatus(t, p, http.StatusOK)
		body := strings.TrimSpace(p.Body)
		if !strings.HasPrefix(body, `<div id="log-body"`) || strings.Contains(body, "<html") || strings.Contains(body, "<nav") ||
			p.Doc.Find("#log-body").Length() != 1 {
			t.Fatalf("GET %s answered more than #log-body:\n%.300s", path, body)
		}
		return p
	}
	p = fragment(base + "/log")
	if got := recoveryLogLinks(p); !slices.Equal(got, all[:25]) {
		t.Errorf("log fragment lists %v, want the newest 25", got)
	}
	recoveryPollsWhileVisible(t, p.Doc.Find("#log-body"))
	p = fragment(base + "/log?status=&event=TODO_MOVED")
	if n := rows(p); n != 3 {
		t.Errorf("filtered fragment has %d rows, want 3", n)
	}
	if get, _ := p.Doc.Find("#log-body").Attr("hx-get"); !strings.Contains(get, "event=TODO_MOVED") {
		t.Errorf("the filtered log refreshes from %q, losing the filter", get)
	}
	p = fragment(base + "/log?status=failed")
	if got := recoveryLogLinks(p); !slices.Equal(got, all[:1]) {
		t.Errorf("fragment ?status=failed lists %v", got)
	}
	p = fragment(base + "/log?cursor=" + all[24])
	if got := recoveryLogLinks(p); !slices.Equal(got, all[25:]) {
		t.Errorf("fragment after cursor lists %v, want %v", got, all[25:])
	}
	if _, polls := p.Doc.Find("#log-body").Attr("hx-trigger"); polls {
		t.Errorf("an older page of the log fragment refreshes itself")
	}
}
