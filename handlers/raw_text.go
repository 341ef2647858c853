package handlers

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"hookyard/delivery"
	"hookyard/store"
)

// Pages show stored text shortened when it is too long or too deep to show whole
// (views.ShowJSON); these downloads give the whole text as it was stored, to whoever may see
// the page it was cut on.

func eventValuesURL(eventID string) string   { return "/events/" + eventID + "/raw" }
func deliveryPayloadURL(dlvID string) string { return "/deliveries/" + dlvID + "/payload" }

// attemptPartURL is the download of an attempt's "request-headers", "response-headers" or
// "response-body".
func attemptPartURL(a store.Attempt, part string) string {
	return fmt.Sprintf("/deliveries/%s/attempts/%d/%s", a.DeliveryID, a.Number, part)
}

// binRequestPartURL is the download of a bin request's "headers" or "body".
func binRequestPartURL(r store.BinRequest, part string) string {
	return fmt.Sprintf("/inspector/%s/requests/%d/%s", r.BinID, r.ID, part)
}

// sendRawText answers with text as a plain-text download called name.
func sendRawText(c echo.Context, name string, text []byte) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", text)
}

// headerText is headers as they travel: "Name: value" lines, names in order.
func headerText(h http.Header) []byte {
	var b bytes.Buffer
	_ = h.Write(&b)
	return b.Bytes()
}

// eventValues is what was published in an event, as one JSON document.
func eventValues(ev store.Event) []byte {
	orNull := func(v []byte) []byte {
		if len(v) == 0 {
			return []byte("null")
		}
		return v
	}
	return fmt.Appendf(nil, `{"previousValue":%s,"currentValue":%s}`, orNull(ev.PreviousValue), orNull(ev.CurrentValue))
}

// deliveryPayload is the body a delivery sends (the webhook fields as they are now).
func (s *Server) deliveryPayload(ctx context.Context, d store.Delivery, w store.Webhook) ([]byte, error) {
	ev, err := s.store.Event(ctx, d.EventID)
	if err != nil {
		return nil, err
	}
	return delivery.BuildPayload(w, delivery.EventData{ID: ev.ID, Type: ev.Type, OrganizationID: ev.OrganizationID,
		ProjectID: ev.ProjectID, CreatedAt: ev.CreatedAt, PreviousValue: ev.PreviousValue, CurrentValue: ev.CurrentValue})
}

func (s *Server) rawEventValues(c echo.Context) error {
	ev, err := s.eventFor(c.Request().Context(), currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	return sendRawText(c, ev.ID+"-values.json.txt", eventValues(ev))
}

func (s *Server) rawDeliveryPayload(c echo.Context) error {
	ctx := c.Request().Context()
	d, w, err := s.deliveryFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	attempts, err := s.store.Attempts(ctx, d.ID)
	if err != nil {
		return err
	}
	body, _, err := s.sentBody(ctx, d, w, attempts)
	if err != nil {
		return err
	}
	return sendRawText(c, d.ID+"-payload.json.txt", body)
}

func (s *Server) rawAttemptPart(c echo.Context) error {
	ctx := c.Request().Context()
	d, _, err := s.deliveryFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	attempts, err := s.store.Attempts(ctx, d.ID)
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(c.Param("number"))
	for _, a := range attempts {
		if a.Number != n {
			continue
		}
		name := fmt.Sprintf("%s-attempt-%d-%s.txt", d.ID, n, c.Param("part"))
		switch c.Param("part") {
		case "request-headers":
			return sendRawText(c, name, headerText(a.RequestHeaders))
		case "response-headers":
			return sendRawText(c, name, headerText(a.ResponseHeaders))
		case "response-body":
			return sendRawText(c, name, []byte(a.ResponseBody))
		case "request-body":
			return sendRawText(c, name, a.RequestBody)
		}
	}
	return errNotFound("attempt")
}

func (s *Server) rawBinRequestPart(c echo.Context) error {
	ctx := c.Request().Context()
	b, err := s.binFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	id, _ := strconv.ParseInt(c.Param("request"), 10, 64)
	r, err := s.store.BinRequest(ctx, b.ID, id)
	if err != nil {
		return notFoundAs(err, "request")
	}
	name := fmt.Sprintf("%s-request-%d-%s.txt", b.ID, r.ID, c.Param("part"))
	switch c.Param("part") {
	case "headers":
		return sendRawText(c, name, headerText(r.Headers))
	case "body":
		return sendRawText(c, name, r.Body)
	}
	return errNotFound("request")
}
