package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"hookyard/delivery"
	"hookyard/store"
	"hookyard/views"
)

type webhookBody struct {
	Name       *string            `json:"name"`
	URL        *string            `json:"url"`
	Events     *[]string          `json:"events"`
	ProjectIDs *[]string          `json:"projectIds"`
	Filter     json.RawMessage    `json:"filter"` // absent: unchanged; null: none
	Headers    *map[string]string `json:"headers"`
	RateLimit  json.RawMessage    `json:"rateLimitPerSecond"` // absent: unchanged; null: none
	Ordered    *bool              `json:"ordered"`
}

func (s *Server) apiListWebhooks(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	state, err := stateFilter(c.QueryParam("state"))
	if err != nil {
		return err
	}
	u := currentUser(c)
	f := store.WebhookFilter{State: state}
	if !u.IsAdmin() {
		f.OwnerID = u.ID
	}
	ctx := c.Request().Context()
	hooks, next, err := s.store.ListWebhooks(ctx, f, p)
	if err != nil {
		return err
	}
	out := make([]webhookJSON, len(hooks))
	for i, w := range hooks {
		if out[i], err = s.webhookJSON(ctx, w, ""); err != nil {
			return err
		}
	}
	return list(c, out, next)
}

func (s *Server) apiCreateWebhook(c echo.Context) error {
	var b webhookBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	ctx := c.Request().Context()
	owner := *currentUser(c)
	in := webhookInput{Name: strings.TrimSpace(deref(b.Name)), URL: strings.TrimSpace(deref(b.URL))}
	if b.Events != nil {
		in.Events = *b.Events
	}
	if b.ProjectIDs != nil {
		in.ProjectIDs = *b.ProjectIDs
	}
	fe := fieldErrors{}
	in.Filter, in.Headers, in.RateLimitPerSecond = readFilter(b.Filter, fe), b.Headers, readRate(b.RateLimit, fe)
	if err := s.checkWebhook(ctx, in, owner, false, fe); err != nil {
		return err
	}
	if err := validation(fe); err != nil {
		return err
	}
	w := store.Webhook{OwnerID: owner.ID, Name: in.Name, URL: in.URL, Secret: delivery.NewSecret(),
		Events: in.Events, ProjectIDs: in.ProjectIDs, Filter: in.Filter.To, RateLimitPerSecond: in.RateLimitPerSecond.To,
		Ordered: b.Ordered != nil && *b.Ordered}
	if in.Headers != nil {
		w.Headers = *in.Headers
	}
	if err := s.store.CreateWebhookWithin(ctx, &w, s.opts.MaxWebhooksPerUser); errors.Is(err, store.ErrQuotaReached) {
		return s.webhookQuotaProblem()
	} else if err != nil {
		return err
	}
	out, err := s.webhookJSON(ctx, w, w.Secret)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) apiGetWebhook(c echo.Context) error {
	ctx := c.Request().Context()
	w, err := s.webhookFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	out, err := s.webhookJSON(ctx, w, "")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiUpdateWebhook(c echo.Context) error {
	var b webhookBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	ctx := c.Request().Context()
	w, err := s.webhookFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	owner, err := s.store.UserByID(ctx, w.OwnerID)
	if err != nil {
		return err
	}
	fe := fieldErrors{}
	in := webhookInput{Name: strings.TrimSpace(deref(b.Name)), URL: strings.TrimSpace(deref(b.URL))}
	if b.Name != nil && in.Name == "" {
		fe.add("name", "Must not be empty; leave the field out to keep the name.")
	}
	if b.URL != nil && in.URL == "" {
		fe.add("url", "Must not be empty; leave the field out to keep the URL.")
	}
	if b.Events != nil {
		in.Events = *b.Events
	}
	if b.ProjectIDs != nil {
		in.ProjectIDs = *b.ProjectIDs
	}
	in.Filter, in.Headers, in.RateLimitPerSecond = readFilter(b.Filter, fe), b.Headers, readRate(b.RateLimit, fe)
	if err := s.checkWebhook(ctx, in, owner, true, fe); err != nil {
		return err
	}
	if err := validation(fe); err != nil {
		return err
	}
	ch := store.WebhookChanges{Events: b.Events, ProjectIDs: b.ProjectIDs, Filter: in.Filter, Headers: b.Headers,
		RateLimitPerSecond: in.RateLimitPerSecond, Ordered: b.Ordered}
	if b.Name != nil {
		ch.Name = &in.Name
	}
	if b.URL != nil {
		ch.URL = &in.URL
	}
	if w, err = s.store.UpdateWebhook(ctx, w.ID, ch); err != nil {
		return notFoundAs(err, "webhook")
	}
	out, err := s.webhookJSON(ctx, w, "")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiDeleteWebhook(c echo.Context) error {
	ctx := c.Request().Context()
	w, err := s.webhookFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.store.DeleteWebhook(ctx, w.ID); err != nil {
		return notFoundAs(err, "webhook")
	}
	return c.NoContent(http.StatusNoContent)
}

// testResultJSON is the outcome of a test request or health check.
type testResultJSON struct {
	OK           bool   `json:"ok"`
	Event        string `json:"event"`
	StatusCode   int    `json:"statusCode"`
	DurationMs   int64  `json:"durationMs"`
	Error        string `json:"error"`
	ResponseBody string `json:"responseBody"`
	Truncated    bool   `json:"truncated"`
}

func resultJSON(r views.TestResult) testResultJSON {
	return testResultJSON{OK: r.OK, Event: r.Event, StatusCode: r.StatusCode, DurationMs: r.DurationMS,
		Error: r.Error, ResponseBody: r.Body, Truncated: r.Truncated}
}

func (s *Server) apiEnableWebhook(c echo.Context) error {
	var b struct {
		ReplayMissed bool `json:"replayMissed"`
	}
	if err := bindOptionalJSON(c, &b); err != nil {
		return err
	}
	ctx := c.Request().Context()
	w, err := s.webhookFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	w, res, replayed, err := s.reenable(ctx, w, b.ReplayMissed)
	if err != nil {
		return err
	}
	hc := resultJSON(res)
	if !res.OK {
		p := problem(http.StatusConflict, "The health check failed, so the webhook stays off: "+res.Error)
		p.Title = "Health check failed"
		p.HealthCheck = &hc
		return p
	}
	out, err := s.webhookJSON(ctx, w, "")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct {
		webhookJSON
		HealthCheck testResultJSON `json:"healthCheck"`
		Replayed    int            `json:"replayed"`
	}{out, hc, replayed})
}

func (s *Server) apiDisableWebhook(c echo.Context) error {
	ctx := c.Request().Context()
	w, err := s.webhookFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	if w, err = s.store.DisableWebhook(ctx, w.ID, w.Status, "Turned off by "+currentUser(c).Name+" through the API."); err != nil {
		return err
	}
	out, err := s.webhookJSON(ctx, w, "")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiRotateSecret(c echo.Context) error {
	ctx := c.Request().Context()
	w, err := s.webhookFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	if w, err = s.store.RotateSecret(ctx, w.ID, delivery.NewSecret(), secretOverlap); err != nil {
		return err
	}
	out, err := s.webhookJSON(ctx, w, w.Secret)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiFinishRotation(c echo.Context) error {
	ctx := c.Request().Context()
	w, err := s.webhookFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	if w, err = s.store.FinishRotation(ctx, w.ID); err != nil {
		return err
	}
	out, err := s.webhookJSON(ctx, w, "")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiTestWebhook(c echo.Context) error {
	var b struct {
		Event string `json:"event"`
	}
	if err := bindOptionalJSON(c, &b); err != nil {
		return err
	}
	if b.Event == "" {
		b.Event = "TODO_CREATED"
	}
	ctx := c.Request().Context()
	w, err := s.webhookFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	fe := fieldErrors{}
	if err := s.checkEvents(ctx, "event", []string{b.Event}, fe); err != nil {
		return err
	}
	if err := validation(fe); err != nil {
		return err
	}
	project, err := s.testProject(ctx, w)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resultJSON(s.sendTest(ctx, w, b.Event, project)))
}
