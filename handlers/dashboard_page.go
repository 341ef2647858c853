package handlers

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"hookyard/store"
	"hookyard/views"
)

// attentionLimit is how many switched-off webhooks the dashboard lists; the rest are a link.
const attentionLimit = 10

func (s *Server) dashboard(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	owner := u.ID
	if u.IsAdmin() {
		owner = "" // admins watch every webhook
	}
	states, err := s.store.CountWebhookStates(ctx, owner)
	if err != nil {
		return err
	}
	d := views.DashboardPage{Page: s.page(c, "Dashboard", "dashboard"), Healthy: states.Working, Failing: states.Failing, Off: states.Off}
	d.HasWebhooks = d.Healthy+d.Failing+d.Off > 0
	off, _, err := s.store.ListWebhooks(ctx, store.WebhookFilter{OwnerID: owner, State: "disabled"}, store.Page{Limit: attentionLimit})
	if err != nil {
		return err
	}
	for _, w := range off {
		item, err := s.attentionItem(c, w)
		if err != nil {
			return err
		}
		d.Attention = append(d.Attention, item)
	}
	d.AttentionMore = d.Off - len(d.Attention)
	hours, err := s.store.OwnerHours(ctx, owner, s.now().Add(-23*time.Hour))
	if err != nil {
		return err
	}
	lat := store.Histogram(make([]int64, len(store.LatencyBuckets)+1))
	var failures int
	for _, h := range hours {
		d.Attempts24h += h.Attempts
		failures += h.Failures
		lat.Merge(h.Latency)
	}
	d.Rate24h, d.P95 = "—", "—"
	if d.Attempts24h > 0 {
		rate := float64(d.Attempts24h-failures) / float64(d.Attempts24h)
		p95 := float64(lat.Quantile(0.95).Microseconds()) / 1000
		d.Rate24h, d.P95 = percent(&rate), millis(&p95)
	}
	pending, oldest, err := s.store.PendingStats(ctx, owner)
	if err != nil {
		return err
	}
	d.Pending = pending
	if oldest != nil {
		d.OldestDue = since(s.now().Sub(*oldest)) + " ago"
	}
	notices, err := s.store.UnreadNotifications(ctx, u.ID)
	if err != nil {
		return err
	}
	_, types, err := s.subscribableTypes(ctx)
	if err != nil {
		return err
	}
	for _, n := range notices {
		// A switch-off is told once, by Needs attention, for as long as the webhook is off
		// (the notice is closed when it is back on).
		if n.WebhookID == "" {
			n.Text = inWords(types, n.Text)
			d.Notices = append(d.Notices, n)
		}
	}
	if u.IsAdmin() {
		if err := s.installationCounts(ctx, &d); err != nil {
			return err
		}
	}
	return s.render(c, http.StatusOK, views.Dashboard(d))
}

// installationCounts fills in an admin's figures of the whole installation.
func (s *Server) installationCounts(ctx context.Context, d *views.DashboardPage) (err error) {
	if d.Organizations, err = s.store.CountOrganizations(ctx); err != nil {
		return err
	}
	if d.Projects, err = s.store.CountProjects(ctx); err != nil {
		return err
	}
	d.Users, err = s.store.CountUsers(ctx)
	d.Nodes = s.opts.Engine.Nodes()
	return err
}

// since says how long ago, roughly, for people.
func since(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return plural(int(d.Minutes()), "minute")
	case d < 48*time.Hour:
		return plural(int(d.Hours()), "hour")
	}
	return plural(int(d.Hours()/24), "day")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func (s *Server) attentionItem(c echo.Context, w store.Webhook) (views.AttentionItem, error) {
	ctx := c.Request().Context()
	_, types, err := s.subscribableTypes(ctx)
	if err != nil {
		return views.AttentionItem{}, err
	}
	w.DisabledReason = inWords(types, w.DisabledReason)
	n, err := s.replayable(ctx, w)
	return views.AttentionItem{Webhook: w, CSRF: csrfToken(c), Now: s.now(), Replayable: n}, err
}

func (s *Server) dismissNotification(c echo.Context) error {
	if err := s.store.MarkNotificationRead(c.Request().Context(), currentUser(c).ID, c.Param("id")); err != nil {
		return notFoundAs(err, "notice")
	}
	return c.Redirect(http.StatusSeeOther, "/")
}
