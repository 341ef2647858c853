package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"hookyard/store"
)

// replay sends events to a webhook again, each as a new delivery: with missedOnly, what it
// failed, had cancelled or missed since the given time; otherwise everything it received or
// missed since then.
func (s *Server) replay(ctx context.Context, w store.Webhook, since time.Time, missedOnly bool) (int, error) {
	if !w.Enabled {
		return 0, problem(http.StatusConflict, "The webhook is switched off. Turn it back on first; then replay.")
	}
	all, err := s.store.ReplayWork(ctx, w.ID, since, missedOnly)
	if err != nil || len(all) == 0 {
		return 0, err
	}
	var events []store.Event
	for _, ev := range all {
		ok, err := s.stillReceives(ctx, w, ev)
		if err != nil {
			return 0, err
		}
		if ok {
			events = append(events, ev)
		}
	}
	if len(events) == 0 {
		return 0, nil
	}
	ds := make([]store.Delivery, len(events))
	work := make([]store.PendingWork, len(events))
	ids := make([]string, len(events))
	for i, ev := range events {
		ds[i] = s.newDelivery(ev, w.ID)
		work[i] = store.PendingWork{Delivery: ds[i], Event: ev}
		ids[i] = ev.ID
	}
	if err := s.store.AddDeliveries(ctx, ds); err != nil {
		return 0, err
	}
	if err := s.store.ForgetMissed(ctx, w.ID, ids); err != nil {
		return 0, err
	}
	s.opts.Engine.Enqueue(work)
	return len(ds), nil
}

// missedSince is when a webhook's missed events start: its last switch-off.
func missedSince(w store.Webhook) time.Time {
	if w.LastDisabledAt != nil {
		return *w.LastDisabledAt
	}
	return w.CreatedAt
}

func (s *Server) apiReplay(c echo.Context) error {
	var b struct {
		Since *string `json:"since"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	fe := fieldErrors{}
	since, err := time.Parse(time.RFC3339, deref(b.Since))
	if err != nil {
		fe.add("since", "Give a time in RFC 3339 form, e.g. 2026-11-27T10:00:00Z.")
	}
	if err := validation(fe); err != nil {
		return err
	}
	ctx := c.Request().Context()
	w, err := s.webhookFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	n, err := s.replay(ctx, w, since, false)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]int{"replayed": n})
}
