package handlers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"hookyard/delivery"
	"hookyard/store"
	"hookyard/views"
)

func (s *Server) listWebhooks(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	state, err := stateFilter(c.QueryParam("state"))
	if err != nil {
		return err
	}
	f := store.WebhookFilter{State: state}
	if !u.IsAdmin() {
		f.OwnerID = u.ID
	}
	cursor := c.QueryParam("cursor")
	hooks, next, err := s.store.ListWebhooks(ctx, f, store.Page{Limit: webhooksPageSize, Cursor: cursor})
	if err != nil {
		return err
	}
	total, err := s.store.CountWebhooks(ctx, f)
	if err != nil {
		return err
	}
	_, types, err := s.subscribableTypes(ctx)
	if err != nil {
		return err
	}
	owners := map[string]string{}
	rows := make([]views.WebhookRow, len(hooks))
	for i, w := range hooks {
		if _, ok := owners[w.OwnerID]; !ok {
			o, err := s.store.UserByID(ctx, w.OwnerID)
			if err != nil {
				return err
			}
			owners[w.OwnerID] = o.Name
		}
		usable, lost, err := s.selectedProjects(ctx, w)
		if err != nil {
			return err
		}
		h, err := s.healthOf(ctx, w, 24*time.Hour)
		if err != nil {
			return err
		}
		last, _, err := s.store.ListDeliveries(ctx, store.DeliveryFilter{WebhookID: w.ID}, store.Page{Limit: 1})
		if err != nil {
			return err
		}
		rows[i] = views.WebhookRow{Webhook: w, OwnerName: owners[w.OwnerID], LostProjects: len(lost),
			EventsText: eventsText(w.Events, types), ProjectsText: projectsText(w, usable), Rate24h: rateText(h)}
		if len(last) > 0 {
			rows[i].LastDelivery, rows[i].LastLabel = &last[0], typeLabel(types, last[0].EventType)
		}
	}
	return s.render(c, http.StatusOK, views.Webhooks(views.WebhooksPage{
		Page: s.page(c, "Webhooks", "webhooks"), Rows: rows, State: state, ShowOwner: u.IsAdmin(),
		Pager: pager("/webhooks", url.Values{"state": {state}}, len(rows), total, "webhooks", cursor, next),
	}))
}

// webhooksPageSize is how many webhooks one page of the list shows.
const webhooksPageSize = 50

// rateText says how a webhook did in the last 24 hours.
func rateText(h health) string {
	if h.SuccessRate24h == nil {
		return "No attempts yet"
	}
	return fmt.Sprintf("%.0f%% of %d attempts succeeded", *h.SuccessRate24h*100, h.Attempts24h)
}

func eventsText(events []string, types map[string]store.EventType) string {
	if len(events) == 0 {
		return "All events"
	}
	labels := make([]string, len(events))
	for i, e := range events {
		labels[i] = typeLabel(types, e)
	}
	if len(labels) > 3 {
		return strings.Join(labels[:3], ", ") + " and " + strconv.Itoa(len(labels)-3) + " more"
	}
	return strings.Join(labels, ", ")
}

// projectsText names the projects a webhook can still receive events from.
func projectsText(w store.Webhook, usable []store.Project) string {
	if len(w.ProjectIDs) == 0 {
		return "All projects"
	}
	names := make([]string, len(usable))
	for i, p := range usable {
		names[i] = p.Name + " (" + p.OrganizationName + ")"
	}
	if len(names) > 3 {
		return strings.Join(names[:3], ", ") + " and " + strconv.Itoa(len(names)-3) + " more"
	}
	return strings.Join(names, ", ")
}

// builderState is the builder form as submitted or loaded.
type builderState struct {
	id          string
	saved       []string // the projects the stored webhook selects (empty for a new one)
	owner       store.User
	values      map[string]string // name, url, headers (one "Name: value" a line), rate_limit
	allEvents   bool
	events      []string
	allProjects bool
	projects    []string
	testEvent   string
	ordered     bool
	filterMatch string // "all" or "any"
	filterRows  []builderCondition
	refused     string // why the form as a whole was not saved (a quota reached)
}

func (s *Server) readBuilder(c echo.Context) builderState {
	form, _ := c.FormParams()
	st := builderState{
		values:      formValues(c, "name", "url", "headers", "rate_limit"),
		allEvents:   form.Get("all_events") != "",
		events:      form["events"],
		allProjects: form.Get("all_projects") != "",
		projects:    form["projectIds"],
		testEvent:   form.Get("test_event"),
		ordered:     form.Get("ordered") != "",
	}
	st.filterMatch, st.filterRows = readBuilderFilter(form)
	return st
}

// input is what would be saved: "all" is an empty list. What cannot be read (a header line
// without a colon) is reported on fe.
func (b builderState) input(fe fieldErrors) webhookInput {
	in := webhookInput{Name: b.values["name"], URL: b.values["url"], Events: []string{}, ProjectIDs: []string{}}
	headers, problem := parseHeaderLines(b.values["headers"])
	fe.add("headers", problem)
	in.Headers = &headers
	in.Ordered = &b.ordered
	in.RateLimitPerSecond.Set = true
	if v := b.values["rate_limit"]; v != "" {
		r, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", "."), 64)
		if err != nil {
			r = 0
		}
		in.RateLimitPerSecond.To = &r
		fe.add("rate_limit", rateProblem(r))
	}
	if !b.allEvents {
		in.Events = b.events
	}
	if !b.allProjects {
		in.ProjectIDs = b.projects
	}
	return in
}

func (s *Server) renderBuilder(c echo.Context, status int, b builderState, fe fieldErrors, test views.TestResult) error {
	ctx := c.Request().Context()
	subs, types, err := s.subscribableTypes(ctx)
	if err != nil {
		return err
	}
	orgs, err := s.visibleOrganizations(ctx, &b.owner)
	if err != nil {
		return err
	}
	projects, err := s.visibleProjects(ctx, &b.owner, "")
	if err != nil {
		return err
	}
	d := views.WebhookBuilderPage{
		Page: s.page(c, "New webhook", "webhooks"), WebhookID: b.id, Action: "/webhooks",
		Form: views.Form{Values: b.values, Errors: fe, Message: b.refused}, AllEvents: b.allEvents, AllProjects: b.allProjects, Test: test, TestEvent: b.testEvent,
		Ordered: b.ordered,
	}
	if b.id != "" {
		d.Page.Title, d.Action = "Edit "+b.values["name"], "/webhooks/"+b.id
		if viewer := currentUser(c); viewer.ID != b.owner.ID {
			d.OwnerNote = "This webhook belongs to " + b.owner.Name + "; it can use their projects only."
		}
	}
	byOrg := map[string]int{}
	for _, o := range orgs {
		byOrg[o.ID] = len(d.Orgs)
		d.Orgs = append(d.Orgs, views.BuilderOrg{ID: o.ID, Name: o.Name})
	}
	var chosenProjects []store.Project
	visible := map[string]bool{}
	for _, p := range projects {
		visible[p.ID] = true
		checked := slices.Contains(b.projects, p.ID)
		if checked {
			chosenProjects = append(chosenProjects, p)
		}
		if i, ok := byOrg[p.OrganizationID]; ok {
			d.Orgs[i].Projects = append(d.Orgs[i].Projects, views.BuilderProject{ID: p.ID, Name: p.Name, Checked: checked})
		}
	}
	// Saved projects the owner can no longer use are counted, never named: naming them would
	// show what happens in an organisation the owner left.
	d.SavedProjects = len(b.saved)
	for _, id := range b.saved {
		if !visible[id] {
			d.Unavailable++
		}
	}
	var chosenEvents []store.EventType
	byCat := map[string]int{}
	for _, t := range subs {
		checked := slices.Contains(b.events, t.Name)
		if checked {
			chosenEvents = append(chosenEvents, t)
		}
		i, ok := byCat[t.Category]
		if !ok {
			i = len(d.Categories)
			byCat[t.Category] = i
			d.Categories = append(d.Categories, views.BuilderCategory{Name: t.Category})
		}
		e := views.BuilderEvent{Name: t.Name, Label: t.Label, Description: t.Description, Checked: checked}
		d.Categories[i].Events = append(d.Categories[i].Events, e)
		d.TestEvents = append(d.TestEvents, e)
	}
	if d.TestEvent == "" && len(chosenEvents) > 0 {
		d.TestEvent = chosenEvents[0].Name
	}
	fc, err := s.builderFilterContext(ctx, b)
	if err != nil {
		return err
	}
	d.Filter = filterSection(b, fc, fe, types)
	filter, _ := builderFilter(b.filterMatch, b.filterRows, fc.kinds)
	if _, problems := delivery.CheckFilter(filter); len(problems) > 0 {
		filter = nil // the summary says only what would be saved
	}
	d.Summary = summarize(b.values["url"], b.allEvents, chosenEvents, b.allProjects, chosenProjects, b.owner.IsAdmin(), filterWords(filter))
	return s.render(c, status, views.WebhookBuilder(d))
}

func (s *Server) newWebhook(c echo.Context) error {
	b := builderState{owner: *currentUser(c), values: map[string]string{
		"name": c.QueryParam("name"), "url": c.QueryParam("url"),
	}}
	return s.renderBuilder(c, http.StatusOK, b, nil, views.TestResult{})
}

func (s *Server) editWebhook(c echo.Context) error {
	ctx := c.Request().Context()
	w, err := s.webhookFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	owner, err := s.store.UserByID(ctx, w.OwnerID)
	if err != nil {
		return err
	}
	b := builderState{id: w.ID, saved: w.ProjectIDs, owner: owner, values: map[string]string{"name": w.Name, "url": w.URL,
		"headers": headerLines(w.Headers), "rate_limit": optionalNumber(w.RateLimitPerSecond)}, ordered: w.Ordered,
		allEvents: len(w.Events) == 0, events: w.Events, allProjects: len(w.ProjectIDs) == 0, projects: w.ProjectIDs}
	b.filterMatch, b.filterRows = builderRows(w.Filter)
	return s.renderBuilder(c, http.StatusOK, b, nil, views.TestResult{})
}

// submitBuilder handles the builder form: "preview" refreshes the summary, "test" sends a
// sample request without saving, anything else validates and saves.
func (s *Server) submitBuilder(c echo.Context) error {
	ctx := c.Request().Context()
	b := s.readBuilder(c)
	var existing store.Webhook
	if id := c.Param("id"); id != "" {
		w, err := s.webhookFor(ctx, currentUser(c), id)
		if err != nil {
			return err
		}
		owner, err := s.store.UserByID(ctx, w.OwnerID)
		if err != nil {
			return err
		}
		existing, b.id, b.saved, b.owner = w, w.ID, w.ProjectIDs, owner
	} else {
		b.owner = *currentUser(c)
	}
	action := c.FormValue("action")
	if rows, ok := filterRowsAction(action, b.filterRows); ok {
		b.filterRows = rows
		return s.renderBuilder(c, http.StatusOK, b, nil, views.TestResult{})
	}
	switch action {
	case "preview":
		return s.renderBuilder(c, http.StatusOK, b, nil, views.TestResult{})
	case "test":
		res, err := s.builderTest(ctx, b, existing)
		if err != nil {
			return err
		}
		return s.renderBuilder(c, http.StatusOK, b, nil, res)
	}
	fe := fieldErrors{}
	in := b.input(fe)
	fc, err := s.builderFilterContext(ctx, b)
	if err != nil {
		return err
	}
	filter, rowOf := builderFilter(b.filterMatch, b.filterRows, fc.kinds)
	checkBuilderFilter(filter, rowOf, fe)
	in.Filter = store.Setting[*store.PayloadFilter]{Set: true, To: filter}
	if err := s.checkWebhook(ctx, in, b.owner, false, fe); err != nil {
		return err
	}
	if !b.allEvents && len(b.events) == 0 {
		fe.add("events", "Tick at least one event, or choose “All events”.")
	}
	if !b.allProjects && len(b.projects) == 0 {
		fe.add("projectIds", "Tick at least one project, or choose “All projects”.")
	}
	if len(fe) > 0 {
		return s.renderBuilder(c, http.StatusUnprocessableEntity, b, fe, views.TestResult{})
	}
	if b.id == "" {
		w := store.Webhook{OwnerID: b.owner.ID, Name: in.Name, URL: strings.TrimSpace(in.URL), Secret: delivery.NewSecret(),
			Events: in.Events, ProjectIDs: in.ProjectIDs, Headers: *in.Headers, RateLimitPerSecond: in.RateLimitPerSecond.To,
			Ordered: b.ordered, Filter: filter}
		if err := s.store.CreateWebhookWithin(ctx, &w, s.opts.MaxWebhooksPerUser); errors.Is(err, store.ErrQuotaReached) {
			b.refused = s.webhookQuotaText("")
			return s.renderBuilder(c, http.StatusTooManyRequests, b, nil, views.TestResult{})
		} else if err != nil {
			return err
		}
		s.revealOnce(c, w.ID)
		return s.redirectWithFlash(c, "/webhooks/"+w.ID, "Webhook created. Copy its signing secret now: your receiver needs it to check signatures.")
	}
	url := strings.TrimSpace(in.URL)
	w, err := s.store.UpdateWebhook(ctx, b.id, store.WebhookChanges{Name: &in.Name, URL: &url, Events: &in.Events, ProjectIDs: &in.ProjectIDs,
		Headers: in.Headers, RateLimitPerSecond: in.RateLimitPerSecond, Ordered: in.Ordered, Filter: in.Filter})
	if err != nil {
		return notFoundAs(err, "webhook")
	}
	return s.redirectWithFlash(c, "/webhooks/"+w.ID, "Saved.")
}

// builderTest sends the builder's test request: with the webhook's own secret when it exists,
// otherwise with a throwaway one.
func (s *Server) builderTest(ctx context.Context, b builderState, existing store.Webhook) (views.TestResult, error) {
	fe := fieldErrors{}
	fe.add("url", s.outbound.CheckURL(ctx, b.values["url"]))
	if fe["url"] != "" {
		return views.TestResult{Ran: true, Error: fe["url"]}, nil
	}
	fe = fieldErrors{}
	in := b.input(fe)
	if problems := delivery.CheckHeaders(*in.Headers); fe["headers"] == "" && len(problems) > 0 {
		fe.add("headers", strings.Join(problems, " "))
	}
	if fe["headers"] != "" {
		return views.TestResult{Ran: true, Error: "Not sent: " + fe["headers"]}, nil
	}
	w := existing
	w.URL, w.Events, w.ProjectIDs, w.Headers = strings.TrimSpace(in.URL), in.Events, in.ProjectIDs, *in.Headers
	note := ""
	if w.ID == "" {
		w.ID, w.Secret, w.Status, w.Enabled = unsavedWebhookID, delivery.NewSecret(), store.StatusHealthy, true
		note = "Signed with a temporary secret: your webhook's own secret is made when you create it."
	}
	event := b.testEvent
	if event == "" {
		event = "TODO_CREATED"
	}
	if problem := s.testEventProblem(ctx, event); problem != "" {
		return views.TestResult{Ran: true, Error: problem}, nil
	}
	// The sample names the first chosen project, so only projects the owner may use can be
	// chosen, with the same refusal as on save for unknown and foreign ones.
	fe = fieldErrors{}
	projects, err := s.checkProjects(ctx, b.owner, in.ProjectIDs, fe)
	switch {
	case err != nil:
		return views.TestResult{}, err
	case fe["projectIds"] != "":
		return views.TestResult{Ran: true, Error: fe["projectIds"]}, nil
	}
	var project *store.Project
	if len(projects) > 0 {
		project = &projects[0]
	}
	r := s.sendTest(ctx, w, event, project)
	r.Note = note
	return r, nil
}

// testEventProblem says what is wrong with a sample event type chosen for a test, or "".
func (s *Server) testEventProblem(ctx context.Context, event string) string {
	fe := fieldErrors{}
	if err := s.checkEvents(ctx, "test_event", []string{event}, fe); err != nil {
		return err.Error()
	}
	return fe["test_event"]
}

// revealOnce lets the next view of a webhook page show its secret (right after creation).
func (s *Server) revealOnce(c echo.Context, id string) {
	sess := s.session(c)
	sess.AddFlash(id, "reveal")
	_ = sess.Save(c.Request(), c.Response())
}

func (s *Server) takeReveal(c echo.Context, id string) bool {
	sess := s.session(c)
	flashes := sess.Flashes("reveal")
	if len(flashes) == 0 {
		return false
	}
	_ = sess.Save(c.Request(), c.Response())
	return slices.Contains(flashes, any(id))
}

// webhookPageData loads everything the webhook page shows.
func (s *Server) webhookPageData(c echo.Context, w store.Webhook) (views.WebhookPage, error) {
	ctx := c.Request().Context()
	viewer := currentUser(c)
	subs, types, err := s.subscribableTypes(ctx)
	if err != nil {
		return views.WebhookPage{}, err
	}
	d := views.WebhookPage{Page: s.page(c, w.Name, "webhooks"), Webhook: w, CanEdit: true, RotationEndsAt: w.RotationEndsAt(s.now())}
	d.Webhook.DisabledReason = inWords(types, w.DisabledReason)
	if w.OwnerID != viewer.ID {
		owner, err := s.store.UserByID(ctx, w.OwnerID)
		if err != nil {
			return d, err
		}
		d.OwnerName = owner.Name
	}
	for _, e := range w.Events {
		d.Events = append(d.Events, views.BuilderEvent{Name: e, Label: typeLabel(types, e)})
	}
	usable, lost, err := s.selectedProjects(ctx, w)
	if err != nil {
		return d, err
	}
	for _, p := range usable {
		d.Projects = append(d.Projects, views.BuilderProject{ID: p.ID, Name: p.Name + " (" + p.OrganizationName + ")"})
	}
	d.Unavailable = len(lost)
	if words := filterWords(w.Filter); words != "" {
		d.FilterText = strings.ToUpper(words[:1]) + words[1:] + "."
	}
	for _, t := range subs {
		d.TestEvents = append(d.TestEvents, views.BuilderEvent{Name: t.Name, Label: t.Label})
	}
	if len(w.Events) > 0 {
		d.TestEvent = w.Events[0]
	}
	if s.takeReveal(c, w.ID) {
		d.Secret = w.Secret
		d.SecretNote = "This is the webhook's signing secret. You can reveal it again later from this page."
	}
	if w.RateLimitPerSecond != nil || w.Ordered {
		waiting, err := s.store.CountWaiting(ctx, w.ID, waitingCap+1)
		if err != nil {
			return d, err
		}
		d.Pacing = pacingText(w.RateLimitPerSecond, waiting)
		if w.Ordered {
			head, err := s.store.OldestPending(ctx, w.ID)
			switch {
			case errors.Is(err, store.ErrNotFound):
				d.Ordering = orderingText(nil, 0, s.now())
			case err != nil:
				return d, err
			default:
				d.Ordering = orderingText(&head, waiting, s.now())
			}
		}
	}
	if d.Health, err = s.healthPanel(ctx, w); err != nil {
		return d, err
	}
	if d.Log, err = s.deliveryLog(c, w, subs, types); err != nil {
		return d, err
	}
	if w.Enabled {
		if d.Replayable, err = s.replayable(ctx, w); err != nil {
			return d, err
		}
		event, project, err := s.sampleOf(ctx, w)
		if err != nil {
			return d, err
		}
		if project != nil {
			d.Sample = &views.SampleOffer{Event: typeLabel(types, event), Project: project.Name + " (" + project.OrganizationName + ")"}
		}
	}
	d.ReplayFrom = s.now().Add(-time.Hour).Format("2006-01-02T15:04")
	return d, nil
}

// logPageSize is how many deliveries one page of the log shows.
const logPageSize = 25

// deliveryLog reads the page of the delivery log that the query asks for.
func (s *Server) deliveryLog(c echo.Context, w store.Webhook, subs []store.EventType, types map[string]store.EventType) (views.DeliveryLog, error) {
	l := views.DeliveryLog{WebhookID: w.ID, Status: c.QueryParam("status"), Event: c.QueryParam("event"), Cursor: c.QueryParam("cursor"), Now: s.now()}
	switch store.DeliveryStatus(l.Status) {
	case "", store.DeliveryPending, store.DeliverySucceeded, store.DeliveryFailed, store.DeliveryCancelled:
	default:
		l.Status = ""
	}
	ds, next, err := s.store.ListDeliveries(c.Request().Context(), store.DeliveryFilter{WebhookID: w.ID,
		Status: store.DeliveryStatus(l.Status), EventType: l.Event}, store.Page{Limit: logPageSize, Cursor: l.Cursor})
	if err != nil {
		return l, err
	}
	l.Next = next
	for _, d := range ds {
		l.Rows = append(l.Rows, views.DeliveryRow{Delivery: d, EventLabel: typeLabel(types, d.EventType)})
	}
	for _, t := range subs {
		l.EventTypes = append(l.EventTypes, views.BuilderEvent{Name: t.Name, Label: t.Label})
	}
	return l, nil
}

// showLog renders only the delivery log, for the live refresh and the filters.
func (s *Server) showLog(c echo.Context) error {
	ctx := c.Request().Context()
	w, err := s.webhookFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	subs, types, err := s.subscribableTypes(ctx)
	if err != nil {
		return err
	}
	l, err := s.deliveryLog(c, w, subs, types)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.DeliveryLogBody(l))
}

func (s *Server) showWebhook(c echo.Context) error {
	w, err := s.webhookFor(c.Request().Context(), currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	d, err := s.webhookPageData(c, w)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.Webhook(d))
}

// webhookAction runs an action on a webhook the viewer may change and shows its page again.
func (s *Server) webhookAction(c echo.Context, act func(ctx context.Context, w store.Webhook, d *views.WebhookPage) (store.Webhook, error)) error {
	ctx := c.Request().Context()
	w, err := s.webhookFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	var d views.WebhookPage
	w, err = act(ctx, w, &d)
	if err != nil {
		return err
	}
	page, err := s.webhookPageData(c, w)
	if err != nil {
		return err
	}
	page.Test, page.Enable, page.TestEvent = d.Test, d.Enable, firstNonEmpty(d.TestEvent, page.TestEvent)
	page.Replayed, page.ReplayConfirm = d.Replayed, d.ReplayConfirm
	if d.Secret != "" {
		page.Secret, page.SecretNote = d.Secret, d.SecretNote
	}
	if d.Flash.Text != "" {
		page.Flash = d.Flash
	}
	c.Response().Header().Set("HX-Push-Url", "/webhooks/"+w.ID)
	return s.render(c, http.StatusOK, views.Webhook(page))
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *Server) testWebhook(c echo.Context) error {
	return s.webhookAction(c, func(ctx context.Context, w store.Webhook, d *views.WebhookPage) (store.Webhook, error) {
		d.TestEvent = c.FormValue("test_event")
		if d.TestEvent == "" {
			d.TestEvent = "TODO_CREATED"
		}
		if problem := s.testEventProblem(ctx, d.TestEvent); problem != "" {
			d.Test = views.TestResult{Ran: true, Error: problem}
			return w, nil
		}
		project, err := s.testProject(ctx, w)
		if err != nil {
			return w, err
		}
		d.Test = s.sendTest(ctx, w, d.TestEvent, project)
		return w, nil
	})
}

func (s *Server) enableWebhookPage(c echo.Context) error {
	if c.FormValue("view") == "attention" {
		return s.enableFromDashboard(c)
	}
	return s.webhookAction(c, func(ctx context.Context, w store.Webhook, d *views.WebhookPage) (store.Webhook, error) {
		// No flash either way: the health panel says it is back on and when the check passed,
		// or the switched-off notice says why it stays off.
		w, res, err := s.enableWebhook(ctx, w)
		d.Enable = res
		return w, err
	})
}

// enableFromDashboard re-enables a webhook from the dashboard's "needs attention" list and
// answers with just that row, replaying what it missed when asked.
func (s *Server) enableFromDashboard(c echo.Context) error {
	ctx := c.Request().Context()
	w, err := s.webhookFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	w, res, replayed, err := s.reenable(ctx, w, c.FormValue("replay") != "")
	if err != nil {
		return err
	}
	item, err := s.attentionItem(c, w)
	if err != nil {
		return err
	}
	item.Result, item.Replayed = &res, replayed
	return s.render(c, http.StatusOK, views.AttentionRow(item))
}

// replayPage replays missed events, or everything since a chosen time, from the webhook page.
// Above replayAskAbove events it first asks, saying how many and where; the confirmed form
// carries the count it showed, and sends unless that count has since grown by more than a few.
func (s *Server) replayPage(c echo.Context) error {
	return s.webhookAction(c, func(ctx context.Context, w store.Webhook, d *views.WebhookPage) (store.Webhook, error) {
		from, missedOnly := missedSince(w), c.FormValue("missed") != ""
		if !missedOnly {
			t, err := time.ParseInLocation("2006-01-02T15:04", c.FormValue("since"), time.UTC)
			if err != nil {
				d.Flash = views.Flash{Kind: "bad", Text: "Choose the date and time to replay from."}
				return w, nil
			}
			from = t
		}
		allowed := replayAskAbove
		shown, _ := strconv.Atoi(c.FormValue("confirmed"))
		if shown > 0 {
			allowed = max(allowed, shown+max(replayAskAbove, shown/10))
		}
		n, sent, err := s.replayAtMost(ctx, w, from, missedOnly, allowed)
		if err != nil {
			return w, err
		}
		if !sent {
			d.ReplayConfirm = &views.ReplayConfirm{Count: n, Shown: shown, URL: w.URL, Missed: missedOnly, Since: c.FormValue("since")}
			return w, nil
		}
		d.Replayed = n
		if n == 0 {
			d.Flash = views.Flash{Kind: "info", Text: "There was nothing to replay."}
		}
		return w, nil
	})
}

func (s *Server) disableWebhookPage(c echo.Context) error {
	return s.webhookAction(c, func(ctx context.Context, w store.Webhook, d *views.WebhookPage) (store.Webhook, error) {
		// No flash: the page's switched-off notice says what this did.
		return s.store.DisableWebhook(ctx, w.ID, w.Status, "Turned off by "+currentUser(c).Name+".")
	})
}

func (s *Server) revealSecret(c echo.Context) error {
	return s.webhookAction(c, func(ctx context.Context, w store.Webhook, d *views.WebhookPage) (store.Webhook, error) {
		d.Secret = w.Secret
		return w, nil
	})
}

func (s *Server) rotateSecretPage(c echo.Context) error {
	return s.webhookAction(c, func(ctx context.Context, w store.Webhook, d *views.WebhookPage) (store.Webhook, error) {
		w, err := s.store.RotateSecret(ctx, w.ID, delivery.NewSecret(), secretOverlap)
		d.Secret = w.Secret
		d.SecretNote = rotatedNote
		return w, err
	})
}

// rotatedNote says what a rotation does to the two signature headers (README, "Signatures").
const rotatedNote = "New secret made. For the next 24 hours the old secret signs too: webhook-signature carries a signature " +
	"made with each, and X-Signature is still made with the old one, so a receiver that knows only the old secret keeps working. " +
	"Once your receiver has the new secret, press Finish rotation; a request it refuses in between is retried."

func (s *Server) finishRotationPage(c echo.Context) error {
	return s.webhookAction(c, func(ctx context.Context, w store.Webhook, d *views.WebhookPage) (store.Webhook, error) {
		d.Flash = views.Flash{Kind: "ok", Text: "Rotation finished: only the current secret signs now, X-Signature included."}
		return s.store.FinishRotation(ctx, w.ID)
	})
}

func (s *Server) deleteWebhookPage(c echo.Context) error {
	ctx := c.Request().Context()
	w, err := s.webhookFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.store.DeleteWebhook(ctx, w.ID); err != nil {
		return notFoundAs(err, "webhook")
	}
	return s.redirectWithFlash(c, "/webhooks", "Webhook "+w.Name+" was deleted.")
}

// parseHeaderLines reads the builder's extra headers, one "Name: value" a line; blank lines
// are skipped. The names are checked with the API's rules afterwards (checkWebhook).
func parseHeaderLines(text string) (map[string]string, string) {
	out := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return out, fmt.Sprintf("Line %d has no colon: write each header as Name: value, e.g. X-Api-Key: k_123.", i+1)
		}
		name = strings.TrimSpace(name)
		if _, dup := out[name]; dup {
			return out, fmt.Sprintf("%s is given twice: give each header once.", name)
		}
		out[name] = strings.TrimSpace(value)
	}
	return out, ""
}

// headerLines writes extra headers as the builder shows them, sorted by name.
func headerLines(h map[string]string) string {
	names := slices.Sorted(maps.Keys(h))
	lines := make([]string, len(names))
	for i, n := range names {
		lines[i] = n + ": " + h[n]
	}
	return strings.Join(lines, "\n")
}

// optionalNumber is a number for a form field, "" for none.
func optionalNumber(f *float64) string {
	if f == nil {
		return ""
	}
	return numberText(*f)
}
