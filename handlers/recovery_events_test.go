package handlers_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// recoveryOutcome is one webhook's line on an event page.
type recoveryOutcome struct{ State, Reason string }

// recoveryOutcomes reads an event page's outcomes by webhook name.
func recoveryOutcomes(p page) map[string]recoveryOutcome {
	out := map[string]recoveryOutcome{}
	recoveryByTestID(p, "outcome").Each(func(_ int, li *goquery.Selection) {
		out[squash(li.Find("strong").First().Text())] = recoveryOutcome{
			State:  squash(li.Find(`[data-testid="outcome-state"]`).Text()),
			Reason: squash(li.Find(`[data-testid="outcome-reason"]`).Text()),
		}
	})
	return out
}

// recoveryEventLinks are the event ids an events page lists, in order.
func recoveryEventLinks(p page) []string {
	var out []string
	recoveryByTestID(p, "event-row").Each(func(_ int, row *goquery.Selection) {
		href, _ := row.Find(`a[href^="/events/"]`).First().Attr("href")
		out = append(out, strings.TrimPrefix(href, "/events/"))
	})
	return out
}

// The events pages list recent events by project and type, and for one event say what each
// of the viewer's webhooks did with it, or why it did not get it.
func TestRecoveryEventsPages(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate, roomyLogins)
	rcv := newReceiver(t, http.StatusOK, "ok")
	hook := func(token, name string, events, projects []string) apiWebhook {
		return f.createWebhook(t, token, map[string]any{"name": name, "url": rcv.URL, "events": events, "projectIds": projects})
	}
	all := hook(f.miaToken, "Everything", []string{}, []string{})
	hook(f.miaToken, "Created only", []string{"TODO_CREATED"}, []string{})
	hook(f.miaToken, "Apex only", []string{}, []string{f.apex.ID})
	off := hook(f.miaToken, "Paused", []string{}, []string{})
	f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+off.ID+"/disable", nil, http.StatusOK)
	ottos := hook(f.ottoToken, "Otto's hook", []string{}, []string{})

	moved := f.recoveryPublish(t, f.adminToken, "TODO_MOVED", f.alpha.ID, map[string]any{"list": "Done"})
	inApex := f.recoveryPublish(t, f.adminToken, "TODO_CREATED", f.apex.ID, nil)
	inBeta := f.recoveryPublish(t, f.adminToken, "TODO_CREATED", f.beta.ID, nil)
	f.recoverySettled(t, all.ID)
	f.recoverySettled(t, ottos.ID)

	mia := f.signedInAs(f.mia)
	p := mia.get("/events/" + moved.ID)
	wantPageStatus(t, p, http.StatusOK)
	got := recoveryOutcomes(p)
	want := map[string]struct{ state, reason string }{
		"Everything":   {"Delivered", "Delivered (HTTP 200)"},
		"Created only": {"Not sent", "Not subscribed to “Record moved to another list”."},
		"Apex only":    {"Not sent", "The project Alpha (Acme) is not selected."},
		"Paused":       {"Missed", "switched off — the event is kept as missed"},
	}
	if len(got) != len(want) {
		t.Errorf("Mia's outcomes %v, want exactly her 4 webhooks", got)
	}
	for name, w := range want {
		o, ok := got[name]
		if !ok {
			t.Errorf("no outcome for %s", name)
			continue
		}
		if o.State != w.state || !strings.Contains(o.Reason, w.reason) {
			t.Errorf("%s: %q / %q, want %q / …%q…", name, o.State, o.Reason, w.state, w.reason)
		}
	}
	if _, ok := got["Otto's hook"]; ok {
		t.Errorf("Mia sees Otto's webhook in the outcomes")
	}

	// Another organisation's event is not Mia's to see; the admin sees everyone's webhooks.
	wantPageStatus(t, mia.get("/events/"+inBeta.ID), http.StatusNotFound)
	otto := f.signedInAs(f.otto)
	wantPageStatus(t, otto.get("/events/"+moved.ID), http.StatusNotFound)
	admin := f.signedInAs(f.admin)
	got = recoveryOutcomes(admin.get("/events/" + inBeta.ID))
	if len(got) != 5 {
		t.Errorf("the admin sees %d outcomes, want all 5 webhooks: %v", len(got), got)
	}
	if o := got["Otto's hook"]; o.State != "Delivered" {
		t.Errorf("Otto's hook on the Beta event: %+v, want Delivered", o)
	}
	if o := got["Everything"]; o.State != "Not sent" || o.Reason != "Mia Member has no access to Bolt." {
		t.Errorf("Mia's webhook on the Beta event: %+v, want not sent because Mia has no access to Bolt", o)
	}

	// The list: Mia sees her organisations' events, newest first, filterable.
	p = mia.get("/events")
	wantPageStatus(t, p, http.StatusOK)
	if ids := recoveryEventLinks(p); !slices.Equal(ids, []string{inApex.ID, moved.ID}) {
		t.Errorf("Mia's events %v, want %v (newest first, not Bolt's)", ids, []string{inApex.ID, moved.ID})
	}
	if ids := recoveryEventLinks(mia.get("/events?projectId=" + f.apex.ID)); !slices.Equal(ids, []string{inApex.ID}) {
		t.Errorf("?projectId=Apex lists %v", ids)
	}
	if ids := recoveryEventLinks(mia.get("/events?event=TODO_MOVED")); !slices.Equal(ids, []string{moved.ID}) {
		t.Errorf("?event=TODO_MOVED lists %v", ids)
	}
	if ids := recoveryEventLinks(mia.get("/events?projectId=" + f.beta.ID)); len(ids) != 0 {
		t.Errorf("Mia filtering by Bolt's project sees %v", ids)
	}
	if ids := recoveryEventLinks(admin.get("/events")); !slices.Equal(ids, []string{inBeta.ID, inApex.ID, moved.ID}) {
		t.Errorf("the admin's events %v, want all three newest first", ids)
	}
	if ids := recoveryEventLinks(admin.get("/events?projectId=" + f.beta.ID + "&event=TODO_CREATED")); !slices.Equal(ids, []string{inBeta.ID}) {
		t.Errorf("admin ?projectId=Beta&event=TODO_CREATED lists %v", ids)
	}
	if row := squash(recoveryByTestID(p, "event-row").Last().Text()); !strings.Contains(row, "Record moved to another list") ||
		!strings.Contains(row, "Alpha (Acme)") {
		t.Errorf("event row %q, want the label and the project", row)
	}

	// Once the paused webhook is back on with replay, the missed event shows as delivered.
	f.call(t, f.miaToken, http.MethodPost, "/api/v1/webhooks/"+off.ID+"/enable", map[string]any{"replayMissed": true}, http.StatusOK)
	f.recoverySettled(t, off.ID)
	if o := recoveryOutcomes(mia.get("/events/" + moved.ID))["Paused"]; o.State != "Delivered" {
		t.Errorf("after the replay the paused webhook's outcome is %+v, want Delivered", o)
	}
}

// The event page shows the published values as they were published: JSON's HTML-safe
// escapes (\u003c, \u0026) are not what the publisher wrote.
func TestRecoveryEventPageShowsValuesAsPublished(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	ev := f.recoveryPublish(t, f.adminToken, "TODO_NAME_CHANGED", f.alpha.ID, map[string]any{"name": "Tom & Jerry <3"})
	p := f.signedInAs(f.mia).get("/events/" + ev.ID)
	wantPageStatus(t, p, http.StatusOK)
	if got := recoveryText(p, "event-payload"); !strings.Contains(got, `"name": "Tom & Jerry <3"`) {
		t.Errorf("the event page shows the value as %q, want \"name\": \"Tom & Jerry <3\"", got)
	}
}
