package handlers

import (
	"context"
	"fmt"
	"time"

	"hookyard/store"
	"hookyard/views"
)

// percent formats a success rate, or says there was nothing to measure.
func percent(rate *float64) string {
	if rate == nil {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", *rate*100)
}

func millis(ms *float64) string {
	if ms == nil {
		return "—"
	}
	if *ms >= 1000 {
		return fmt.Sprintf("%.1f s", *ms/1000)
	}
	if *ms < 10 {
		return fmt.Sprintf("%.1f ms", *ms)
	}
	return fmt.Sprintf("%.0f ms", *ms)
}

// stateWords says how a webhook that is on is doing, for people; nothing for one that is
// switched off, which its page's notice tells. check is the health check that last switched
// it back on, if any.
func stateWords(w store.Webhook, check *store.HealthCheck, now time.Time) (string, string) {
	switch {
	case !w.Enabled:
		return "", ""
	case w.ConsecutiveFailures > 0:
		return fmt.Sprintf("On, but failing: the last %s failed. Hookyard keeps retrying.", plural(w.ConsecutiveFailures, "attempt")), "warn"
	case sinceHealthCheck(w, check):
		return fmt.Sprintf("Back on: the health check passed %s (HTTP %d). Nothing has been sent since.",
			views.AgoText(now, check.PassedAt), check.StatusCode), "ok"
	}
	return "On and working.", "ok"
}

// sinceHealthCheck reports whether the webhook's latest success is the health check that
// switched it back on: no delivery has succeeded since.
func sinceHealthCheck(w store.Webhook, check *store.HealthCheck) bool {
	return check != nil && w.LastSuccessAt != nil && !w.LastSuccessAt.After(check.PassedAt)
}

// healthPanel gathers the health section of a webhook page.
func (s *Server) healthPanel(ctx context.Context, w store.Webhook) (views.HealthPanel, error) {
	day, err := s.healthOf(ctx, w, 24*time.Hour)
	if err != nil {
		return views.HealthPanel{}, err
	}
	week, err := s.healthOf(ctx, w, 7*24*time.Hour)
	if err != nil {
		return views.HealthPanel{}, err
	}
	check, err := s.store.LastHealthCheck(ctx, w.ID)
	if err != nil {
		return views.HealthPanel{}, err
	}
	words, kind := stateWords(w, check, s.now())
	h := views.HealthPanel{
		StateWords: words, StateKind: kind, Rate24h: percent(day.SuccessRate24h), Rate7d: percent(week.SuccessRate24h),
		Attempts24h: day.Attempts24h, ConsecutiveFailures: w.ConsecutiveFailures,
		LastSuccess: whenOr(w.LastSuccessAt, "Never"), LastFailure: whenOr(w.LastFailureAt, "Never"),
		P50: millis(day.LatencyP50Ms), P95: millis(day.LatencyP95Ms),
	}
	if sinceHealthCheck(w, check) {
		h.LastSuccess += " (the health check)"
	}
	// The last error is news only while no success came after it.
	if w.LastFailureAt != nil && (w.LastSuccessAt == nil || w.LastFailureAt.After(*w.LastSuccessAt)) {
		h.LastError = w.LastError
	}
	hours, err := s.store.WebhookHours(ctx, w.ID, s.now().Add(-23*time.Hour))
	if err != nil {
		return h, err
	}
	h.Chart = hourlyChart(hours, s.now())
	return h, nil
}

func whenOr(t *time.Time, never string) string {
	if t == nil {
		return never
	}
	return t.UTC().Format("2 Jan 2006, 15:04:05 UTC")
}

// hourlyChart lays the last 24 hours out as bars, oldest first, with a sentence that says
// what the chart shows.
func hourlyChart(hours []store.HourStats, now time.Time) views.Chart {
	first := now.UTC().Truncate(time.Hour).Add(-23 * time.Hour)
	c := views.Chart{Bars: make([]views.ChartBar, 24)}
	for i := range c.Bars {
		c.Bars[i].Hour = first.Add(time.Duration(i) * time.Hour)
	}
	total, failed, busiest := 0, 0, -1
	for _, h := range hours {
		i := int(h.Hour.Sub(first) / time.Hour)
		if i < 0 || i >= 24 {
			continue
		}
		c.Bars[i].OK += h.Attempts - h.Failures
		c.Bars[i].Failed += h.Failures
		total += h.Attempts
		failed += h.Failures
	}
	for i, b := range c.Bars {
		if b.OK+b.Failed > 0 && (busiest < 0 || b.OK+b.Failed > c.Bars[busiest].OK+c.Bars[busiest].Failed) {
			busiest = i
		}
	}
	if total == 0 {
		c.Summary = "No attempts in the last 24 hours."
		return c
	}
	c.Summary = fmt.Sprintf("%s in the last 24 hours: %d succeeded, %d failed. Busiest hour: %s UTC with %d.",
		plural(total, "attempt"), total-failed, failed, c.Bars[busiest].Hour.Format("15:04"), c.Bars[busiest].OK+c.Bars[busiest].Failed)
	return c
}
