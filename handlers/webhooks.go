package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"hookyard/delivery"
	"hookyard/store"
	"hookyard/views"
)

// Webhook rules shared by the builder page and the API.

// secretOverlap is how long a rotated-out secret keeps signing.
const secretOverlap = 24 * time.Hour

// webhookInput is a webhook as submitted. Nil Events / ProjectIDs mean "all". The delivery
// controls (SPEC §9) are read and checked where they are parsed (readFilter).
type webhookInput struct {
	Name       string
	URL        string
	Events     []string
	ProjectIDs []string
	Filter     store.Setting[*store.PayloadFilter]
	Headers    *map[string]string // nil: unchanged (PATCH), or none
	// RateLimitPerSecond is checked where it is read (readRate, the builder).
	RateLimitPerSecond store.Setting[*float64]
	Ordered            *bool // nil: unchanged (PATCH), or false
}

// accessOf is what a user can currently reach.
func (s *Server) accessOf(ctx context.Context, u store.User) (delivery.Access, error) {
	a := delivery.Access{Admin: u.IsAdmin(), Organizations: map[string]bool{}}
	if a.Admin {
		return a, nil
	}
	orgs, err := allPages(func(p store.Page) ([]store.Organization, string, error) {
		return s.store.ListOrganizations(ctx, u.ID, p)
	})
	for _, o := range orgs {
		a.Organizations[o.ID] = true
	}
	return a, err
}

// ownerAccess returns a webhook's owner and what they can currently reach.
func (s *Server) ownerAccess(ctx context.Context, w store.Webhook) (store.User, delivery.Access, error) {
	owner, err := s.store.UserByID(ctx, w.OwnerID)
	if err != nil {
		return owner, delivery.Access{}, err
	}
	access, err := s.accessOf(ctx, owner)
	return owner, access, err
}

// webhookFor returns a webhook the viewer may see and change (its owner, or an admin), or 404.
func (s *Server) webhookFor(ctx context.Context, viewer *store.User, id string) (store.Webhook, error) {
	w, err := s.store.Webhook(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !viewer.IsAdmin() && w.OwnerID != viewer.ID) {
		return store.Webhook{}, errNotFound("webhook")
	}
	return w, err
}

// eventTypeCache keeps the event types between changes, already sorted out: every publish
// needs them. Callers must not modify what it returns.
type eventTypeCache struct {
	version int64
	subs    []store.EventType
	byName  map[string]store.EventType
}

// subscribableTypes returns the event types a webhook may choose, and all types by name.
func (s *Server) subscribableTypes(ctx context.Context) ([]store.EventType, map[string]store.EventType, error) {
	v := s.store.Changes()
	if c := s.types.Load(); c != nil && c.version == v {
		return c.subs, c.byName, nil
	}
	all, err := s.store.ListEventTypes(ctx)
	if err != nil {
		return nil, nil, err
	}
	c := &eventTypeCache{version: v, byName: make(map[string]store.EventType, len(all))}
	for _, t := range all {
		c.byName[t.Name] = t
		if t.Subscribable {
			c.subs = append(c.subs, t)
		}
	}
	s.types.Store(c)
	return c.subs, c.byName, nil
}

// typeLabel is an event type in words (the name itself for an unknown type).
func typeLabel(types map[string]store.EventType, name string) string {
	if t, ok := types[name]; ok {
		return t.Label
	}
	return name
}

// inWords is a stored sentence meant for people (a switch-off reason, a notice) with the
// event types it names by their API names shown by their labels.
func inWords(types map[string]store.EventType, text string) string {
	return delivery.NamesInWords(text, func(name string) (string, bool) {
		t, ok := types[name]
		return t.Label, ok
	})
}

// checkWebhook validates a submitted webhook for its owner. Only the fields given are checked
// when partial (an API PATCH).
func (s *Server) checkWebhook(ctx context.Context, in webhookInput, owner store.User, partial bool, fe fieldErrors) error {
	if !partial || in.Name != "" {
		checkWebhookName(fe, in.Name)
	}
	if !partial || in.URL != "" {
		fe.add("url", s.outbound.CheckURL(ctx, in.URL))
	}
	if in.Headers != nil {
		if problems := delivery.CheckHeaders(*in.Headers); len(problems) > 0 {
			fe.add("headers", strings.Join(problems, " "))
		}
	}
	if err := s.checkEvents(ctx, "events", in.Events, fe); err != nil {
		return err
	}
	_, err := s.checkProjects(ctx, owner, in.ProjectIDs, fe)
	return err
}

// checkProjects reports the chosen projects that the owner cannot use and returns the ones
// they can, in order. It says the same for "no such project" and "not yours", so ids of other
// organisations cannot be probed.
func (s *Server) checkProjects(ctx context.Context, owner store.User, ids []string, fe fieldErrors) ([]store.Project, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	access, err := s.accessOf(ctx, owner)
	if err != nil {
		return nil, err
	}
	var usable []store.Project
	for _, id := range ids {
		p, err := s.store.Project(ctx, id)
		switch {
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return nil, err
		case err != nil || !access.CanAccess(p.OrganizationID):
			fe.add("projectIds", fmt.Sprintf("There is no project %q among the projects %s can use.", id, owner.Name))
		default:
			usable = append(usable, p)
		}
	}
	return usable, nil
}

// checkEvents reports event types that do not exist or cannot be subscribed to.
func (s *Server) checkEvents(ctx context.Context, field string, events []string, fe fieldErrors) error {
	if len(events) == 0 {
		return nil
	}
	_, types, err := s.subscribableTypes(ctx)
	if err != nil {
		return err
	}
	for _, e := range events {
		t, ok := types[e]
		switch {
		case !ok:
			fe.add(field, fmt.Sprintf("There is no event type %q.", e))
		case !t.Subscribable:
			fe.add(field, t.Label+" ("+e+") is sent by Hookyard itself and cannot be chosen.")
		}
	}
	return nil
}

// selectedProjects splits a webhook's chosen projects into those its owner can still use and
// the ids of the rest (deleted, or in an organisation the owner left). The rest are only ever
// counted: the names in an organisation the owner left are no longer theirs to see.
func (s *Server) selectedProjects(ctx context.Context, w store.Webhook) (usable []store.Project, lost []string, err error) {
	if len(w.ProjectIDs) == 0 {
		return nil, nil, nil
	}
	_, access, err := s.ownerAccess(ctx, w)
	if err != nil {
		return nil, nil, err
	}
	for _, id := range w.ProjectIDs {
		p, err := s.store.Project(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && !access.CanAccess(p.OrganizationID)):
			lost = append(lost, id)
		case err != nil:
			return nil, nil, err
		default:
			usable = append(usable, p)
		}
	}
	return usable, lost, nil
}

// testProject is the project a test request to a stored webhook happens in: the first one
// it selects that its owner can still use (none when it selects all projects).
func (s *Server) testProject(ctx context.Context, w store.Webhook) (*store.Project, error) {
	usable, _, err := s.selectedProjects(ctx, w)
	if err != nil || len(usable) == 0 {
		return nil, err
	}
	return &usable[0], nil
}

// defaultSampleEvent is the sample event type where a webhook listens to every type.
const defaultSampleEvent = "TODO_CREATED"

// sampleOf is a sample event that w receives: its first event type (defaultSampleEvent when
// it listens to all) in the first project it selects that its owner can still use, or the
// owner's first project when it selects all. The project is nil when w can receive nothing.
func (s *Server) sampleOf(ctx context.Context, w store.Webhook) (string, *store.Project, error) {
	event := defaultSampleEvent
	if len(w.Events) > 0 {
		event = w.Events[0]
	}
	if len(w.ProjectIDs) > 0 {
		p, err := s.testProject(ctx, w)
		return event, p, err
	}
	owner, err := s.store.UserByID(ctx, w.OwnerID)
	if err != nil {
		return event, nil, err
	}
	projects, err := s.visibleProjects(ctx, &owner, "")
	if err != nil || len(projects) == 0 {
		return event, nil, err
	}
	return event, &projects[0], nil
}

// unsavedWebhookID stands in the payload of a builder's Send test for a webhook not saved yet.
const unsavedWebhookID = "wh_test"

// sendTest sends one signed sample request for eventType to w (whose ID may be empty for an
// unsaved webhook) and reports what happened.
func (s *Server) sendTest(ctx context.Context, w store.Webhook, eventType string, project *store.Project) views.TestResult {
	now := time.Now()
	sample := delivery.SampleFor(eventType)
	ev := delivery.EventData{ID: store.NewID("evt", now), Type: eventType, CreatedAt: now,
		PreviousValue: sample.PreviousValue, CurrentValue: sample.CurrentValue}
	if project != nil {
		ev.ProjectID, ev.OrganizationID = project.ID, project.OrganizationID
	}
	body, err := delivery.BuildPayload(w, ev)
	if err != nil {
		return views.TestResult{Ran: true, Error: err.Error()}
	}
	// Test sends and health checks share the webhook's limit of requests in flight with its
	// deliveries (an unsaved webhook's, with others to the same URL), so they cannot be used
	// to flood a receiver.
	lane := w.ID
	if lane == "" || lane == unsavedWebhookID {
		lane = "url:" + w.URL
	}
	r, err := s.opts.Engine.Limited(ctx, lane, func() delivery.Result {
		return s.outbound.Send(ctx, delivery.Request{
			URL: w.URL, Secrets: w.SigningSecrets(now), MessageID: store.NewID("msg", now),
			Event: eventType, Attempt: 1, Body: body, Headers: w.Headers,
		})
	})
	if err != nil {
		return views.TestResult{Ran: true, Event: eventType, Error: "Not sent: " + err.Error()}
	}
	return testResult(eventType, r)
}

func testResult(event string, r delivery.Result) views.TestResult {
	return views.TestResult{
		Ran: true, OK: r.OK(), Event: event, StatusCode: r.StatusCode, DurationMS: r.Duration.Milliseconds(),
		Error: r.Error, Body: string(r.ResponseBody), Truncated: r.Truncated,
	}
}

// enableWebhook sends a health check and turns the webhook on only if it is answered with 2xx.
func (s *Server) enableWebhook(ctx context.Context, w store.Webhook) (store.Webhook, views.TestResult, error) {
	res := s.sendTest(ctx, w, delivery.HealthCheckEvent, nil)
	if !res.OK {
		return w, res, nil
	}
	w, err := s.store.EnableAfterHealthCheck(ctx, w.ID, store.HealthCheck{PassedAt: s.now(), StatusCode: res.StatusCode,
		Duration: time.Duration(res.DurationMS) * time.Millisecond})
	return w, res, err
}

// summarize says in plain words what a webhook does, as the builder's live summary; filter is
// its filter in words ("" for none).
func summarize(url string, allEvents bool, events []store.EventType, allProjects bool, projects []store.Project, ownerIsAdmin bool, filter string) string {
	target := "your URL"
	if strings.TrimSpace(url) != "" {
		target = strings.TrimSpace(url)
	}
	var what string
	switch {
	case allEvents:
		what = "whenever anything happens (every event type, including new ones)"
	case len(events) == 0:
		return "Calls " + target + " — now tick at least one event, or choose All events."
	default:
		labels := make([]string, len(events))
		for i, e := range events {
			labels[i] = "“" + e.Label + "”"
		}
		what = "when " + joinOr(labels, 4, "kinds of event") + " happens"
	}
	var where string
	switch {
	case allProjects && ownerIsAdmin:
		where = "in any project, including new ones"
	case allProjects:
		where = "in any project of your organisations, including new ones"
	case len(projects) == 0:
		return "Calls " + target + " " + what + " — now tick at least one project, or choose All projects."
	default:
		names := make([]string, len(projects))
		for i, p := range projects {
			names[i] = p.Name + " (" + p.OrganizationName + ")"
		}
		where = "in " + joinOr(names, 4, "projects")
	}
	if filter != "" {
		return "Calls " + target + " " + what + " " + where + ", only when " + filter + "."
	}
	return "Calls " + target + " " + what + " " + where + "."
}

// joinOr lists items as "a, b or c", or past max as "any of 7 things (a, b, c and 4 more)".
func joinOr(items []string, max int, noun string) string {
	if len(items) > max {
		return fmt.Sprintf("any of %d %s (%s and %d more)", len(items), noun, strings.Join(items[:max-1], ", "), len(items)-max+1)
	}
	if len(items) == 1 {
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// webhookJSON is the webhook object of the API (SPEC §1), with the secret only where given.
type webhookJSON struct {
	store.Webhook
	Secret string `json:"secret,omitempty"`
	// RotationEndsAt is when the last rotated-out secret stops signing; null when none does.
	RotationEndsAt         *time.Time `json:"rotationEndsAt"`
	InaccessibleProjectIDs []string   `json:"inaccessibleProjectIds"`
	Health                 health     `json:"health"`
}

// health is a webhook's recent record (SPEC §5).
type health struct {
	SuccessRate24h      *float64   `json:"successRate24h"` // null when nothing was attempted
	Attempts24h         int        `json:"attempts24h"`
	Failures24h         int        `json:"failures24h"`
	ConsecutiveFailures int        `json:"consecutiveFailures"`
	LastSuccessAt       *time.Time `json:"lastSuccessAt"`
	LastFailureAt       *time.Time `json:"lastFailureAt"`
	LastError           string     `json:"lastError"`
	LatencyP50Ms        *float64   `json:"latencyP50Ms"`
	LatencyP95Ms        *float64   `json:"latencyP95Ms"`
}

// healthOf sums a webhook's hourly figures over the window (the hour buckets that overlap it).
func (s *Server) healthOf(ctx context.Context, w store.Webhook, window time.Duration) (health, error) {
	h := health{ConsecutiveFailures: w.ConsecutiveFailures, LastSuccessAt: w.LastSuccessAt,
		LastFailureAt: w.LastFailureAt, LastError: w.LastError}
	hours, err := s.store.WebhookHours(ctx, w.ID, s.now().Add(-window+time.Hour))
	if err != nil {
		return h, err
	}
	var lat store.Histogram
	for _, hr := range hours {
		h.Attempts24h += hr.Attempts
		h.Failures24h += hr.Failures
		if lat == nil {
			lat = append(store.Histogram(nil), hr.Latency...)
		} else {
			lat.Merge(hr.Latency)
		}
	}
	if h.Attempts24h > 0 {
		rate := float64(h.Attempts24h-h.Failures24h) / float64(h.Attempts24h)
		p50, p95 := float64(lat.Quantile(0.5).Microseconds())/1000, float64(lat.Quantile(0.95).Microseconds())/1000
		h.SuccessRate24h, h.LatencyP50Ms, h.LatencyP95Ms = &rate, &p50, &p95
	}
	return h, nil
}

func (s *Server) webhookJSON(ctx context.Context, w store.Webhook, secret string) (webhookJSON, error) {
	_, ids, err := s.selectedProjects(ctx, w)
	if err != nil {
		return webhookJSON{}, err
	}
	if ids == nil {
		ids = []string{}
	}
	h, err := s.healthOf(ctx, w, 24*time.Hour)
	return webhookJSON{Webhook: w, Secret: secret, RotationEndsAt: w.RotationEndsAt(s.now()), InaccessibleProjectIDs: ids, Health: h}, err
}

// stateFilter validates the ?state= filter.
func stateFilter(v string) (string, error) {
	if v == "" || slices.Contains([]string{"enabled", "disabled", "unhealthy", "working", "failing"}, v) {
		return v, nil
	}
	p := problem(http.StatusBadRequest, "state must be enabled, disabled, unhealthy, working or failing.")
	p.Errors = []FieldError{{Field: "state", Message: "Use enabled, disabled, unhealthy, working or failing."}}
	return "", p
}
