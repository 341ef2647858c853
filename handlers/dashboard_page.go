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

func (s *Server) dashboard(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	owner := u.ID
	if u.IsAdmin() {
		owner = "" // admins watch every webhook
	}
	hooks, err := allPages(func(p store.Page) ([]store.Webhook, string, error) {
		return s.store.ListWebhooks(ctx, store.WebhookFilter{OwnerID: owner}, p)
	})
	if err != nil {
		return err
	}
	d := views.DashboardPage{Page: s.page(c, "Dashboard", "dashboard"), HasWebhooks: len(hooks) > 0}
	for _, w := range hooks {
		switch {
		case !w.Enabled:
			d.Off++
			item, err := s.attentionItem(c, w)
			if err != nil {
				return err
			}
			d.Attention = append(d.Attention, item)
		case w.ConsecutiveFailures > 0:
			d.Failing++
		default:
			d.Healthy++
		}
	}
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
	if d.Notices, err = s.store.UnreadNotifications(ctx, u.ID); err != nil {
		return err
	}
	if u.IsAdmin() {
		if err := s.installationCounts(ctx, u, &d); err != nil {
			return err
		}
	}
	return s.render(c, http.StatusOK, views.Dashboard(d))
}

func (s *Server) installationCounts(ctx context.Context, u *store.User, d *views.DashboardPage) error {
	orgs, err := s.visibleOrganizations(ctx, u)
	if err != nil {
		return err
	}
	projects, err := s.visibleProjects(ctx, u, "")
	if err != nil {
		return err
	}
	d.Organizations, d.Projects = len(orgs), len(projects)
	d.Users, err = s.store.CountUsers(ctx)
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
	n, err := s.replayable(c.Request().Context(), w)
	return views.AttentionItem{Webhook: w, CSRF: csrfToken(c), Replayable: n}, err
}

func (s *Server) dismissNotification(c echo.Context) error {
	if err := s.store.MarkNotificationRead(c.Request().Context(), currentUser(c).ID, c.Param("id")); err != nil {
		return notFoundAs(err, "notice")
	}
	return c.Redirect(http.StatusSeeOther, "/")
}
