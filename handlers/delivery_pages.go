package handlers

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"hookyard/delivery"
	"hookyard/store"
	"hookyard/views"
)

// showDelivery is the attempt inspector.
func (s *Server) showDelivery(c echo.Context) error {
	ctx := c.Request().Context()
	d, w, err := s.deliveryFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	ev, err := s.store.Event(ctx, d.EventID)
	if err != nil {
		return err
	}
	attempts, err := s.store.Attempts(ctx, d.ID)
	if err != nil {
		return err
	}
	_, types, err := s.subscribableTypes(ctx)
	if err != nil {
		return err
	}
	page := views.DeliveryPage{Page: s.page(c, "Delivery", "webhooks"), Webhook: w, Delivery: d, Event: ev,
		EventLabel: typeLabel(types, d.EventType), Project: "a deleted project"}
	if p, err := s.store.Project(ctx, ev.ProjectID); err == nil {
		page.Project = p.Name + " (" + p.OrganizationName + ")"
	}
	sent, by, err := s.sentBody(ctx, d, w, attempts)
	if err != nil {
		return err
	}
	page.Rebuilt, page.SentBy = by == nil || by.RequestBody == nil, 0
	if by != nil {
		page.SentBy = by.Number
		page.SentHeaders = views.ShowHeaders(by.RequestHeaders, attemptPartURL(*by, "request-headers"))
	}
	page.Sent = views.ShowExact(sent, views.MaxShownBytes, deliveryPayloadURL(d.ID))
	page.SentReadable = views.ShowJSON(sent, views.MaxShownBytes, deliveryPayloadURL(d.ID))
	page.Attempts = attemptViews(attempts, sent)
	if err := s.relatedDeliveries(ctx, &page); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.Delivery(page))
}

// sentBody is what the delivery's latest attempt sent, with that attempt; for a delivery
// whose attempts did not keep it (or that has none yet), the body as it would be built now.
func (s *Server) sentBody(ctx context.Context, d store.Delivery, w store.Webhook, attempts []store.Attempt) ([]byte, *store.Attempt, error) {
	if n := len(attempts); n > 0 {
		last := &attempts[n-1]
		if last.RequestBody != nil {
			return last.RequestBody, last, nil
		}
		body, err := s.deliveryPayload(ctx, d, w)
		return body, last, err
	}
	body, err := s.deliveryPayload(ctx, d, w)
	return body, nil, err
}

// attemptViews shows attempts newest first, each run of failed attempts that sent the same
// body and got the same answer as one.
func attemptViews(attempts []store.Attempt, shown []byte) []views.AttemptView {
	var out []views.AttemptView
	for i, a := range attempts {
		if i > 0 && !a.OK {
			prev := &out[len(out)-1]
			if p := prev.Attempt; !p.OK && p.StatusCode == a.StatusCode && p.Error == a.Error &&
				p.ResponseBody == a.ResponseBody && bytes.Equal(p.RequestBody, a.RequestBody) {
				prev.Attempt, prev.Times = a, append(prev.Times, a.StartedAt)
				prev.RequestHeaders = views.ShowHeaders(a.RequestHeaders, attemptPartURL(a, "request-headers"))
				prev.ResponseHeaders = views.ShowHeaders(a.ResponseHeaders, attemptPartURL(a, "response-headers"))
				continue
			}
		}
		v := views.AttemptView{Attempt: a, First: a.Number, Times: []time.Time{a.StartedAt},
			RequestHeaders:  views.ShowHeaders(a.RequestHeaders, attemptPartURL(a, "request-headers")),
			ResponseHeaders: views.ShowHeaders(a.ResponseHeaders, attemptPartURL(a, "response-headers")),
			ResponseBody:    views.ShowJSON([]byte(a.ResponseBody), views.MaxShownBytes, attemptPartURL(a, "response-body"))}
		if a.RequestBody != nil && !bytes.Equal(a.RequestBody, shown) {
			b := views.ShowExact(a.RequestBody, views.MaxShownBytes, attemptPartURL(a, "request-body"))
			v.RequestBody = &b
		}
		out = append(out, v)
	}
	slices.Reverse(out)
	return out
}

// relatedDeliveries finds the other deliveries of the same event to the same webhook: the one
// this is a resend or replay of, and a later one that succeeded where this one did not.
func (s *Server) relatedDeliveries(ctx context.Context, page *views.DeliveryPage) error {
	all, err := s.store.DeliveriesOfEvent(ctx, page.Delivery.EventID, page.Delivery.WebhookID)
	if err != nil {
		return err
	}
	kind := func(d store.Delivery) string {
		switch {
		case d.ResendOf != "":
			return "resend"
		case len(all) > 0 && d.ID != all[0].ID:
			return "replay"
		}
		return "first delivery"
	}
	if page.Delivery.ResendOf != "" || (len(all) > 0 && all[0].ID != page.Delivery.ID) {
		page.Kind = kind(page.Delivery)
		original := all[0]
		for _, d := range all {
			if d.ID == page.Delivery.ResendOf {
				original = d
			}
		}
		page.Original = &views.DeliveryLink{Delivery: original, Kind: kind(original)}
	}
	if page.Delivery.Status == store.DeliverySucceeded {
		return nil
	}
	for _, d := range all {
		if store.MadeAfter(d.ID, page.Delivery.ID) && d.Status == store.DeliverySucceeded {
			page.Delivered = &views.DeliveryLink{Delivery: d, Kind: kind(d)}
			break
		}
	}
	return nil
}

func (s *Server) resendPage(c echo.Context) error {
	ctx := c.Request().Context()
	d, w, err := s.deliveryFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	nd, err := s.resend(ctx, d, w)
	if err != nil {
		return err
	}
	return s.redirectWithFlash(c, "/deliveries/"+nd.ID, "Sent again as a new delivery.")
}

func (s *Server) listEventsPage(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	f := store.EventFilter{Type: c.QueryParam("event"), ProjectID: c.QueryParam("projectId")}
	if !u.IsAdmin() {
		f.MemberID = u.ID
	}
	events, next, err := s.store.ListEvents(ctx, f, store.Page{Limit: 50, Cursor: c.QueryParam("cursor")})
	if err != nil {
		return err
	}
	projects, err := s.visibleProjects(ctx, u, "")
	if err != nil {
		return err
	}
	subs, types, err := s.subscribableTypes(ctx)
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, p := range projects {
		names[p.ID] = p.Name + " (" + p.OrganizationName + ")"
	}
	d := views.EventsPage{Page: s.page(c, "Events", "events"), ProjectID: f.ProjectID, Type: f.Type,
		Projects: projects, Cursor: c.QueryParam("cursor"), Next: next}
	if d.Sample, err = s.sampleDefaults(ctx, u); err != nil {
		return err
	}
	for _, t := range subs {
		d.Types = append(d.Types, views.BuilderEvent{Name: t.Name, Label: t.Label})
	}
	for _, e := range events {
		project := names[e.ProjectID]
		if project == "" {
			project = "a deleted project"
		}
		d.Rows = append(d.Rows, views.EventRow{Event: e, Label: typeLabel(types, e.Type), Project: project})
	}
	return s.render(c, http.StatusOK, views.Events(d))
}

// sampleDefaults presets "Publish a sample event" to what the viewer's newest webhook
// listens to, so that the sample reaches it.
func (s *Server) sampleDefaults(ctx context.Context, u *store.User) (views.SampleDefaults, error) {
	w, err := s.store.NewestWebhook(ctx, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		return views.SampleDefaults{}, nil
	}
	if err != nil {
		return views.SampleDefaults{}, err
	}
	event, project, err := s.sampleOf(ctx, w)
	if err != nil || project == nil {
		return views.SampleDefaults{}, err
	}
	return views.SampleDefaults{Event: event, ProjectID: project.ID, WebhookName: w.Name}, nil
}

func (s *Server) showEventPage(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	ev, err := s.eventFor(ctx, u, c.Param("id"))
	if err != nil {
		return err
	}
	cursor := c.QueryParam("cursor")
	outcomes, next, err := s.eventOutcomes(ctx, u, ev, store.Page{Limit: outcomesPageSize, Cursor: cursor})
	if err != nil {
		return err
	}
	f := store.WebhookFilter{}
	if !u.IsAdmin() {
		f.OwnerID = u.ID
	}
	total, err := s.store.CountWebhooks(ctx, f)
	if err != nil {
		return err
	}
	_, types, err := s.subscribableTypes(ctx)
	if err != nil {
		return err
	}
	project := "a deleted project"
	if p, err := s.store.Project(ctx, ev.ProjectID); err == nil {
		project = p.Name + " (" + p.OrganizationName + ")"
	}
	d := views.EventPage{Page: s.page(c, "Event", "events"), Event: ev, Label: typeLabel(types, ev.Type),
		Project: project, Payload: views.ShowJSON(eventValues(ev), views.MaxShownBytes, eventValuesURL(ev.ID)),
		Pager: pager("/events/"+ev.ID, nil, len(outcomes), total, "webhooks", cursor, next)}
	for _, o := range outcomes {
		vo := views.EventOutcome{WebhookID: o.WebhookID, WebhookName: o.WebhookName, State: o.State, Reason: o.Reason}
		if o.Delivery != nil {
			vo.DeliveryID = o.Delivery.ID
		}
		d.Outcomes = append(d.Outcomes, vo)
	}
	return s.render(c, http.StatusOK, views.Event(d))
}

// outcomesPageSize is how many webhooks the event page explains at a time.
const outcomesPageSize = 50

// publishSample publishes a sample event of the chosen type in the chosen project, from the
// events page, and shows who received it.
func (s *Server) publishSample(c echo.Context) error {
	out, ok, err := s.publishSampleEvent(c, c.FormValue("event"), c.FormValue("projectId"))
	if err != nil {
		return err
	}
	if !ok {
		s.setFlash(c, "bad", "Choose a project and an event type to publish a sample.")
		return c.Redirect(http.StatusSeeOther, "/events")
	}
	return s.redirectWithFlash(c, "/events/"+out.ID, "Sample event published to "+plural(out.Deliveries, "webhook")+".")
}

// sendSample publishes, from a webhook's page, a sample event that the webhook receives, and
// shows the page again with the delivery in its log.
func (s *Server) sendSample(c echo.Context) error {
	ctx := c.Request().Context()
	w, err := s.webhookFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	event, project, err := s.sampleOf(ctx, w)
	if err != nil {
		return err
	}
	if project == nil || !w.Enabled {
		s.setFlash(c, "bad", "This webhook can receive nothing right now, so no sample was sent.")
		return c.Redirect(http.StatusSeeOther, "/webhooks/"+w.ID)
	}
	out, ok, err := s.publishSampleEvent(c, event, project.ID)
	if err != nil {
		return err
	}
	if !ok {
		s.setFlash(c, "bad", "The sample could not be published.")
		return c.Redirect(http.StatusSeeOther, "/webhooks/"+w.ID)
	}
	_, types, err := s.subscribableTypes(ctx)
	if err != nil {
		return err
	}
	others := ""
	if out.Deliveries > 1 {
		others = " It also went to " + plural(out.Deliveries-1, "other webhook") + " that listen to it."
	}
	return s.redirectWithFlash(c, "/webhooks/"+w.ID+"#delivery-log", "Sample “"+typeLabel(types, event)+"” in "+
		project.Name+" ("+project.OrganizationName+") published: watch it arrive under Deliveries."+others)
}

// publishSampleEvent publishes a realistic sample of typ in projectID as the viewer; ok is
// false when the viewer may not publish that.
func (s *Server) publishSampleEvent(c echo.Context, typ, projectID string) (delivery.Published, bool, error) {
	ctx := c.Request().Context()
	u := currentUser(c)
	types, access, err := s.publishContext(c)
	if err != nil {
		return delivery.Published{}, false, err
	}
	sample := delivery.SampleFor(typ)
	fe := fieldErrors{}
	in, err := s.checkEventBody(ctx, u, eventBody{Event: &typ, ProjectID: &projectID,
		PreviousValue: sample.PreviousValue, CurrentValue: sample.CurrentValue}, "", types, access, map[string]store.Project{}, fe)
	if err != nil || len(fe) > 0 {
		return delivery.Published{}, false, err
	}
	out, _, err := s.opts.Engine.Publish(ctx, u.ID, []delivery.EventInput{in}, nil)
	if err != nil {
		return delivery.Published{}, false, err
	}
	return out[0], true, nil
}
