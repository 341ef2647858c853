package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"hookyard/delivery"
	"hookyard/store"
)

// maxBatch is the most events one batch publish may carry.
const maxBatch = 500

type eventBody struct {
	Event         *string         `json:"event"`
	ProjectID     *string         `json:"projectId"`
	PreviousValue json.RawMessage `json:"previousValue"`
	CurrentValue  json.RawMessage `json:"currentValue"`
}

// checkEventBody validates one event to publish for user u; field names are prefixed (for
// batches, "events[3].").
func (s *Server) checkEventBody(ctx context.Context, u *store.User, b eventBody, prefix string, types map[string]store.EventType,
	access delivery.Access, projects map[string]store.Project, fe fieldErrors) (delivery.EventInput, error) {
	in := delivery.EventInput{Type: deref(b.Event), ProjectID: deref(b.ProjectID),
		PreviousValue: b.PreviousValue, CurrentValue: b.CurrentValue}
	t, known := types[in.Type]
	switch {
	case in.Type == "":
		fe.add(prefix+"event", "Give the event type, e.g. TODO_CREATED.")
	case !known:
		fe.add(prefix+"event", fmt.Sprintf("There is no event type %q. Admins can add custom types under Event types.", in.Type))
	case !t.Subscribable:
		fe.add(prefix+"event", in.Type+" is sent by Hookyard itself and cannot be published.")
	}
	if in.ProjectID == "" {
		fe.add(prefix+"projectId", "Give the id of the project the event happened in.")
		return in, nil
	}
	// projects remembers lookups within one request: a batch names few projects many times.
	p, found := projects[in.ProjectID]
	var err error
	if !found {
		if p, err = s.store.Project(ctx, in.ProjectID); err == nil {
			projects[in.ProjectID] = p
		}
	}
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && !access.CanAccess(p.OrganizationID)):
		fe.add(prefix+"projectId", fmt.Sprintf("There is no project %q that you can publish to.", in.ProjectID))
	case err != nil:
		return in, err
	default:
		in.OrganizationID = p.OrganizationID
	}
	return in, nil
}

// publish runs a validated publish of the request body with the request's Idempotency-Key,
// answering 202.
func (s *Server) publish(c echo.Context, body []byte, in []delivery.EventInput, render func([]delivery.Published) any) error {
	u := currentUser(c)
	var idem *delivery.Idempotency
	if key := strings.TrimSpace(c.Request().Header.Get("Idempotency-Key")); key != "" {
		if len(key) > 255 {
			return problem(http.StatusBadRequest, "Idempotency-Key may be at most 255 characters.")
		}
		if !utf8.ValidString(key) || strings.ContainsFunc(key, unicode.IsControl) {
			return problem(http.StatusBadRequest, "Idempotency-Key must be printable text (UTF-8, no control characters).")
		}
		// Keys are per user and per endpoint: a batch never answers with a single publish.
		// The fingerprint tells a retry of the same request from another request reusing the key.
		fingerprint := sha256.Sum256(append([]byte(c.Path()+"\n"), body...))
		idem = &delivery.Idempotency{UserID: u.ID, Key: c.Path() + " " + key, Fingerprint: hex.EncodeToString(fingerprint[:]),
			Respond: func(p []delivery.Published) ([]byte, error) { return json.Marshal(render(p)) }}
	}
	out, replay, err := s.opts.Engine.Publish(c.Request().Context(), u.ID, in, idem)
	if errors.Is(err, store.ErrKeyReused) {
		p := problem(http.StatusUnprocessableEntity, "This Idempotency-Key was already used with a different request in the last 24 hours; nothing was published. Send a new key with a new request.")
		p.Type, p.Title = "urn:hookyard:idempotency-key-reused", "Idempotency-Key reused"
		return p
	}
	if errors.Is(err, delivery.ErrStopping) {
		c.Response().Header().Set("Retry-After", "5")
		return problem(http.StatusServiceUnavailable, "Hookyard is restarting; publish again in a few seconds.")
	}
	var unavailable *delivery.UnavailableError
	if errors.As(err, &unavailable) {
		// Refused, never acknowledged: the publisher keeps the event and sends it again.
		c.Response().Header().Set("Retry-After", "5")
		return problem(http.StatusServiceUnavailable, "Not accepted: "+unavailable.Reason+
			". Nothing was stored; publish again in a few seconds.")
	}
	if err != nil {
		return err
	}
	if replay != nil {
		c.Response().Header().Set("Idempotent-Replayed", "true")
		return c.JSONBlob(http.StatusAccepted, replay)
	}
	return c.JSON(http.StatusAccepted, render(out))
}

func (s *Server) publishContext(c echo.Context) (map[string]store.EventType, delivery.Access, error) {
	_, types, err := s.subscribableTypes(c.Request().Context())
	if err != nil {
		return nil, delivery.Access{}, err
	}
	access, err := s.accessOf(c.Request().Context(), *currentUser(c))
	return types, access, err
}

func (s *Server) apiPublishEvent(c echo.Context) error {
	var b eventBody
	body, err := readJSON(c, &b)
	if err != nil {
		return err
	}
	types, access, err := s.publishContext(c)
	if err != nil {
		return err
	}
	fe := fieldErrors{}
	in, err := s.checkEventBody(c.Request().Context(), currentUser(c), b, "", types, access, map[string]store.Project{}, fe)
	if err != nil {
		return err
	}
	if err := validation(fe); err != nil {
		return err
	}
	return s.publish(c, body, []delivery.EventInput{in}, func(p []delivery.Published) any { return p[0] })
}

type batchResponse struct {
	Events     []delivery.Published `json:"events"`
	Deliveries int                  `json:"deliveries"`
}

func (s *Server) apiPublishBatch(c echo.Context) error {
	var b struct {
		Events []eventBody `json:"events"`
	}
	body, err := readJSON(c, &b)
	if err != nil {
		return err
	}
	fe := fieldErrors{}
	switch {
	case len(b.Events) == 0:
		fe.add("events", "Send between 1 and 500 events in \"events\".")
	case len(b.Events) > maxBatch:
		fe.add("events", fmt.Sprintf("A batch holds at most %d events; this one has %d. Split it.", maxBatch, len(b.Events)))
	}
	if err := validation(fe); err != nil {
		return err
	}
	types, access, err := s.publishContext(c)
	if err != nil {
		return err
	}
	in := make([]delivery.EventInput, len(b.Events))
	projects := map[string]store.Project{}
	for i, e := range b.Events {
		if in[i], err = s.checkEventBody(c.Request().Context(), currentUser(c), e, fmt.Sprintf("events[%d].", i), types, access, projects, fe); err != nil {
			return err
		}
	}
	if err := validation(fe); err != nil {
		return err
	}
	return s.publish(c, body, in, func(p []delivery.Published) any {
		r := batchResponse{Events: p}
		for _, e := range p {
			r.Deliveries += e.Deliveries
		}
		return r
	})
}

func (s *Server) apiListEvents(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	u := currentUser(c)
	f := store.EventFilter{Type: c.QueryParam("event"), ProjectID: c.QueryParam("projectId")}
	if !u.IsAdmin() {
		f.MemberID = u.ID
	}
	events, next, err := s.store.ListEvents(c.Request().Context(), f, p)
	if err != nil {
		return err
	}
	return list(c, events, next)
}

// eventFor returns an event the user may see: admins all, members those of their organisations.
func (s *Server) eventFor(ctx context.Context, u *store.User, id string) (store.Event, error) {
	ev, err := s.store.Event(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return ev, errNotFound("event")
	}
	if err != nil || u.IsAdmin() {
		return ev, err
	}
	if ok, err := s.store.IsMember(ctx, ev.OrganizationID, u.ID); err != nil {
		return store.Event{}, err
	} else if !ok {
		return store.Event{}, errNotFound("event")
	}
	return ev, nil
}

// apiGetEvent answers an event with what a page of the viewer's webhooks did with it:
// ?limit= and ?cursor= page the webhooks array, webhooksNextCursor leads on.
func (s *Server) apiGetEvent(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	ev, err := s.eventFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	outcomes, next, err := s.eventOutcomes(ctx, currentUser(c), ev, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct {
		store.Event
		Webhooks           []eventOutcome `json:"webhooks"`
		WebhooksNextCursor *string        `json:"webhooksNextCursor"`
	}{ev, outcomes, apiCursor(next)})
}

func (s *Server) apiListDeliveries(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	w, err := s.webhookFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	f := store.DeliveryFilter{WebhookID: w.ID, Status: store.DeliveryStatus(c.QueryParam("status")), EventType: c.QueryParam("event")}
	switch f.Status {
	case "", store.DeliveryPending, store.DeliverySucceeded, store.DeliveryFailed, store.DeliveryCancelled:
	default:
		pr := problem(http.StatusBadRequest, "status must be pending, succeeded, failed or cancelled.")
		pr.Errors = []FieldError{{Field: "status", Message: "Use pending, succeeded, failed or cancelled."}}
		return pr
	}
	ds, next, err := s.store.ListDeliveries(ctx, f, p)
	if err != nil {
		return err
	}
	return list(c, ds, next)
}

// deliveryFor returns a delivery whose webhook the user may see, or 404.
func (s *Server) deliveryFor(ctx context.Context, u *store.User, id string) (store.Delivery, store.Webhook, error) {
	d, err := s.store.Delivery(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return d, store.Webhook{}, errNotFound("delivery")
	}
	if err != nil {
		return d, store.Webhook{}, err
	}
	w, err := s.webhookFor(ctx, u, d.WebhookID)
	if err != nil {
		return store.Delivery{}, w, errNotFound("delivery")
	}
	return d, w, nil
}

func (s *Server) apiGetDelivery(c echo.Context) error {
	ctx := c.Request().Context()
	d, _, err := s.deliveryFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	attempts, err := s.store.Attempts(ctx, d.ID)
	if err != nil {
		return err
	}
	if attempts == nil {
		attempts = []store.Attempt{}
	}
	return c.JSON(http.StatusOK, struct {
		store.Delivery
		AttemptList []store.Attempt `json:"attemptList"`
	}{d, attempts})
}

// resend sends a delivery's event to its webhook again, as a new delivery.
func (s *Server) resend(ctx context.Context, d store.Delivery, w store.Webhook) (store.Delivery, error) {
	if !w.Enabled {
		return store.Delivery{}, problem(http.StatusConflict, "The webhook is switched off. Turn it back on first; then resend.")
	}
	ev, err := s.store.Event(ctx, d.EventID)
	if err != nil {
		return store.Delivery{}, err
	}
	keep, err := s.receivesFilter(ctx, w)
	if err != nil {
		return store.Delivery{}, err
	}
	if !keep(ev) {
		return store.Delivery{}, problem(http.StatusConflict,
			"This webhook no longer receives this event: its choices or its filter changed, or its owner lost access to the project.")
	}
	nd := s.newDelivery(ev, w.ID)
	nd.ResendOf, nd.MessageID = d.ID, d.MessageID
	if err := s.store.AddDeliveries(ctx, []store.Delivery{nd}); err != nil {
		return nd, err
	}
	s.opts.Engine.Enqueue([]store.PendingWork{{Delivery: nd, Event: ev}})
	return nd, nil
}

func (s *Server) newDelivery(ev store.Event, webhookID string) store.Delivery {
	now := s.now().Truncate(time.Millisecond)
	return store.Delivery{ID: s.store.NextID("dlv"), EventID: ev.ID, WebhookID: webhookID, EventType: ev.Type,
		Status: store.DeliveryPending, CreatedAt: now, UpdatedAt: now, NextAttemptAt: &now}
}

func (s *Server) apiResendDelivery(c echo.Context) error {
	ctx := c.Request().Context()
	d, w, err := s.deliveryFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	nd, err := s.resend(ctx, d, w)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, nd)
}
