package handlers

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"hookyard/delivery"
	"hookyard/store"
	"hookyard/views"
)

// A replay can send thousands of requests at once, so it says how many before it sends more
// than a few: the page asks above replayAskAbove, the API refuses above its maxEvents.
const (
	replayAskAbove   = 10
	replayDefaultMax = 1000
)

var errReplayOff = problem(http.StatusConflict, "The webhook is switched off. Turn it back on first; then replay.")

// replay sends events to a webhook again, each as a new delivery: with missedOnly, what it
// failed, had cancelled or missed since the given time; otherwise everything it received or
// missed since then.
func (s *Server) replay(ctx context.Context, w store.Webhook, since time.Time, missedOnly bool) (int, error) {
	if !w.Enabled {
		return 0, errReplayOff
	}
	keep, err := s.receivesFilter(ctx, w)
	if err != nil {
		return 0, err
	}
	work, err := s.store.Replay(ctx, w.ID, since, missedOnly, keep, func(ev store.Event) store.Delivery {
		return s.newDelivery(ev, w.ID)
	})
	if err != nil || len(work) == 0 {
		return 0, err
	}
	s.opts.Engine.Enqueue(work)
	return len(work), nil
}

// reenable sends a health check and, if it passes, switches the webhook back on and, when
// asked, replays what it missed while it was off.
func (s *Server) reenable(ctx context.Context, w store.Webhook, replayMissed bool) (store.Webhook, views.TestResult, int, error) {
	from := missedSince(w)
	w, res, err := s.enableWebhook(ctx, w)
	if err != nil || !res.OK || !replayMissed {
		return w, res, 0, err
	}
	n, err := s.replay(ctx, w, from, true)
	return w, res, n, err
}

// replayAtMost replays as replay does when that sends at most max events. Otherwise it sends
// nothing, and n is how many it would have sent. The count is taken just before the replay,
// so events arriving in between may add a few.
func (s *Server) replayAtMost(ctx context.Context, w store.Webhook, since time.Time, missedOnly bool, max int) (n int, sent bool, err error) {
	if !w.Enabled {
		return 0, false, errReplayOff
	}
	if n, err = s.replayCount(ctx, w, since, missedOnly); err != nil || n > max {
		return n, false, err
	}
	n, err = s.replay(ctx, w, since, missedOnly)
	return n, err == nil, err
}

// replayCount counts what a replay would send now, filtered as the replay filters.
func (s *Server) replayCount(ctx context.Context, w store.Webhook, since time.Time, missedOnly bool) (int, error) {
	keep, err := s.receivesFilter(ctx, w)
	if err != nil {
		return 0, err
	}
	events, err := s.store.ReplayWork(ctx, w.ID, since, missedOnly)
	n := 0
	for _, ev := range events {
		if keep(ev) {
			n++
		}
	}
	return n, err
}

// replayable counts what "Replay missed" would send now. A webhook never switched off has
// missed nothing.
func (s *Server) replayable(ctx context.Context, w store.Webhook) (int, error) {
	if w.LastDisabledAt == nil {
		return 0, nil
	}
	return s.replayCount(ctx, w, missedSince(w), true)
}

// receivesFilter reports, for any event, whether w would receive it today.
func (s *Server) receivesFilter(ctx context.Context, w store.Webhook) (func(store.Event) bool, error) {
	_, access, err := s.ownerAccess(ctx, w)
	if err != nil {
		return nil, err
	}
	w.Enabled = true // replays happen once it is back on
	filter := delivery.FilterOf(w)
	return func(ev store.Event) bool {
		return delivery.Match(w, filter, access, delivery.StoredRef(ev)) == delivery.Receives
	}, nil
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
		Since     *string `json:"since"`
		MaxEvents *int    `json:"maxEvents"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	fe := fieldErrors{}
	since, err := time.Parse(time.RFC3339, deref(b.Since))
	if err != nil {
		fe.add("since", "Give a time in RFC 3339 form, e.g. 2026-11-27T10:00:00Z.")
	}
	maxEvents := replayDefaultMax
	if b.MaxEvents != nil {
		maxEvents = *b.MaxEvents
		if maxEvents < 1 {
			fe.add("maxEvents", "Give the most events this replay may send, a whole number of at least 1.")
		}
	}
	if err := validation(fe); err != nil {
		return err
	}
	ctx := c.Request().Context()
	w, err := s.webhookFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	n, sent, err := s.replayAtMost(ctx, w, since, false, maxEvents)
	if err != nil {
		return err
	}
	if !sent {
		p := problem(http.StatusConflict, fmt.Sprintf("This replay would send %d events to %s, more than maxEvents (%d); nothing was sent. "+
			"Send it again with \"maxEvents\": %d to send them all, or choose a later since.", n, w.URL, maxEvents, n))
		p.Type, p.Title, p.Count, p.MaxEvents = "urn:hookyard:replay-too-large", "Too many events to replay", n, maxEvents
		return p
	}
	return c.JSON(http.StatusAccepted, map[string]int{"replayed": n})
}
