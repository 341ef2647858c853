package handlers_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"hookyard/store"
)

// The /webhooks list and the /webhooks/{id} page with its actions.

// rowsByName maps each row of the webhooks table to its cells' texts by data-label.
func rowsByName(p page) map[string]map[string]string {
	out := map[string]map[string]string{}
	p.Doc.Find(`[data-testid="webhook-row"]`).Each(func(_ int, row *goquery.Selection) {
		cells := map[string]string{}
		row.Find("td").Each(func(_ int, td *goquery.Selection) {
			label, _ := td.Attr("data-label")
			cells[label] = squash(td.Text())
		})
		cells["badge"] = squash(row.Find(`[data-testid="state"]`).Text())
		out[strings.TrimSpace(row.Find("strong").First().Text())] = cells
	})
	return out
}

func names(rows map[string]map[string]string) []string {
	var out []string
	for n := range rows {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func TestWebhookListPage(t *testing.T) {
	f := newWebhookFixture(t, roomyLogins)
	ctx := t.Context()
	mia := f.signedInAs(f.mia)

	// Nothing yet.
	p := mia.get("/webhooks")
	wantPageStatus(t, p, http.StatusOK)
	if empty := squash(p.Doc.Find(`[data-testid="empty-webhooks"]`).Text()); !strings.Contains(empty, "No webhooks yet") {
		t.Errorf("empty state %q", empty)
	}
	if p.Doc.Find(`[data-testid="empty-webhooks"] a[href="/webhooks/new"]`).Length() == 0 {
		t.Errorf("empty state does not lead to /webhooks/new")
	}

	on := f.putWebhook(t, f.mia, "Orders", publicURL, []string{"TODO_CREATED", "TODO_MOVED"}, []string{f.alpha.ID})
	off := f.putWebhook(t, f.mia, "Paused", publicURL, nil, nil)
	failing := f.putWebhook(t, f.mia, "Flaky", "https://93.184.215.15/flaky", []string{"COMMENT_CREATED"}, []string{f.alpha.ID, f.apex.ID})
	f.putWebhook(t, f.otto, "Otto's", publicURL, nil, []string{f.beta.ID})
	if _, err := f.store.DisableWebhook(ctx, off.ID, store.StatusHealthy, "Turned off by Mia Member."); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.DisableWebhook(ctx, failing.ID, store.StatusUnhealthy, "5 attempts failed for COMMENT_CREATED: HTTP 500"); err != nil {
		t.Fatal(err)
	}

	p = mia.get("/webhooks")
	rows := rowsByName(p)
	if got := names(rows); !slices.Equal(got, []string{"Flaky", "Orders", "Paused"}) {
		t.Fatalf("Mia's list %v, want her three webhooks", got)
	}
	for name, badge := range map[string]string{"Orders": "Working", "Paused": "Switched off", "Flaky": "Switched off after failing"} {
		if got := rows[name]["badge"]; got != badge {
			t.Errorf("%s badge %q, want %q", name, got, badge)
		}
	}
	if got := rows["Orders"]["Listens to"]; !strings.Contains(got, "Record created") || !strings.Contains(got, "Record moved to another list") || !strings.Contains(got, "Alpha (Acme)") {
		t.Errorf("Orders listens to %q", got)
	}
	if got := rows["Paused"]["Listens to"]; !strings.Contains(got, "All events") || !strings.Contains(got, "All projects") {
		t.Errorf("Paused listens to %q", got)
	}
	if !strings.Contains(rows["Flaky"]["Webhook"], "https://93.184.215.15/flaky") {
		t.Errorf("Flaky row %q lacks its URL", rows["Flaky"]["Webhook"])
	}
	if p.Doc.Find(`[data-testid="webhooks"] th`).FilterFunction(func(_ int, s *goquery.Selection) bool { return s.Text() == "Owner" }).Length() != 0 {
		t.Errorf("a member's list has an Owner column")
	}
	if p.Doc.Find(`a[href="/webhooks/`+on.ID+`"]`).Length() == 0 {
		t.Errorf("no link to the webhook page")
	}
	if tabs := textsOf(p.Doc.Find(`nav.tabs a`)); !slices.Equal(tabs, []string{"All", "Working", "Failing", "Switched off"}) {
		t.Errorf("filter tabs %v", tabs)
	}

	// Filters.
	for _, tc := range []struct {
		state, tab string
		want       []string
	}{
		{"working", "Working", []string{"Orders"}},
		{"failing", "Failing", nil},
		{"disabled", "Switched off", []string{"Flaky", "Paused"}},
		// API filters without a tab of their own.
		{"enabled", "", []string{"Orders"}},
		{"unhealthy", "", []string{"Flaky"}},
	} {
		p := mia.get("/webhooks?state=" + tc.state)
		wantPageStatus(t, p, http.StatusOK)
		if got := names(rowsByName(p)); !slices.Equal(got, tc.want) {
			t.Errorf("?state=%s lists %v, want %v", tc.state, got, tc.want)
		}
		wantTabs := []string{tc.tab}
		if tc.tab == "" {
			wantTabs = nil
		}
		if cur := textsOf(p.Doc.Find(`nav.tabs a[aria-current="page"]`)); !slices.Equal(cur, wantTabs) {
			t.Errorf("?state=%s marks tabs %v as current", tc.state, cur)
		}
	}
	wantPageStatus(t, mia.get("/webhooks?state=bogus"), http.StatusBadRequest)

	// Otto has no disabled webhooks.
	otto := f.signedInAs(f.otto)
	p = otto.get("/webhooks?state=disabled")
	if empty := squash(p.Doc.Find(`[data-testid="empty-webhooks"]`).Text()); !strings.Contains(empty, "No webhooks in this state") {
		t.Errorf("Otto's empty filtered list %q", empty)
	}
	if got := names(rowsByName(otto.get("/webhooks"))); !slices.Equal(got, []string{"Otto's"}) {
		t.Errorf("Otto's list %v", got)
	}

	// The admin sees everyone's, with the owner.
	p = f.signedInAs(f.admin).get("/webhooks")
	rows = rowsByName(p)
	if got := names(rows); !slices.Equal(got, []string{"Flaky", "Orders", "Otto's", "Paused"}) {
		t.Errorf("admin's list %v", got)
	}
	if rows["Orders"]["Owner"] != "Mia Member" || rows["Otto's"]["Owner"] != "Otto Other" {
		t.Errorf("owner column: Orders %q, Otto's %q", rows["Orders"]["Owner"], rows["Otto's"]["Owner"])
	}
}

// Names and URLs people typed are shown as text.
func TestWebhookPagesEscapeNames(t *testing.T) {
	f := newWebhookFixture(t)
	evil := `<img src=x onerror=alert(1)>`
	w := f.putWebhook(t, f.mia, evil, "https://93.184.215.14/?q=<b>x</b>", nil, nil)
	b := f.signedInAs(f.mia)
	for _, path := range []string{"/webhooks", "/webhooks/" + w.ID, "/webhooks/" + w.ID + "/edit"} {
		p := b.get(path)
		wantPageStatus(t, p, http.StatusOK)
		if p.Doc.Find("img[onerror]").Length() != 0 || strings.Contains(p.Body, evil) || strings.Contains(p.Body, "<b>x</b>") {
			t.Errorf("%s puts the webhook's name or URL into the page as HTML", path)
		}
	}
	if got := strings.TrimSpace(b.get("/webhooks/" + w.ID).Doc.Find(`[data-testid="webhook-name"]`).Text()); got != evil {
		t.Errorf("name shown as %q", got)
	}
	// What is typed into the builder comes back as text too, in the fields and the summary.
	for _, action := range []string{"preview", "save"} { // the save is refused: no event ticked
		p := b.post("/webhooks", builderForm(action, evil, `https://x.example.com/"><img src=y onerror=alert(2)>`, nil, []string{f.alpha.ID}))
		if p.Doc.Find("img[onerror]").Length() != 0 || strings.Contains(p.Body, "<img src=y") {
			t.Errorf("builder %s puts typed text into the page as HTML", action)
		}
		if got := inputValue(t, p, "name"); got != evil {
			t.Errorf("builder %s: name field %q", action, got)
		}
	}
}

func TestWebhookPageActions(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, "thanks")
	w := f.createWebhook(t, f.miaToken, map[string]any{"name": "Orders", "url": rcv.URL,
		"events": []string{"TODO_MOVED"}, "projectIds": []string{f.alpha.ID}})
	b := f.signedInAs(f.mia)
	base := "/webhooks/" + w.ID

	p := b.get(base)
	wantPageStatus(t, p, http.StatusOK)
	if got := squash(p.Doc.Find(`[data-testid="state-words"]`).Text()); got != "On and working." {
		t.Errorf("state %q", got)
	}
	if got := strings.TrimSpace(p.Doc.Find(`[data-testid="webhook-url"]`).Text()); got != rcv.URL {
		t.Errorf("URL shown %q", got)
	}
	if sel, _ := p.Doc.Find(`#test_event option[selected]`).Attr("value"); sel != "TODO_MOVED" {
		t.Errorf("the sample event preselected is %q, want the webhook's own TODO_MOVED", sel)
	}
	for _, action := range []string{"/test", "/disable", "/reveal-secret", "/rotate-secret", "/delete"} {
		if p.Doc.Find(`form[action="`+base+action+`"]`).Length() == 0 {
			t.Errorf("no form for %s", action)
		}
	}

	// Send test.
	p = b.post(base+"/test", url.Values{"test_event": {"TODO_MOVED"}})
	wantPageStatus(t, p, http.StatusOK)
	if r := squash(p.Doc.Find(`[data-testid="test-result"]`).Text()); !strings.Contains(r, "It works") || !strings.Contains(r, "200") {
		t.Errorf("test result %q", r)
	}
	if got := p.Doc.Find(`[data-testid="test-response-body"]`).Text(); got != "thanks" {
		t.Errorf("response body %q", got)
	}
	checkSigned(t, rcv.last(t, 1), "TODO_MOVED", w.Secret)

	// Disable.
	p = b.post(base+"/disable", nil)
	wantPageStatus(t, p, http.StatusOK)
	if n := squash(p.Doc.Find(`[data-testid="disabled-notice"]`).Text()); !strings.Contains(n, "Switched off") || !strings.Contains(n, "Mia Member") {
		t.Errorf("disabled notice %q", n)
	}
	wantOneOffMessage(t, p)
	if st := f.storedWebhook(t, w.ID); st.Enabled || st.DisabledAt == nil || st.DisabledReason == "" {
		t.Errorf("stored after disable %+v", st)
	}
	if p.Doc.Find(`[data-testid="enable-webhook"]`).Length() != 1 || p.Doc.Find(`[data-testid="disable-webhook"]`).Length() != 0 {
		t.Errorf("a disabled webhook's page should offer Turn on, not Turn off")
	}

	// Enable against a failing receiver: still off, and the page says why.
	rcv.answer(http.StatusBadGateway, "upstream down")
	p = b.post(base+"/enable", nil)
	wantPageStatus(t, p, http.StatusOK)
	if r := squash(p.Doc.Find(`[data-testid="enable-result"]`).Text()); !strings.Contains(r, "Still off") || !strings.Contains(r, "502") {
		t.Errorf("failed enable result %q", r)
	}
	wantOneOffMessage(t, p)
	if st := f.storedWebhook(t, w.ID); st.Enabled {
		t.Errorf("enabled although the health check failed")
	}
	if got := rcv.last(t, 2).Header.Get("X-Hookyard-Event"); got != "WEBHOOK_HEALTH_CHECK" {
		t.Errorf("enable sent %q, want WEBHOOK_HEALTH_CHECK", got)
	}

	// Enable against a healthy receiver.
	rcv.answer(http.StatusOK, "ok")
	p = b.post(base+"/enable", nil)
	wantPageStatus(t, p, http.StatusOK)
	if got := squash(p.Doc.Find(`[data-testid="state-words"]`).Text()); !strings.Contains(got, "the health check passed just now") {
		t.Errorf("after enable the page says %q, want when the health check passed", got)
	}
	if p.Doc.Find(`[data-testid="enable-result"]`).Length() != 0 || p.Doc.Find(`[data-testid="disabled-notice"]`).Length() != 0 {
		t.Errorf("a successful enable still shows the failure or disabled notice")
	}
	if strings.Contains(squash(p.Doc.Find("main").Text()), "Switched off") {
		t.Errorf("after turning it back on the page still says “Switched off”: %q", squash(p.Doc.Find("main").Text()))
	}
	if st := f.storedWebhook(t, w.ID); !st.Enabled || st.Status != store.StatusHealthy {
		t.Errorf("stored after enable %+v", st)
	}
	checkSigned(t, rcv.last(t, 3), "WEBHOOK_HEALTH_CHECK", w.Secret)

	// Rotate secret: the new one is shown, and both sign for now.
	p = b.post(base+"/rotate-secret", nil)
	wantPageStatus(t, p, http.StatusOK)
	st := f.storedWebhook(t, w.ID)
	if st.Secret == w.Secret || len(st.PreviousSecrets) != 1 || st.PreviousSecrets[0].Secret != w.Secret {
		t.Fatalf("rotation not stored: secret %q previous %v", st.Secret, st.PreviousSecrets)
	}
	if note := squash(p.Doc.Find(`[data-testid="rotation-notice"]`).Text()); !strings.Contains(note, "X-Signature is still made with the old one") ||
		!strings.Contains(note, "Finish rotation") {
		t.Errorf("during the rotation the page says %q, want what X-Signature is made with and a Finish rotation button", note)
	}
	if got, _ := p.Doc.Find(`input[data-testid="webhook-secret"]`).Attr("value"); got != st.Secret {
		t.Errorf("secret shown after rotation %q, want the new one", got)
	}
	if strings.Contains(p.Body, strings.TrimPrefix(w.Secret, "whsec_")) {
		t.Errorf("the page shows the old secret")
	}
	b.post(base+"/test", url.Values{"test_event": {"TODO_CREATED"}})
	checkSigned(t, rcv.last(t, 4), "TODO_CREATED", st.Secret, w.Secret)

	// Finish rotation: only the new secret signs, X-Signature included, and the notice is gone.
	p = b.post(base+"/finish-rotation", nil)
	wantPageStatus(t, p, http.StatusOK)
	if !strings.Contains(p.Doc.Find(".flash, .notice").Text(), "Rotation finished") || p.Doc.Find(`[data-testid="rotation-notice"]`).Length() != 0 {
		t.Errorf("after finishing the rotation the page shows %q", squash(p.Doc.Find("main").Text()))
	}
	b.post(base+"/test", url.Values{"test_event": {"TODO_CREATED"}})
	checkSigned(t, rcv.last(t, 5), "TODO_CREATED", st.Secret)

	// Delete: refused without the CSRF token, then done.
	p = b.postRaw(base+"/delete", url.Values{})
	if p.StatusCode < 400 {
		t.Errorf("delete without a CSRF token: %d", p.StatusCode)
	}
	f.storedWebhook(t, w.ID)
	p = b.post(base+"/delete", nil)
	wantSeeOther(t, p, "/webhooks")
	if !strings.Contains(flashText(b.follow(p)), "Orders") {
		t.Errorf("no word that the webhook was deleted")
	}
	if _, err := f.store.Webhook(t.Context(), w.ID); err == nil {
		t.Errorf("deleted webhook still stored")
	}
	wantPageStatus(t, b.get(base), http.StatusNotFound)
	wantPageStatus(t, b.get(base+"/edit"), http.StatusNotFound)
	wantPageStatus(t, b.post(base+"/test", nil), http.StatusNotFound)
	rcv.last(t, 5)
}

// Another member's webhook: every page and action answers 404 and changes nothing.
func TestWebhookPagesRefuseOtherMembers(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate, roomyLogins)
	rcv := newReceiver(t, http.StatusOK, "ok")
	w := f.createWebhook(t, f.ottoToken, map[string]any{"name": "Otto's private hook", "url": rcv.URL, "projectIds": []string{f.beta.ID}})
	if _, err := f.store.DisableWebhook(t.Context(), w.ID, store.StatusHealthy, "off"); err != nil {
		t.Fatal(err)
	}
	b := f.signedInAs(f.mia)
	base := "/webhooks/" + w.ID
	for _, tc := range []struct {
		method, path string
		form         url.Values
	}{
		{http.MethodGet, base, nil},
		{http.MethodGet, base + "/edit", nil},
		{http.MethodPost, base, builderForm("save", "Mine now", "http://127.0.0.1:1/x", []string{"TODO_CREATED"}, []string{f.alpha.ID})},
		{http.MethodPost, base, builderForm("test", "Mine now", rcv.URL, nil, nil)},
		{http.MethodPost, base, builderForm("preview", "Mine now", rcv.URL, nil, nil)},
		{http.MethodPost, base + "/test", url.Values{"test_event": {"TODO_CREATED"}}},
		{http.MethodPost, base + "/enable", nil},
		{http.MethodPost, base + "/disable", nil},
		{http.MethodPost, base + "/reveal-secret", nil},
		{http.MethodPost, base + "/rotate-secret", nil},
		{http.MethodPost, base + "/finish-rotation", nil},
		{http.MethodPost, base + "/delete", nil},
	} {
		t.Run(tc.method+" "+strings.TrimPrefix(tc.path, base)+" "+tc.form.Get("action"), func(t *testing.T) {
			b := b.within(t)
			before := f.webhookState(t, w.ID)
			var p page
			if tc.method == http.MethodGet {
				p = b.get(tc.path)
			} else {
				p = b.post(tc.path, tc.form)
			}
			wantPageStatus(t, p, http.StatusNotFound)
			if strings.Contains(p.Body, "Otto's private hook") || strings.Contains(p.Body, rcv.URL) || strings.Contains(p.Body, "whsec_") {
				t.Errorf("404 page reveals the webhook")
			}
			if after := f.webhookState(t, w.ID); after != before {
				t.Errorf("refused request changed the webhook:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	if n := len(rcv.requests()); n != 0 {
		t.Errorf("refused actions reached the receiver %d times", n)
	}

	// The admin may open it, and sees whose it is.
	p := f.signedInAs(f.admin).get(base)
	wantPageStatus(t, p, http.StatusOK)
	if !strings.Contains(squash(p.Doc.Text()), "Owned by Otto Other") {
		t.Errorf("admin's view does not say whose webhook it is")
	}
}

// The owner's own all-projects webhook says so in words that fit the reader.
func TestWebhookPageAllProjectsWording(t *testing.T) {
	f := newWebhookFixture(t)
	w := f.putWebhook(t, f.mia, "Everything", publicURL, nil, nil)
	p := f.signedInAs(f.mia).get("/webhooks/" + w.ID)
	got := squash(p.Doc.Find(`[data-testid="webhook-projects"]`).Text())
	if strings.HasPrefix(got, "All projects can access") {
		t.Errorf("projects of an all-projects webhook read %q: the owner is missing from the sentence", got)
	}
	if events := squash(p.Doc.Find(`[data-testid="webhook-events"]`).Text()); !strings.HasPrefix(events, "All events") {
		t.Errorf("events read %q", events)
	}
}

// The sample event of "Send test" comes from a list; a made-up one is not sent.
func TestWebhookPageTestRefusesUnknownEvent(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, "ok")
	w := f.createWebhook(t, f.miaToken, map[string]any{"name": "Orders", "url": rcv.URL})
	b := f.signedInAs(f.mia)

	form := builderForm("test", "Orders", rcv.URL, nil, nil)
	form.Set("all_events", "1")
	form.Set("all_projects", "1")
	form.Set("test_event", "NOPE_HAPPENED")
	for _, tc := range []struct {
		name, path string
		form       url.Values
	}{
		{"webhook page", "/webhooks/" + w.ID + "/test", url.Values{"test_event": {"NOPE_HAPPENED"}}},
		{"edit page", "/webhooks/" + w.ID, form},
		{"new webhook", "/webhooks", form},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.within(t).post(tc.path, tc.form)
			if p.StatusCode >= 500 {
				t.Fatalf("status %d", p.StatusCode)
			}
			if strings.Contains(p.Doc.Find(`[data-testid="test-result"]`).Text(), "It works") {
				t.Errorf("a made-up event type was tested successfully")
			}
		})
	}
	for _, r := range rcv.requests() {
		t.Errorf("a test with an unknown event type reached the receiver as %q", r.Header.Get("X-Hookyard-Event"))
	}
}

// wantOneOffMessage fails unless a switched-off webhook's page says so in exactly one place:
// its notice (with the reason, and the failed health check if one was just tried).
func wantOneOffMessage(t *testing.T, p page) {
	t.Helper()
	main := p.Doc.Find("main")
	if n := main.Find(`[data-testid="disabled-notice"]`).Length(); n != 1 {
		t.Errorf("%d switched-off notices, want 1", n)
	}
	var boxes []string
	main.Find(".notice, .state-line, .badge").Each(func(_ int, el *goquery.Selection) {
		txt := strings.ToLower(squash(el.Text()))
		if strings.Contains(txt, "off") && el.ParentsFiltered(`[data-testid="disabled-notice"]`).Length() == 0 {
			boxes = append(boxes, squash(el.Text()))
		}
	})
	if len(boxes) > 1 {
		t.Errorf("the page tells that the webhook is off in %d boxes: %q", len(boxes), boxes)
	}
}
