package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// The webhook builder (/webhooks/new, /webhooks/{id}/edit): projects by organisation, events
// by category, the live summary, inline errors that keep what was typed, "Send test", and the
// secret shown once after create.

// builderForm is a builder submission.
func builderForm(action, name, target string, events, projects []string) url.Values {
	return url.Values{"action": {action}, "name": {name}, "url": {target}, "events": events, "projectIds": projects}
}

func TestWebhookBuilderNewPage(t *testing.T) {
	f := newWebhookFixture(t, roomyLogins)

	// A member sees the projects of their organisations only.
	p := f.signedInAs(f.mia).get("/webhooks/new")
	wantPageStatus(t, p, http.StatusOK)
	if got := legends(p, "#projects-list"); !slices.Equal(got, []string{"Acme"}) {
		t.Errorf("member's project groups %v, want [Acme]", got)
	}
	var values []string
	p.Doc.Find(`#projects-list input[name="projectIds"]`).Each(func(_ int, s *goquery.Selection) {
		v, _ := s.Attr("value")
		values = append(values, v)
	})
	if !slices.Equal(sorted(values), sorted([]string{f.alpha.ID, f.apex.ID})) {
		t.Errorf("member's project boxes %v, want Alpha and Apex", values)
	}
	if strings.Contains(p.Body, "Bolt") || strings.Contains(p.Body, "Beta") || strings.Contains(p.Body, f.beta.ID) {
		t.Errorf("member's builder mentions another organisation or its project")
	}
	if len(checkedValues(p, "projectIds")) != 0 || len(checkedValues(p, "events")) != 0 || isChecked(p, "all_events") || isChecked(p, "all_projects") {
		t.Errorf("a new webhook starts with boxes ticked")
	}
	if p.Doc.Find(`input#all_projects`).Length() != 1 || p.Doc.Find(`input#all_events`).Length() != 1 {
		t.Errorf("no All projects / All events choice")
	}
	if p.Doc.Find(`[data-group-toggle="org-`+f.acme.ID+`"]`).Length() != 1 || p.Doc.Find(`[data-group-toggle="cat-Records"]`).Length() != 1 {
		t.Errorf("no select-all per organisation / category")
	}
	if p.Doc.Find(`input#project-filter`).Length() != 1 || p.Doc.Find(`input#event-filter`).Length() != 1 {
		t.Errorf("no text filter for projects / events")
	}

	// Events by category, with labels and descriptions; the health check is not offered.
	cats := legends(p, "#events-list")
	for _, want := range []string{"Records", "Checklists", "Lists", "Custom fields", "Tags", "Comments"} {
		if !slices.Contains(cats, want) {
			t.Errorf("event categories %v lack %q", cats, want)
		}
	}
	if slices.Contains(cats, "System") {
		t.Errorf("event categories %v offer System", cats)
	}
	if n := p.Doc.Find(`#events-list input[name="events"]`).Length(); n != 37 {
		t.Errorf("%d event boxes, want the 37 subscribable built-in types", n)
	}
	if p.Doc.Find(`input[name="events"][value="WEBHOOK_HEALTH_CHECK"]`).Length() != 0 {
		t.Errorf("the health check can be ticked")
	}
	moved := p.Doc.Find(`input[name="events"][value="TODO_MOVED"]`).Closest("label")
	if got := strings.TrimSpace(moved.Find("strong").Text()); got != "Record moved to another list" {
		t.Errorf("TODO_MOVED label %q", got)
	}
	if got := squash(moved.Find(".desc").Text()); got != "A record was moved from one list to another." {
		t.Errorf("TODO_MOVED description %q", got)
	}
	if group := groupName(moved.Closest("fieldset")); group != "Records" {
		t.Errorf("TODO_MOVED is in group %q, want Records", group)
	}
	// Every checkbox has a label.
	p.Doc.Find(`#builder input[type="checkbox"]`).Each(func(_ int, s *goquery.Selection) {
		if s.Closest("label").Length() == 0 {
			if aria, _ := s.Attr("aria-label"); aria == "" {
				h, _ := goquery.OuterHtml(s)
				t.Errorf("checkbox without a label: %s", h)
			}
		}
	})

	// An admin sees every organisation, each with its own projects.
	ap := f.signedInAs(f.admin).get("/webhooks/new")
	if got := legends(ap, "#projects-list"); !slices.Equal(got, []string{"Acme", "Bolt"}) {
		t.Errorf("admin's project groups %v, want [Acme Bolt]", got)
	}
	bolt := ap.Doc.Find(`#projects-list fieldset`).FilterFunction(func(_ int, s *goquery.Selection) bool {
		return groupName(s) == "Bolt"
	})
	if got := textsOf(bolt.Find(`label.option`)); len(got) != 1 || !strings.HasPrefix(got[0], "Beta") {
		t.Errorf("Bolt's projects %q, want Beta", got)
	}
}

func TestWebhookBuilderPreview(t *testing.T) {
	f := newWebhookFixture(t)
	b := f.signedInAs(f.mia)

	p := b.post("/webhooks", builderForm("preview", "CRM", "https://crm.example.com/in",
		[]string{"TODO_CREATED", "TODO_MOVED"}, []string{f.alpha.ID}))
	wantPageStatus(t, p, http.StatusOK)
	summary := squash(p.Doc.Find("#summary").Text())
	for _, want := range []string{"https://crm.example.com/in", "Record created", "Record moved to another list", "Alpha (Acme)"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary %q does not mention %q", summary, want)
		}
	}
	for _, not := range []string{"Apex", "Record deleted"} {
		if strings.Contains(summary, not) {
			t.Errorf("summary %q mentions %q, which was not chosen", summary, not)
		}
	}
	if !slices.Equal(checkedValues(p, "events"), []string{"TODO_CREATED", "TODO_MOVED"}) || !slices.Equal(checkedValues(p, "projectIds"), []string{f.alpha.ID}) {
		t.Errorf("preview lost the ticks: events %v projects %v", checkedValues(p, "events"), checkedValues(p, "projectIds"))
	}
	if inputValue(t, p, "name") != "CRM" || inputValue(t, p, "url") != "https://crm.example.com/in" {
		t.Errorf("preview lost what was typed")
	}

	// Two projects in the summary.
	p = b.post("/webhooks", builderForm("preview", "", "https://crm.example.com/in", []string{"COMMENT_CREATED"}, []string{f.alpha.ID, f.apex.ID}))
	summary = squash(p.Doc.Find("#summary").Text())
	if !strings.Contains(summary, "Alpha (Acme)") || !strings.Contains(summary, "Apex (Acme)") || !strings.Contains(summary, "Comment") {
		t.Errorf("summary %q", summary)
	}

	// All events, all projects.
	form := builderForm("preview", "All", "https://all.example.com/", nil, nil)
	form.Set("all_events", "1")
	form.Set("all_projects", "1")
	p = b.post("/webhooks", form)
	summary = squash(p.Doc.Find("#summary").Text())
	if !strings.Contains(summary, "https://all.example.com/") || !strings.Contains(summary, "every event type") || !strings.Contains(summary, "any project") {
		t.Errorf("all-and-all summary %q", summary)
	}
	if !isChecked(p, "all_events") || !isChecked(p, "all_projects") {
		t.Errorf("preview lost the All boxes")
	}

	// Nothing ticked yet: the summary says what is missing.
	p = b.post("/webhooks", builderForm("preview", "", "", nil, nil))
	if summary := squash(p.Doc.Find("#summary").Text()); !strings.Contains(summary, "tick at least one event") {
		t.Errorf("empty summary %q", summary)
	}

	if n := len(f.allWebhooks(t)); n != 0 {
		t.Errorf("preview stored %d webhooks", n)
	}
}

// A refused save answers 422, keeps what was typed and ticked, and says what is wrong where.
func TestWebhookBuilderSaveErrors(t *testing.T) {
	f := newWebhookFixture(t)
	b := f.signedInAs(f.mia)
	events := []string{"TODO_CREATED", "TAG_CREATED"}
	projects := []string{f.apex.ID}
	for _, tc := range []struct {
		name                 string
		form                 url.Values
		errorFields          []string
		wantEvents, wantPrjs []string
	}{
		{"missing name", builderForm("save", "", publicURL, events, projects), []string{"name"}, events, projects},
		{"bad URL", builderForm("save", "Hook", "ftp://files.example.com/", events, projects), []string{"url"}, events, projects},
		{"loopback URL", builderForm("save", "Hook", "http://127.0.0.1:8081/in", events, projects), []string{"url"}, events, projects},
		{"no events", builderForm("save", "Hook", publicURL, nil, projects), []string{"events"}, nil, projects},
		{"no projects", builderForm("save", "Hook", publicURL, events, nil), []string{"projectIds"}, events, nil},
		{"unknown event", builderForm("save", "Hook", publicURL, []string{"NOPE"}, projects), []string{"events"}, nil, projects},
		{"everything missing", builderForm("save", "", "", nil, nil), []string{"name", "url", "events", "projectIds"}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := b.within(t)
			p := b.post("/webhooks", tc.form)
			wantPageStatus(t, p, http.StatusUnprocessableEntity)
			for _, field := range []string{"name", "url", "events", "projectIds"} {
				msg := fieldError(p, field)
				if want := slices.Contains(tc.errorFields, field); want != (msg != "") {
					t.Errorf("error for %s: %q (want one: %v)", field, msg, want)
				}
			}
			if alertText(p) == "" {
				t.Errorf("no message at the top of the form")
			}
			if got := inputValue(t, p, "name"); got != tc.form.Get("name") {
				t.Errorf("name field %q, want what was typed %q", got, tc.form.Get("name"))
			}
			if got := inputValue(t, p, "url"); got != tc.form.Get("url") {
				t.Errorf("url field %q, want what was typed %q", got, tc.form.Get("url"))
			}
			if got := checkedValues(p, "events"); !slices.Equal(got, sorted(tc.wantEvents)) {
				t.Errorf("ticked events %v, want %v", got, sorted(tc.wantEvents))
			}
			if got := checkedValues(p, "projectIds"); !slices.Equal(got, sorted(tc.wantPrjs)) {
				t.Errorf("ticked projects %v, want %v", got, sorted(tc.wantPrjs))
			}
			if n := len(f.allWebhooks(t)); n != 0 {
				t.Errorf("a refused save stored %d webhooks", n)
			}
		})
	}
	// The loopback refusal says why in plain words.
	p := b.post("/webhooks", builderForm("save", "Hook", "http://localhost:8081/in", events, projects))
	if msg := fieldError(p, "url"); !strings.Contains(msg, "private") {
		t.Errorf("error for a localhost URL %q, want the reason", msg)
	}
}

// The server, not the page, decides which projects a member may choose.
func TestWebhookBuilderRefusesForeignProject(t *testing.T) {
	f := newWebhookFixture(t)
	b := f.signedInAs(f.mia)
	p := b.post("/webhooks", builderForm("save", "Sneaky", publicURL, []string{"TODO_CREATED"}, []string{f.alpha.ID, f.beta.ID}))
	wantPageStatus(t, p, http.StatusUnprocessableEntity)
	if fieldError(p, "projectIds") == "" {
		t.Errorf("no error for the foreign project")
	}
	if n := len(f.allWebhooks(t)); n != 0 {
		t.Errorf("stored %d webhooks", n)
	}
	// The page must not tell a member the names behind an id of another organisation.
	for _, secret := range []string{"Beta", "Bolt"} {
		if strings.Contains(p.Body, secret) {
			t.Errorf("the refusal reveals %q, a name in an organisation Mia is not in: %q",
				secret, squash(p.Doc.Find(`[data-testid="unavailable-projects"]`).Text()))
		}
	}
	// Same through an edit.
	w := f.createWebhook(t, f.miaToken, map[string]any{"name": "Mine", "url": publicURL, "projectIds": []string{f.alpha.ID}})
	before := f.webhookState(t, w.ID)
	p = b.post("/webhooks/"+w.ID, builderForm("save", "Mine", publicURL, []string{"TODO_CREATED"}, []string{f.beta.ID}))
	wantPageStatus(t, p, http.StatusUnprocessableEntity)
	if after := f.webhookState(t, w.ID); after != before {
		t.Errorf("refused edit changed the webhook")
	}
}

var webhookPath = regexp.MustCompile(`^/webhooks/(wh_[0-9a-z]+)$`)

func TestWebhookBuilderCreateShowsSecretOnceThenEdit(t *testing.T) {
	f := newWebhookFixture(t)
	b := f.signedInAs(f.mia)

	p := b.post("/webhooks", builderForm("save", "  CRM sync ", " "+publicURL+" ", []string{"TODO_MOVED", "TODO_CREATED"}, []string{f.alpha.ID}))
	wantPageStatus(t, p, http.StatusSeeOther)
	m := webhookPath.FindStringSubmatch(p.Header.Get("Location"))
	if m == nil {
		t.Fatalf("save redirects to %q, want /webhooks/{id}", p.Header.Get("Location"))
	}
	id := m[1]
	st := f.storedWebhook(t, id)
	if st.OwnerID != f.mia.ID || st.Name != "CRM sync" || st.URL != publicURL ||
		!slices.Equal(st.Events, []string{"TODO_CREATED", "TODO_MOVED"}) || !slices.Equal(st.ProjectIDs, []string{f.alpha.ID}) || !st.Enabled {
		t.Fatalf("stored %+v", st)
	}
	wantSecretFormat(t, st.Secret)

	// The page after create shows the secret once.
	p = b.follow(p)
	wantPageStatus(t, p, http.StatusOK)
	if got, _ := p.Doc.Find(`input[data-testid="webhook-secret"]`).Attr("value"); got != st.Secret {
		t.Errorf("secret shown after create %q, want the stored one", got)
	}
	if p.Doc.Find(`button[data-copy="webhook-secret"]`).Length() != 1 {
		t.Errorf("no copy button for the secret")
	}
	if !strings.Contains(flashText(p), "created") {
		t.Errorf("flash %q", flashText(p))
	}
	if got := textsOf(p.Doc.Find(`[data-testid="webhook-events"] li`)); !slices.Equal(got, []string{"Record created", "Record moved to another list"}) {
		t.Errorf("listed events %v", got)
	}
	if got := textsOf(p.Doc.Find(`[data-testid="webhook-projects"] li`)); !slices.Equal(got, []string{"Alpha (Acme)"}) {
		t.Errorf("listed projects %v", got)
	}
	p = b.get("/webhooks/" + id)
	if p.Doc.Find(`[data-testid="webhook-secret"]`).Length() != 0 || strings.Contains(p.Body, strings.TrimPrefix(st.Secret, "whsec_")) {
		t.Errorf("reloading the page shows the secret again")
	}
	// On demand.
	p = b.post("/webhooks/"+id+"/reveal-secret", nil)
	wantPageStatus(t, p, http.StatusOK)
	if got, _ := p.Doc.Find(`input[data-testid="webhook-secret"]`).Attr("value"); got != st.Secret {
		t.Errorf("revealed secret %q, want the stored one", got)
	}
	if p = b.get("/webhooks/" + id); p.Doc.Find(`[data-testid="webhook-secret"]`).Length() != 0 {
		t.Errorf("the revealed secret stays on the page")
	}
	// Another browser of Mia's, right after the create, does not get the secret either.
	if p := f.signedInAs(f.mia).get("/webhooks/" + id); p.Doc.Find(`[data-testid="webhook-secret"]`).Length() != 0 {
		t.Errorf("a second session sees the secret without asking")
	}

	// The edit page has exactly the saved boxes ticked.
	p = b.get("/webhooks/" + id + "/edit")
	wantPageStatus(t, p, http.StatusOK)
	if got := checkedValues(p, "events"); !slices.Equal(got, []string{"TODO_CREATED", "TODO_MOVED"}) {
		t.Errorf("edit page ticks events %v", got)
	}
	if got := checkedValues(p, "projectIds"); !slices.Equal(got, []string{f.alpha.ID}) {
		t.Errorf("edit page ticks projects %v", got)
	}
	if isChecked(p, "all_events") || isChecked(p, "all_projects") {
		t.Errorf("edit page ticks All events / All projects")
	}
	if inputValue(t, p, "name") != "CRM sync" || inputValue(t, p, "url") != publicURL {
		t.Errorf("edit page fields %q %q", inputValue(t, p, "name"), inputValue(t, p, "url"))
	}
	if action, _ := p.Doc.Find("form#builder").Attr("action"); action != "/webhooks/"+id {
		t.Errorf("edit form posts to %q", action)
	}

	// Saving an edit changes the store, and keeps the secret.
	p = b.post("/webhooks/"+id, builderForm("save", "CRM sync 2", "https://93.184.215.15/v2", []string{"TAG_CREATED"}, []string{f.alpha.ID, f.apex.ID}))
	wantSeeOther(t, p, "/webhooks/"+id)
	st2 := f.storedWebhook(t, id)
	if st2.Name != "CRM sync 2" || st2.URL != "https://93.184.215.15/v2" || !slices.Equal(st2.Events, []string{"TAG_CREATED"}) ||
		!slices.Equal(st2.ProjectIDs, sorted([]string{f.alpha.ID, f.apex.ID})) || st2.Secret != st.Secret || st2.OwnerID != f.mia.ID {
		t.Errorf("after edit %+v", st2)
	}
	if p := b.follow(p); p.Doc.Find(`[data-testid="webhook-secret"]`).Length() != 0 {
		t.Errorf("the page after an edit shows the secret")
	}

	// All events, all projects.
	form := builderForm("save", "CRM sync 2", "https://93.184.215.15/v2", []string{"TAG_CREATED"}, []string{f.alpha.ID})
	form.Set("all_events", "1")
	form.Set("all_projects", "1")
	wantSeeOther(t, b.post("/webhooks/"+id, form), "/webhooks/"+id)
	st3 := f.storedWebhook(t, id)
	if len(st3.Events) != 0 || len(st3.ProjectIDs) != 0 {
		t.Errorf("after choosing all: events %v projects %v", st3.Events, st3.ProjectIDs)
	}
	p = b.get("/webhooks/" + id + "/edit")
	if !isChecked(p, "all_events") || !isChecked(p, "all_projects") || len(checkedValues(p, "events")) != 0 {
		t.Errorf("edit page of an all-and-all webhook: all_events %v all_projects %v events %v",
			isChecked(p, "all_events"), isChecked(p, "all_projects"), checkedValues(p, "events"))
	}
	if n := len(f.allWebhooks(t)); n != 1 {
		t.Errorf("%d webhooks stored, want 1", n)
	}
}

func TestWebhookBuilderSendTest(t *testing.T) {
	f := newWebhookFixture(t, allowPrivate)
	rcv := newReceiver(t, http.StatusOK, `<script>alert(1)</script>`)
	b := f.signedInAs(f.mia)

	form := builderForm("test", "Try me", rcv.URL, []string{"TODO_MOVED"}, []string{f.alpha.ID})
	form.Set("test_event", "TODO_MOVED")
	p := b.post("/webhooks", form)
	wantPageStatus(t, p, http.StatusOK)
	result := p.Doc.Find(`[data-testid="test-result"]`)
	if !strings.Contains(result.Text(), "It works") {
		t.Errorf("test result %q, want It works", squash(result.Text()))
	}
	if got := p.Doc.Find(`[data-testid="test-response-body"]`).Text(); got != `<script>alert(1)</script>` {
		t.Errorf("response body shown as %q", got)
	}
	if strings.Contains(p.Body, "<script>alert(1)") {
		t.Errorf("the receiver's answer is put into the page as HTML")
	}
	p.Doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if strings.Contains(s.Text(), "alert(1)") {
			t.Errorf("the receiver's answer runs as a script")
		}
	})
	req := rcv.last(t, 1)
	if req.Header.Get("X-Hookyard-Event") != "TODO_MOVED" || req.Header.Get("webhook-signature") == "" || req.Header.Get("X-Signature") == "" {
		t.Errorf("test request headers %v", req.Header)
	}
	if pl := payloadOf(t, req); pl.Event != "TODO_MOVED" || pl.ProjectID != f.alpha.ID || pl.OrganizationID != f.acme.ID {
		t.Errorf("test payload event %q project %q org %q", pl.Event, pl.ProjectID, pl.OrganizationID)
	}
	if n := len(f.allWebhooks(t)); n != 0 {
		t.Errorf("Send test stored %d webhooks", n)
	}
	// The form keeps what was typed.
	if inputValue(t, p, "name") != "Try me" || inputValue(t, p, "url") != rcv.URL || !slices.Equal(checkedValues(p, "events"), []string{"TODO_MOVED"}) {
		t.Errorf("Send test lost the form")
	}

	// A failing receiver: the page says so, with its answer.
	rcv.answer(http.StatusServiceUnavailable, "maintenance & <b>back soon</b>")
	p = b.post("/webhooks", form)
	wantPageStatus(t, p, http.StatusOK)
	if r := squash(p.Doc.Find(`[data-testid="test-result"]`).Text()); !strings.Contains(r, "failed") || !strings.Contains(r, "503") {
		t.Errorf("failed test result %q", r)
	}
	if got := p.Doc.Find(`[data-testid="test-response-body"]`).Text(); got != "maintenance & <b>back soon</b>" {
		t.Errorf("failed test body %q", got)
	}
	if p.Doc.Find(`[data-testid="test-response-body"] b`).Length() != 0 {
		t.Errorf("response body rendered as HTML")
	}
	rcv.last(t, 2)

	// Testing an existing webhook from its edit page signs with its own secret.
	w := f.createWebhook(t, f.miaToken, map[string]any{"name": "Saved", "url": rcv.URL})
	rcv.answer(http.StatusOK, "ok")
	form = builderForm("test", "Saved", rcv.URL, nil, nil)
	form.Set("all_events", "1")
	form.Set("all_projects", "1")
	form.Set("test_event", "TAG_CREATED")
	p = b.post("/webhooks/"+w.ID, form)
	wantPageStatus(t, p, http.StatusOK)
	checkSigned(t, rcv.last(t, 3), "TAG_CREATED", w.Secret)
	if n := len(f.allWebhooks(t)); n != 1 {
		t.Errorf("%d webhooks stored, want 1", n)
	}
}

// Without --allow-private-targets "Send test" to loopback is refused with the reason, and
// nothing is sent.
func TestWebhookBuilderSendTestRefusesPrivateTarget(t *testing.T) {
	f := newWebhookFixture(t)
	rcv := newReceiver(t, http.StatusOK, "hi")
	form := builderForm("test", "Try me", rcv.URL, []string{"TODO_CREATED"}, []string{f.alpha.ID})
	p := f.signedInAs(f.mia).post("/webhooks", form)
	wantPageStatus(t, p, http.StatusOK)
	if r := squash(p.Doc.Find(`[data-testid="test-result"]`).Text()); !strings.Contains(r, "failed") || !strings.Contains(r, "private") {
		t.Errorf("test result %q, want a refusal that says why", r)
	}
	if n := len(rcv.requests()); n != 0 {
		t.Errorf("loopback receiver reached %d times", n)
	}
}

// An admin editing a member's webhook chooses among the owner's projects.
func TestWebhookBuilderAdminEditsMembersWebhook(t *testing.T) {
	f := newWebhookFixture(t)
	w := f.createWebhook(t, f.ottoToken, map[string]any{"name": "Otto's", "url": publicURL, "projectIds": []string{f.beta.ID}})
	b := f.signedInAs(f.admin)
	p := b.get("/webhooks/" + w.ID + "/edit")
	wantPageStatus(t, p, http.StatusOK)
	if got := legends(p, "#projects-list"); !slices.Equal(got, []string{"Bolt"}) {
		t.Errorf("project groups %v, want Otto's organisation only", got)
	}
	if !strings.Contains(p.Body, "Otto Other") {
		t.Errorf("the page does not say whose webhook it is")
	}
	before := f.webhookState(t, w.ID)
	p = b.post("/webhooks/"+w.ID, builderForm("save", "Otto's", publicURL, []string{"TODO_CREATED"}, []string{f.alpha.ID}))
	wantPageStatus(t, p, http.StatusUnprocessableEntity)
	if fieldError(p, "projectIds") == "" {
		t.Errorf("no error for a project outside the owner's organisations")
	}
	if f.webhookState(t, w.ID) != before {
		t.Errorf("refused edit changed the webhook")
	}
	wantSeeOther(t, b.post("/webhooks/"+w.ID, builderForm("save", "Otto's v2", publicURL, []string{"TODO_CREATED"}, []string{f.beta.ID})), "/webhooks/"+w.ID)
	if st := f.storedWebhook(t, w.ID); st.Name != "Otto's v2" || st.OwnerID != f.otto.ID || !slices.Equal(st.Events, []string{"TODO_CREATED"}) {
		t.Errorf("after the admin's edit %+v", st)
	}
}
